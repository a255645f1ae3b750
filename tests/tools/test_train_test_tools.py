"""tools/train.py and tools/test.py end to end on the tiny config."""
import os.path as osp

import pytest
import torch

import sgdc_mmseg  # noqa: F401  (allow-lists mmengine checkpoint globals)
from helpers import REPO_ROOT, run_tool

TRAIN = osp.join(REPO_ROOT, 'tools', 'train.py')
TEST = osp.join(REPO_ROOT, 'tools', 'test.py')


def test_train_then_test_then_resume(tmp_path, tiny_config):
    cfg_path = tiny_config(max_iters=2, checkpoint_interval=2,
                           val_interval=1000)
    work_dir = tmp_path / 'work'
    proc = run_tool([TRAIN, cfg_path, '--work-dir', str(work_dir)],
                    cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-5000:]
    ckpt_path = work_dir / 'iter_2.pth'
    assert ckpt_path.is_file()
    ckpt = torch.load(str(ckpt_path), weights_only=True)
    assert 'rng_state' in ckpt  # RNGStateHook was added by train.py
    assert 'RNGStateHook' in proc.stdout

    out_dir = tmp_path / 'pred'
    proc = run_tool([TEST, cfg_path, str(ckpt_path), '--work-dir',
                     str(tmp_path / 'test_work'), '--out', str(out_dir)],
                    cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert 'mIoU' in proc.stdout and 'Iter(test) [8/8]' in proc.stdout
    assert len(list((out_dir / 'pred').glob('*.png'))) == 8

    # --resume PATH continues from the given checkpoint
    proc = run_tool([TRAIN, cfg_path, '--work-dir', str(tmp_path / 'res'),
                     '--resume', str(ckpt_path), '--cfg-options',
                     'train_cfg.max_iters=3'], cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert 'resumed epoch: 0, iter: 2' in proc.stdout
    assert 'restored random states at iter 2' in proc.stdout
    assert (tmp_path / 'res' / 'iter_3.pth').is_file() or \
        'Saving checkpoint at 3' in proc.stdout


def test_test_tool_missing_checkpoint(tmp_path, tiny_config):
    cfg_path = tiny_config()
    proc = run_tool([TEST, cfg_path, str(tmp_path / 'nope.pth')],
                    cwd=str(tmp_path))
    assert proc.returncode != 0
    assert 'nope.pth' in proc.stdout and 'not found' in proc.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason='CUDA is available')
def test_amp_without_gpu_exits_with_message(tmp_path, tiny_config):
    cfg_path = tiny_config()
    proc = run_tool([TRAIN, cfg_path, '--amp', '--work-dir',
                     str(tmp_path / 'w')], cwd=str(tmp_path))
    assert proc.returncode != 0
    assert '--amp needs a GPU' in proc.stdout
    assert 'AmpOptimWrapper' in proc.stdout
    assert 'Traceback' not in proc.stdout


TTA = '''
tta_model = dict(type='SegTTAModel')
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug', transforms=[
        [dict(type='RandomFlip', prob=0., direction='horizontal'),
         dict(type='RandomFlip', prob=1., direction='horizontal')],
        [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]])]
'''


def _shape_mismatched(good, path):
    """``good`` with the classifier of 3 classes instead of 2."""
    ckpt = torch.load(good, weights_only=True)
    ckpt['state_dict']['decode_head.conv_seg.weight'] = torch.zeros(3, 8, 1,
                                                                   1)
    torch.save(ckpt, str(path))
    return str(path)


def test_test_tool_refuses_checkpoints_that_do_not_fit(tmp_path,
                                                       tiny_config):
    from helpers import save_random_checkpoint
    cfg_path = tiny_config(extra=TTA)
    other = str(tmp_path / 'other.pth')
    torch.save({'foo.weight': torch.zeros(3)}, other)
    out = tmp_path / 'out'
    proc = run_tool([TEST, cfg_path, other, '--work-dir',
                     str(tmp_path / 'w'), '--out', str(out)],
                    cwd=str(tmp_path))
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert f'error: checkpoint "{other}" does not fit the model: 1 ' \
        'unexpected key (foo.weight), 142 missing keys ' \
        '(backbone.stem.0.weight, ' in proc.stdout, proc.stdout[-3000:]
    assert '--non-strict loads it anyway' in proc.stdout
    assert 'Traceback' not in proc.stdout
    assert 'Iter(test)' not in proc.stdout  # nothing was evaluated
    assert not (out / 'summary.json').exists()

    # --tta: the TTA model's segmentor is checked the same way
    good = save_random_checkpoint(cfg_path, tmp_path / 'good.pth')
    shape = _shape_mismatched(good, tmp_path / 'shape.pth')
    proc = run_tool([TEST, cfg_path, shape, '--tta', '--work-dir',
                     str(tmp_path / 'w')], cwd=str(tmp_path))
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert f'error: checkpoint "{shape}" does not fit the model: 1 shape ' \
        'mismatch (decode_head.conv_seg.weight: checkpoint 3x8x1x1, model ' \
        '2x8x1x1)' in proc.stdout, proc.stdout[-3000:]
    assert 'Iter(test)' not in proc.stdout

    # --non-strict: tested with what fits, loudly
    proc = run_tool([TEST, cfg_path, shape, '--non-strict', '--work-dir',
                     str(tmp_path / 'w'), '--out', str(out)],
                    cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert f'WARNING - checkpoint "{shape}" does not fit the model: 1 shape ' \
        'mismatch' in proc.stdout
    assert '0 missing, 0 unexpected, 1 shape-mismatched, from ' \
        f'{shape}' in proc.stdout
    assert 'Iter(test) [8/8]' in proc.stdout
    assert (out / 'summary.json').is_file()


def test_train_load_from_logs_a_summary(tmp_path, tiny_config):
    from helpers import save_random_checkpoint
    cfg_path = tiny_config(max_iters=1, checkpoint_interval=1)
    good = save_random_checkpoint(cfg_path, tmp_path / 'good.pth')
    shape = _shape_mismatched(good, tmp_path / 'shape.pth')
    n = len(torch.load(good, weights_only=True)['state_dict']) - 1
    work_dir = tmp_path / 'work'
    proc = run_tool([TRAIN, cfg_path, '--work-dir', str(work_dir),
                     '--cfg-options', f'load_from={shape}'],
                    cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-5000:]  # fine-tuning allowed
    line = (f'{n} tensors loaded, 0 missing, 0 unexpected, 1 '
            f'shape-mismatched, from {shape}')
    assert line in proc.stdout
    logs = list(work_dir.glob('*/*.log'))
    assert len(logs) == 1 and line in logs[0].read_text()
    assert (work_dir / 'iter_1.pth').is_file()
