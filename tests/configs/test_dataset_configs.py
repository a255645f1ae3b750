"""The medical dataset base configs (configs/_base_/datasets/{isic2016,
isic2018,ph2,conic}.py) build their dataloaders' datasets on tiny fake
converted folders and run their pipelines; the ISIC 2016 SGDC config trains
two iterations on such a folder."""
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

import sgdc_mmseg  # noqa: F401
from mmseg.registry import DATASETS, METRICS

from helpers import REPO_ROOT, run_tool

H, W = 16, 20
BASES = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets')
# base -> (dataset type, default data_root, classes, {loader: split})
PROTOCOLS = {
    'isic2016': ('ISIC2016Dataset', 'data/isic2016', 2,
                 dict(train='train', val='test', test='test')),
    'isic2018': ('ISIC2018Dataset', 'data/isic2018', 2,
                 dict(train='train', val='val', test='test')),
    'ph2': ('PH2Dataset', 'data/ph2', 2, dict(val='all', test='all')),
    'conic': ('CoNICDataset', 'data/conic', 7,
              dict(train='fold0_train', val='fold0_val',
                   test='fold0_val')),
}
NAMES = {'train': ['s0', 's1', 's2'], 'val': ['s3'], 'test': ['s4', 's5'],
         'all': ['s0', 's1', 's2', 's3'], 'fold0_train': ['s0', 's2'],
         'fold0_val': ['s1', 's3']}


def _mask(i, num_classes):
    mask = np.zeros((H, W), np.uint8)
    mask[2:10, 3:3 + 2 * (i + 1)] = 1 + i % (num_classes - 1)
    return mask


def _converted(root, num_classes):
    """A fake converter output: 6 samples (.jpg and .png images), masks,
    every split file the base configs read."""
    for sub in ('images', 'masks', 'splits'):
        (root / sub).mkdir(parents=True)
    for i in range(6):
        suffix = '.jpg' if i % 2 else '.png'
        img = np.random.default_rng(i).integers(0, 256, (H, W, 3), np.uint8)
        cv2.imwrite(str(root / 'images' / f's{i}{suffix}'), img)
        cv2.imwrite(str(root / 'masks' / f's{i}.png'), _mask(i, num_classes))
    for split, names in NAMES.items():
        (root / 'splits' / f'{split}.txt').write_text('\n'.join(names) +
                                                      '\n')
    return root


def _cfg(base):
    return Config.fromfile(osp.join(BASES, f'{base}.py'))


def _types(pipeline):
    return [t['type'] for t in pipeline]


@pytest.mark.parametrize('base', sorted(PROTOCOLS))
def test_base_config_contents(base):
    dataset_type, data_root, _, splits = PROTOCOLS[base]
    cfg = _cfg(base)
    assert cfg.dataset_type == dataset_type and cfg.data_root == data_root
    assert _types(cfg.train_pipeline) == [
        'LoadImageFromFile', 'LoadAnnotations', 'Resize', 'RandomFlip',
        'PhotoMetricDistortion', 'PackSegInputs']
    # LoadAnnotations after Resize: metrics at the original resolution
    assert _types(cfg.test_pipeline) == [
        'LoadImageFromFile', 'Resize', 'LoadAnnotations', 'PackSegInputs']
    for resize in (cfg.train_pipeline[2], cfg.test_pipeline[1]):
        assert resize.scale == (256, 256) and resize.keep_ratio is False
    for loader in ('train', 'val', 'test'):
        key = f'{loader}_dataloader'
        if loader not in splits:  # PH2: an external test set
            assert cfg.get(key) is None
            continue
        ds = cfg[key].dataset
        assert ds.type == dataset_type and ds.data_root == data_root
        assert ds.data_prefix == dict(img_path='images', seg_map_path='masks')
        assert ds.ann_file == f'splits/{splits[loader]}.txt'
        assert ds.pipeline == (cfg.train_pipeline if loader == 'train' else
                               cfg.test_pipeline)
    assert [e['type'] for e in cfg.val_evaluator] == ['IoUMetric',
                                                      'MedicalMetric']
    assert cfg.val_evaluator[0].iou_metrics == ['mIoU', 'mDice']
    assert cfg.test_evaluator == cfg.val_evaluator


def test_conic_fold_variable():
    cfg = _cfg('conic')
    assert cfg.fold == 0


@pytest.mark.parametrize('base', sorted(PROTOCOLS))
def test_data_root_override_is_per_loader(base):
    cfg = _cfg(base)
    cfg.merge_from_dict({'test_dataloader.dataset.data_root': '/elsewhere'})
    assert cfg.test_dataloader.dataset.data_root == '/elsewhere'
    assert cfg.val_dataloader.dataset.data_root == PROTOCOLS[base][1]


@pytest.mark.parametrize('base', sorted(PROTOCOLS))
def test_dataloader_datasets_on_a_converted_folder(tmp_path, base):
    dataset_type, _, num_classes, splits = PROTOCOLS[base]
    root = _converted(tmp_path / base, num_classes)
    cfg = _cfg(base)
    with DefaultScope.overwrite_default_scope('mmseg'):
        for loader, split in splits.items():
            ds_cfg = cfg[f'{loader}_dataloader'].dataset
            ds_cfg.data_root = str(root)
            ds = DATASETS.build(ds_cfg)
            assert type(ds).__name__ == dataset_type
            assert len(ds.metainfo['classes']) == num_classes
            assert len(ds.metainfo['palette']) == num_classes
            assert [osp.basename(ds.get_data_info(i)['seg_map_path'])
                    for i in range(len(ds))] == [
                        f'{n}.png' for n in NAMES[split]]
            out = ds[0]
            assert tuple(out['inputs'].shape) == (3, 256, 256)
            gt = out['data_samples'].gt_sem_seg.data[0].numpy()
            first = int(NAMES[split][0][1:])
            if loader == 'train':  # resized (and maybe flipped) with it
                assert gt.shape == (256, 256)
                assert set(np.unique(gt)) == set(np.unique(
                    _mask(first, num_classes)))
            else:  # the original mask, at the original resolution
                assert out['data_samples'].ori_shape == (H, W)
                np.testing.assert_array_equal(gt, _mask(first, num_classes))


@pytest.mark.parametrize('base', ['isic2016', 'conic'])
def test_tta_pipeline(tmp_path, base):
    num_classes = PROTOCOLS[base][2]
    root = _converted(tmp_path / base, num_classes)
    cfg = _cfg(base)
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.update(data_root=str(root), pipeline=cfg.tta_pipeline)
    with DefaultScope.overwrite_default_scope('mmseg'):
        out = DATASETS.build(ds_cfg)[0]
    assert len(out['inputs']) == 3
    assert all(tuple(x.shape) == (3, 256, 256) for x in out['inputs'])
    assert [s.flip for s in out['data_samples']] == [False, True, True]
    first = int(NAMES[PROTOCOLS[base][3]['test']][0][1:])
    for s in out['data_samples']:
        np.testing.assert_array_equal(s.gt_sem_seg.data[0].numpy(),
                                      _mask(first, num_classes))


@pytest.mark.parametrize('base', sorted(PROTOCOLS))
def test_evaluators_build(base):
    cfg = _cfg(base)
    metrics = [METRICS.build(m) for m in cfg.val_evaluator]
    assert [type(m).__name__ for m in metrics] == ['IoUMetric',
                                                   'MedicalMetric']
    assert metrics[1].prefix == 'medical'


def test_ph2_test_variant_only_swaps_the_test_set():
    sgdc = osp.join(REPO_ROOT, 'configs', 'sgdc')
    base = Config.fromfile(
        osp.join(sgdc, 'sgdc_r50_1xb8-20k_isic2016-256x256.py'))
    cfg = Config.fromfile(
        osp.join(sgdc, 'sgdc_r50_1xb8-20k_isic2016-256x256_test-ph2.py'))
    test = cfg.test_dataloader.dataset
    assert (test.type, test.data_root, test.ann_file) == (
        'PH2Dataset', 'data/ph2', 'splits/all.txt')
    assert test.pipeline == base.test_dataloader.dataset.pipeline
    for key in ('model', 'train_dataloader', 'val_dataloader',
                'test_evaluator'):
        assert cfg[key] == base[key], key


def test_isic2016_sgdc_config_trains_two_iterations(tmp_path):
    """tools/train.py on the shipped from-scratch config (its ImageNet
    twin would download its start), on a tiny converted folder; the ResNet
    is shrunk (as in the demo config) and the images resized to 32x32 to
    keep it to seconds. Validation writes the best checkpoint by
    medical/mIoU."""
    config = osp.join(REPO_ROOT, 'configs', 'sgdc',
                      'sgdc_r50-scratch_1xb8-20k_isic2016-256x256.py')
    assert Config.fromfile(config).default_hooks.checkpoint.save_best == \
        'medical/mIoU'
    root = _converted(tmp_path / 'isic2016', 2)
    work = tmp_path / 'work'
    opts = [
        'model.data_preprocessor.size=(32,32)',
        'model.backbone.depth=18', 'model.backbone.base_channels=8',
        'model.backbone.stem_channels=8',
        'model.decode_head.in_channels=[8,16,32,64]',
        'model.decode_head.channels=8', 'model.decode_head.num_blocks=1',
        'model.decode_head.sge.in_channels=(8,64)',
        'model.decode_head.sge.channels=8',
        'model.decode_head.sge.fuse_channels=8',
        'train_dataloader.batch_size=2',
        'train_dataloader.dataset.pipeline.2.scale=(32,32)',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1',
    ]
    for loader in ('train', 'val', 'test'):
        opts += [f'{loader}_dataloader.dataset.data_root={root}',
                 f'{loader}_dataloader.num_workers=0',
                 f'{loader}_dataloader.persistent_workers=False']
    for loader in ('val', 'test'):
        opts.append(f'{loader}_dataloader.dataset.pipeline.1.scale=(32,32)')
    proc = run_tool(['tools/train.py', config, '--work-dir', str(work),
                     '--cfg-options', *opts])
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'Iter(train) [2/2]' in proc.stdout
    assert 'Iter(val) [2/2]' in proc.stdout  # the two test.txt images
    assert 'medical/mIoU' in proc.stdout and 'mDice' in proc.stdout
    assert (work / 'iter_2.pth').is_file()
    assert list(work.glob('best_medical_mIoU_iter_2.pth'))
