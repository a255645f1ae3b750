"""Reading data-sample pixel fields in every form a metric may get them."""
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData

from sgdc_mmseg.evaluation.metrics._samples import (check_same_shape,
                                                     image_name, pixel_field,
                                                     sigmoid, softmax,
                                                     to_numpy)


def test_forms_of_a_pixel_field():
    data = torch.arange(6).reshape(1, 2, 3)
    for value in (dict(data=data), PixelData(data=data), data,
                  data.numpy(), data[0].numpy()):
        out = pixel_field(dict(m=value), 'm', 'M')
        assert out.shape == (2, 3) and out[1, 2] == 5
    assert pixel_field(dict(m=data), 'm', 'M', channels=True).shape == \
        (1, 2, 3)
    assert pixel_field(dict(m=data[0]), 'm', 'M', channels=True).shape == \
        (1, 2, 3)
    assert pixel_field({}, 'm', 'M', required=False) is None
    assert pixel_field(dict(m=None), 'm', 'M', required=False) is None


def test_errors_name_the_metric_image_and_key():
    with pytest.raises(KeyError, match="M: sample '/a/b.png' has no 'm'; "
                       'load it'):
        pixel_field(dict(img_path='/a/b.png'), 'm', 'M', hint='load it')
    with pytest.raises(ValueError, match=r"'m' of '/a/b.png' must be one 2-D "
                       r'map, got shape \(2, 2, 3\)'):
        pixel_field(dict(img_path='/a/b.png', m=np.zeros((2, 2, 3))), 'm',
                    'M')
    with pytest.raises(KeyError, match='no "data"'):
        to_numpy(dict(values=1))
    with pytest.raises(ValueError, match=r"'/a/b.png' differ in size: a "
                       r'\(2, 2\), b \(2, 3\)'):
        check_same_shape('M', dict(img_path='/a/b.png'), a=np.zeros((2, 2)),
                         b=np.zeros((1, 2, 3)), c=None)


def test_names_and_activations():
    assert image_name('/x/y/img_01.png', 3) == 'img_01'
    assert image_name(None, 3) == '3'
    x = np.array([-800.0, -1.0, 0.0, 2.0, 800.0])
    assert np.allclose(sigmoid(x), [0, 1 / (1 + np.e), 0.5,
                                    1 / (1 + np.exp(-2)), 1])
    assert np.all(np.isfinite(sigmoid(x)))
    p = softmax(np.array([[1000.0, 0.0], [1000.0, np.log(3)]]), axis=0)
    assert np.allclose(p[:, 1], [0.25, 0.75]) and np.allclose(p[:, 0], 0.5)
