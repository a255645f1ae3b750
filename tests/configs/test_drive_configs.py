"""The DRIVE configs end to end: a fake official download converted by
the DRIVE converter, two training iterations of the 2-CPU
SGDC UNet config with tools/train.py (slide validation inside the field of
view), then tools/test.py on its checkpoint; and the two protocols."""
import glob
import os.path as osp
import sys

from mmengine.config import Config

from sgdc_mmseg.datasets.converters import drive

from helpers import REPO_ROOT, run_tool

sys.path.insert(0, osp.join(REPO_ROOT, 'tests', 'datasets'))
from converters.drive_archives import make_drive  # noqa: E402

SGDC = osp.join(REPO_ROOT, 'configs', 'sgdc')
CPU_CONFIG = osp.join(SGDC, 'sgdc_unet-s5-d16-w16_1xb16-600_drive-64x64.py')


def test_the_two_protocols():
    names = sorted(osp.basename(p)
                   for p in glob.glob(osp.join(SGDC, '*drive*.py')))
    gpu = [n for n in names if '_1xb16-40k_' in n]
    cpu = [n for n in names if '_1xb16-600_' in n]
    assert len(gpu) == len(cpu) == 7 and len(names) == 14
    for name in names:
        cfg = Config.fromfile(osp.join(SGDC, name))
        assert cfg.model.test_cfg.mode == 'slide'
        assert tuple(cfg.model.test_cfg.crop_size) == (64, 64)
        assert tuple(cfg.model.test_cfg.stride) == (42, 42)
        assert cfg.train_dataloader.batch_size == 16
        assert cfg.train_cfg.max_iters == (40000 if name in gpu else 600)
        assert cfg.train_dataloader.dataset.ann_file == (
            'splits/train.txt' if name in gpu else 'splits/fold0_train.txt')
    for family in ('sgdc', 'sgdc-pool', 'sgdc-self'):
        for backbone in ('unet-s5-d16', 'r50'):
            assert f'{family}_{backbone}_1xb16-40k_drive-64x64.py' in gpu
        for backbone in ('unet-s5-d16-w16', 'r18-half'):
            assert f'{family}_{backbone}_1xb16-600_drive-64x64.py' in cpu
    assert 'fcn_unet-s5-d16_1xb16-40k_drive-64x64.py' in gpu
    assert 'fcn_unet-s5-d16-w16_1xb16-600_drive-64x64.py' in cpu


def test_convert_train_and_test_on_a_fake_download(tmp_path):
    source, data = str(tmp_path / 'src'), str(tmp_path / 'drive')
    make_drive(source, 'split-zips')
    drive.convert(source, data)
    work = tmp_path / 'work'
    opts = ['train_dataloader.batch_size=2',
            'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
            'default_hooks.checkpoint.interval=2',
            'default_hooks.logger.interval=1',
            'param_scheduler.0.end=1', 'param_scheduler.1.begin=1',
            'param_scheduler.1.end=2']
    for loader in ('train', 'val', 'test'):
        opts += [f'{loader}_dataloader.dataset.data_root={data}',
                 f'{loader}_dataloader.num_workers=0',
                 f'{loader}_dataloader.persistent_workers=False']
    proc = run_tool(['tools/train.py', CPU_CONFIG, '--work-dir', str(work),
                     '--cfg-options', *opts])
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'Iter(train) [2/2]' in proc.stdout
    assert 'Iter(val) [1/1]' in proc.stdout  # fold 0: one of 5 images
    assert '|   vessel   |' in proc.stdout and 'medical/mDice' in proc.stdout
    # the field's metrics, inside the field of view (VesselMetric)
    assert 'vessel/AUC' in proc.stdout and 'vessel/clDice' in proc.stdout
    ckpt = work / 'iter_2.pth'
    assert ckpt.is_file()
    proc = run_tool(['tools/test.py', CPU_CONFIG, str(ckpt), '--work-dir',
                     str(tmp_path / 'test'), '--cfg-options', *opts])
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert '|   vessel   |' in proc.stdout
