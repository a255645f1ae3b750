"""sgdc_mmseg.apis.predict (tools/infer.py): --save-probs files at the
original size, --ensemble (the mean of the single models' probabilities),
--tta (the mean over the image and its flips), --postprocess, and the
refusal of an ensemble checkpoint of another model (named)."""
import json

import cv2
import numpy as np
import pytest
import torch

import sgdc_mmseg  # noqa: F401
from helpers import save_random_checkpoint
from sgdc_mmseg.apis.predict import (PredictionRunError, PredictOptions,
                                     predict_images)


@pytest.fixture(scope='module')
def setup(tmp_path_factory, tiny_data_root):
    from helpers import write_tiny_config
    tmp = tmp_path_factory.mktemp('predict')
    cfg = write_tiny_config(str(tmp / 'cfg.py'), tiny_data_root)
    rng = np.random.RandomState(0)
    images = tmp / 'images'
    images.mkdir()
    img = rng.randint(0, 256, (24, 40, 3), dtype=np.uint8)  # not 32x32
    cv2.imwrite(str(images / 'a.png'), img)
    flips = tmp / 'flips'  # the flipped views, for the hand computation
    flips.mkdir()
    cv2.imwrite(str(flips / 'h.png'), img[:, ::-1])
    cv2.imwrite(str(flips / 'v.png'), img[::-1])
    return dict(tmp=tmp, cfg=cfg, images=str(images), flips=str(flips),
                a=save_random_checkpoint(cfg, tmp / 'a.pth', seed=0),
                b=save_random_checkpoint(cfg, tmp / 'b.pth', seed=1))


def _run(setup, out, inputs=None, **kwargs):
    options = PredictOptions(config=setup['cfg'],
                             checkpoint=kwargs.pop('checkpoint', setup['a']),
                             inputs=[inputs or setup['images']],
                             out_dir=str(setup['tmp'] / out),
                             device='cpu', no_progress=True,
                             save_probs=True, **kwargs)
    assert predict_images(options, log=lambda m: None) == []
    return setup['tmp'] / out


def _probs(folder, stem='a'):
    with np.load(folder / 'probs' / f'{stem}.npz') as data:
        assert data.files == ['probs']
        return data['probs']


def test_probs_at_the_original_size_sum_to_one(setup):
    out = _run(setup, 'single')
    probs = _probs(out)
    assert probs.dtype == np.float16 and probs.shape == (2, 24, 40)
    assert np.abs(probs.astype(np.float32).sum(0) - 1).max() < 3e-3
    mask = cv2.imread(str(out / 'masks' / 'a.png'), cv2.IMREAD_UNCHANGED)
    assert mask.shape == (24, 40)
    agree = (probs.argmax(0) == mask).mean()
    assert agree > 0.99, agree  # float16 rounding may flip exact ties only
    record = json.loads((out / '.sgdc_outputs.json').read_text())
    assert 'probs/a.npz' in record['files']


def test_ensemble_is_the_mean_of_the_single_models(setup):
    pa = _probs(_run(setup, 'a_only')).astype(np.float32)
    pb = _probs(_run(setup, 'b_only', checkpoint=setup['b'])).astype(
        np.float32)
    pab = _probs(_run(setup, 'ab', ensemble=[setup['b']])).astype(np.float32)
    assert np.abs(pa - pb).max() > 0.05  # two different models
    assert np.abs(pab - (pa + pb) / 2).max() < 2e-3


def test_tta_is_the_mean_over_the_flips(setup):
    plain = _probs(_run(setup, 'plain')).astype(np.float32)
    flips = _run(setup, 'flipped', inputs=setup['flips'])
    h = _probs(flips, 'h').astype(np.float32)[:, :, ::-1]
    v = _probs(flips, 'v').astype(np.float32)[:, ::-1]
    tta = _probs(_run(setup, 'tta', tta=True)).astype(np.float32)
    assert np.abs(tta - (plain + h + v) / 3).max() < 5e-3
    assert np.abs(tta - plain).max() > 1e-2  # the views do differ


def test_postprocess_changes_masks_not_probabilities(setup):
    spec = dict(version=1, num_classes=2, per_class={'1': dict(  # all
        operation='remove_small_components', min_size=24 * 40 + 1)})
    path = setup['tmp'] / 'keep.json'
    path.write_text(json.dumps(spec))
    plain = _run(setup, 'no_pp')
    post = _run(setup, 'pp', postprocess=str(path))
    assert np.array_equal(_probs(plain), _probs(post))
    m0 = cv2.imread(str(plain / 'masks' / 'a.png'), cv2.IMREAD_UNCHANGED)
    m1 = cv2.imread(str(post / 'masks' / 'a.png'), cv2.IMREAD_UNCHANGED)
    from sgdc_mmseg.evaluation.functional.postprocess import \
        apply_postprocessing
    assert m0.any() and not m1.any()  # every lesion pixel removed
    assert np.array_equal(m1, apply_postprocessing(m0, spec))


def test_ensemble_checkpoint_of_another_model_is_named(setup, tmp_path):
    bad = tmp_path / 'unet.pth'
    torch.save(dict(state_dict={'backbone.other.weight': torch.zeros(1)}),
               str(bad))
    options = PredictOptions(config=setup['cfg'], checkpoint=setup['a'],
                             inputs=[setup['images']], ensemble=[str(bad)],
                             out_dir=str(tmp_path / 'out'), device='cpu')
    with pytest.raises(PredictionRunError,
                       match=f'checkpoint "{bad}" does not fit the model: 1 '
                       r'unexpected key \(backbone.other.weight\)'):
        predict_images(options, log=lambda m: None)
    missing = str(tmp_path / 'nope.pth')
    options.ensemble = [missing]
    with pytest.raises(PredictionRunError, match=f'--ensemble checkpoint '
                       f'"{missing}" not found'):
        predict_images(options, log=lambda m: None)
