"""sgdc_mmseg.engine.launch: the Runner's checkpoint loading (strict for
testing, summarised for training) on the tiny config."""
import os

import pytest
import torch
from mmengine.hooks import Hook

import sgdc_mmseg  # noqa: F401
from helpers import save_random_checkpoint
from sgdc_mmseg.engine.launch import build_runner, load_config
from sgdc_mmseg.engine.weights import CheckpointMismatchError

TTA = '''
tta_model = dict(type='SegTTAModel')
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug', transforms=[
        [dict(type='RandomFlip', prob=0., direction='horizontal'),
         dict(type='RandomFlip', prob=1., direction='horizontal')],
        [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]])]
'''
CONV_SEG = 'decode_head.conv_seg.weight'


class _CountIters(Hook):
    def __init__(self):
        self.iters = 0

    def before_test_iter(self, runner, batch_idx, data_batch=None):
        self.iters += 1


def _checkpoints(cfg_path, tmp_path):
    """A fitting checkpoint, one with missing keys, one with a shape
    mismatch (paths)."""
    good = save_random_checkpoint(cfg_path, tmp_path / 'good.pth')
    ckpt = torch.load(good, weights_only=True)
    missing = dict(ckpt, state_dict={
        k: v for k, v in ckpt['state_dict'].items()
        if not k.startswith('decode_head.')})
    torch.save(missing, str(tmp_path / 'missing.pth'))
    shape = dict(ckpt, state_dict=dict(ckpt['state_dict']))
    shape['state_dict'][CONV_SEG] = torch.zeros(3, 8, 1, 1)
    torch.save(shape, str(tmp_path / 'shape.pth'))
    return good, str(tmp_path / 'missing.pth'), str(tmp_path / 'shape.pth')


def _runner(cfg_path, tmp_path, name, load_from, strict_load, tta=False,
            **options):
    cfg = load_config(cfg_path, work_dir=str(tmp_path / name))
    cfg.experiment_name = name
    cfg.load_from = load_from
    cfg.merge_from_dict(options)
    if tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    return build_runner(cfg, strict_load=strict_load)


@pytest.fixture
def setup(tmp_path, tiny_config):
    cfg_path = tiny_config(extra=TTA)
    return cfg_path, _checkpoints(cfg_path, tmp_path)


def test_strict_test_refuses_checkpoints_that_do_not_fit(setup, tmp_path):
    cfg_path, (good, missing, shape) = setup
    for i, (path, tta, what) in enumerate([
            (missing, False, 'missing keys (decode_head.'),
            (shape, False, f'1 shape mismatch ({CONV_SEG}: checkpoint '
             '3x8x1x1, model 2x8x1x1)'),
            (missing, True, 'missing keys (decode_head.')]):
        runner = _runner(cfg_path, tmp_path, f'strict{i}', path, True, tta)
        counter = _CountIters()
        runner.register_hook(counter)
        before = {k: v.clone() for k, v in runner.model.state_dict().items()}
        with pytest.raises(CheckpointMismatchError) as info:
            runner.test()
        assert str(info.value).startswith(
            f'checkpoint "{path}" does not fit the model: '), info.value
        assert what in str(info.value)
        assert counter.iters == 0  # raised before the first test batch
        for key, value in runner.model.state_dict().items():
            assert torch.equal(value, before[key]), key  # nothing copied


def test_strict_test_loads_a_fitting_checkpoint(setup, tmp_path):
    cfg_path, (good, _, _) = setup
    expected = torch.load(good, weights_only=True)['state_dict']
    for tta in (False, True):
        runner = _runner(cfg_path, tmp_path, f'good{tta}', good, True, tta)
        metrics = runner.test()
        assert 'mIoU' in metrics
        model = runner.model.module if tta else runner.model
        for key, value in expected.items():
            assert torch.equal(model.state_dict()[key], value), key


def test_non_strict_test_loads_what_fits_and_warns(setup, tmp_path, capfd):
    cfg_path, (good, _, shape) = setup
    runner = _runner(cfg_path, tmp_path, 'nonstrict', shape, False)
    before = runner.model.decode_head.conv_seg.weight.detach().clone()
    assert 'mIoU' in runner.test()
    out = capfd.readouterr().out
    assert f'WARNING - checkpoint "{shape}" does not fit the model: 1 shape ' \
        f'mismatch ({CONV_SEG}' in out
    assert 'non-strict loading' in out
    n = len(torch.load(good, weights_only=True)['state_dict']) - 1
    assert f'{n} tensors loaded, 0 missing, 0 unexpected, 1 ' \
        f'shape-mismatched, from {shape}' in out
    assert torch.equal(runner.model.decode_head.conv_seg.weight, before)
    stem = torch.load(good, weights_only=True)['state_dict'][
        'backbone.stem.0.weight']
    assert torch.equal(runner.model.backbone.stem[0].weight, stem)


def test_training_load_from_logs_a_summary(setup, tmp_path):
    cfg_path, (_, missing, _) = setup
    runner = _runner(cfg_path, tmp_path, 'train', missing, False,
                     **{'train_cfg.max_iters': 1})
    runner.train()
    ckpt = torch.load(missing, weights_only=True)['state_dict']
    n_missing = sum(1 for k in runner.model.state_dict()
                    if k.startswith('decode_head.')
                    and not k.endswith('num_batches_tracked'))
    line = (f'{len(ckpt)} tensors loaded, {n_missing} missing, 0 unexpected, '
            f'0 shape-mismatched, from {missing}')
    log = open(runner.logger.log_file).read()
    assert line in log
    assert 'missing keys (decode_head.' in log  # the warning names them


def test_config_type_name():
    from sgdc_mmseg.engine.launch import config_type_name
    from sgdc_mmseg.engine.hooks import RNGStateHook
    assert config_type_name(dict(type='mmseg.LoadAnnotations')) == \
        'LoadAnnotations'
    assert config_type_name(dict(type=RNGStateHook)) == 'RNGStateHook'
    assert config_type_name(RNGStateHook()) == 'RNGStateHook'
    assert config_type_name('Resize') == 'Resize'
    assert config_type_name(dict(scale=2)) == ''


def test_export_local_rank_keeps_the_launchers(monkeypatch):
    from sgdc_mmseg.engine.launch import export_local_rank
    monkeypatch.setenv('LOCAL_RANK', '5')
    export_local_rank(2)
    assert os.environ['LOCAL_RANK'] == '5'  # torchrun's wins
    monkeypatch.delenv('LOCAL_RANK')
    export_local_rank(2)
    assert os.environ['LOCAL_RANK'] == '2'
