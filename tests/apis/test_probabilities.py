"""sgdc_mmseg.apis.probabilities: probabilities from mmseg's seg_logits,
the .npz files (float16, shape, sums) and label maps from them."""
import numpy as np
import pytest
import torch
from mmengine.config import Config

from sgdc_mmseg.apis import probabilities as pr


def test_probabilities_from_softmax_and_sigmoid_logits():
    logits = torch.tensor([[[0.0, 2.0]], [[1.0, -1.0]]])  # C=2, 1x2
    probs = pr.probabilities_from_logits(logits)
    expected = torch.tensor([[[1 / (1 + np.e), 1 / (1 + np.exp(-3))]],
                             [[np.e / (1 + np.e), np.exp(-3) /
                               (1 + np.exp(-3))]]], dtype=torch.float32)
    assert torch.allclose(probs, expected)
    # one channel: mmseg stores the sigmoid probability itself
    p = torch.tensor([[[0.25, 0.9]]])
    assert torch.allclose(pr.probabilities_from_logits(p),
                          torch.tensor([[[0.75, 0.1]], [[0.25, 0.9]]]))


def test_save_and_load_float16_with_checks(tmp_path):
    probs = torch.rand(3, 5, 7)
    probs = probs / probs.sum(0, keepdim=True)
    path = tmp_path / 'probs' / 'img.npz'
    path.parent.mkdir()
    pr.save_probs(str(path), probs)
    with np.load(str(path)) as data:
        assert data.files == ['probs']
        assert data['probs'].dtype == np.float16
    loaded = pr.load_probs(str(path), num_classes=3, shape=(5, 7))
    assert loaded.shape == (3, 5, 7) and loaded.dtype == np.float16
    assert np.allclose(loaded, probs.numpy(), atol=1e-3)
    assert np.abs(loaded.astype(np.float32).sum(0) - 1).max() <= \
        pr.sum_tolerance(3)
    with pytest.raises(ValueError, match=f'{path}: "probs" has shape '
                       r'\(3, 5, 7\): size \(5, 7\), the image \(ground '
                       r'truth\) is \(6, 7\)'):
        pr.load_probs(str(path), shape=(6, 7))
    with pytest.raises(ValueError, match=f'{path}: .* 3 classes, expected '
                       '2'):
        pr.load_probs(str(path), num_classes=2)


@pytest.mark.parametrize('content,message', [
    (dict(other=np.zeros((2, 2, 2), np.float16)), 'no "probs" array'),
    (dict(probs=np.full((2, 2, 2), 0.5, np.float32)),
     '"probs" is float32, expected float16'),
    (dict(probs=np.full((2, 2), 0.5, np.float16)),
     r'"probs" has shape \(2, 2\), expected \(num_classes, H, W\)'),
    (dict(probs=np.full((2, 2, 2), 0.7, np.float16)),
     r'the class probabilities do not sum to 1 \(largest error 0.4\)'),
])
def test_malformed_files_are_named(tmp_path, content, message):
    path = tmp_path / 'x.npz'
    np.savez(str(path), **content)
    with pytest.raises(ValueError, match=f'{path}: {message}'):
        pr.load_probs(str(path))
    path.write_bytes(b'not a zip')
    with pytest.raises(ValueError, match=f'{path} is not a readable .npz'):
        pr.load_probs(str(path))
    np.save(str(tmp_path / 'y.npy'), np.zeros(3))  # an .npy named .npz
    (tmp_path / 'y.npy').rename(path)
    with pytest.raises(ValueError, match='holds one .npy array'):
        pr.load_probs(str(path))


def test_label_from_probs_and_threshold_of_the_config():
    probs = np.array([[[0.6, 0.2]], [[0.4, 0.8]]], np.float16)
    assert pr.label_from_probs(probs).tolist() == [[0, 1]]
    assert pr.label_from_probs(probs, threshold=0.3).tolist() == [[1, 1]]
    softmax = Config(dict(model=dict(decode_head=dict(num_classes=2))))
    assert pr.decode_threshold(softmax) is None
    sigmoid = Config(dict(model=dict(decode_head=dict(
        num_classes=2, out_channels=1))))
    assert pr.decode_threshold(sigmoid) == pr.MMSEG_DEFAULT_THRESHOLD
    cascade = Config(dict(model=dict(decode_head=[
        dict(out_channels=2), dict(out_channels=1, threshold=0.6)])))
    assert pr.decode_threshold(cascade) == 0.6
