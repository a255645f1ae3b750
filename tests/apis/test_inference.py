"""sgdc_mmseg.apis.inference: inputs, pipeline, batched inference with SGE
maps, writing the outputs."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

import sgdc_mmseg  # noqa: F401
from helpers import (LESION_META, make_tiny_dataset, save_random_checkpoint,
                     write_tiny_config)
from mmengine.config import Config

from sgdc_mmseg.apis import (ImageLoadError, StructureInferencer,
                             build_inference_pipeline, collect_images,
                             load_segmentor, save_result)

SIZES = dict(a=(30, 40), b=(48, 24), c=(32, 32))  # stem -> (H, W)


def balance_classes(model, image):
    """Shift the classifier bias so that about half of ``image`` is class 1
    (random weights otherwise predict one class everywhere)."""
    from mmseg.apis import inference_model
    with torch.no_grad():
        logits = inference_model(model, image).seg_logits.data
        diff = (logits[1] - logits[0]).median()
        model.decode_head.conv_seg.bias[1] -= diff


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """Config, checkpoint (random weights, both classes predicted) and a
    folder with three images of different sizes."""
    root = tmp_path_factory.mktemp('infer')
    data = make_tiny_dataset(str(root / 'data'), num_images=2)
    cfg_path = write_tiny_config(str(root / 'cfg.py'), data)
    rng = np.random.RandomState(0)
    (root / 'imgs').mkdir()
    for stem, (h, w) in SIZES.items():
        img = rng.randint(0, 256, (h, w, 3)).astype(np.uint8)
        img[h // 4:h // 2, w // 4:3 * w // 4] //= 3
        cv2.imwrite(str(root / 'imgs' / f'{stem}.png'), img)
    ckpt = save_random_checkpoint(
        cfg_path, root / 'ckpt.pth', LESION_META,
        prepare=lambda m: balance_classes(m, str(root / 'imgs' / 'c.png')))
    return dict(root=root, cfg=cfg_path, ckpt=ckpt,
                imgs=root / 'imgs')


def test_collect_images(tmp_path):
    for name in ('b.png', 'a.JPG', 'notes.txt'):
        (tmp_path / name).write_bytes(b'x')
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'sub' / 'c.tif').write_bytes(b'x')
    files, skipped = collect_images(str(tmp_path))
    assert [osp.basename(f) for f in files] == ['a.JPG', 'b.png']
    assert [osp.basename(f) for f in skipped] == ['notes.txt']
    files, _ = collect_images(str(tmp_path), recursive=True)
    assert [osp.basename(f) for f in files] == ['a.JPG', 'b.png', 'c.tif']
    files, skipped = collect_images(str(tmp_path / '*.png'))
    assert [osp.basename(f) for f in files] == ['b.png'] and skipped == []
    # an explicit file is taken whatever its name; duplicates dropped
    files, _ = collect_images([str(tmp_path / 'notes.txt'),
                               str(tmp_path / 'b.png'),
                               str(tmp_path / 'b.png')])
    assert [osp.basename(f) for f in files] == ['notes.txt', 'b.png']


def test_collect_images_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='"nope.png" does not exist'):
        collect_images('nope.png')
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='no image files in folder'):
        collect_images(str(tmp_path / 'empty'))
    with pytest.raises(FileNotFoundError, match='no image files in pattern'):
        collect_images(str(tmp_path / '*.jpg'))
    (tmp_path / 'x').mkdir()
    (tmp_path / 'x' / 'a.png').write_bytes(b'x')
    (tmp_path / 'a.jpg').write_bytes(b'x')
    with pytest.raises(ValueError, match='share one: a: '):
        collect_images([str(tmp_path / 'x'), str(tmp_path / 'a.jpg')])


def test_build_inference_pipeline(tiny):
    cfg = Config.fromfile(tiny['cfg'])
    pipeline, note = build_inference_pipeline(cfg, 'auto')
    assert [t['type'] for t in pipeline] == [
        'LoadImageFromFile', 'Resize', 'PackSegInputs']
    assert pipeline[1]['scale'] == (32, 32)
    assert pipeline[1]['keep_ratio'] is False
    assert '32x32' in note
    pipeline, _ = build_inference_pipeline(cfg, 'none')
    assert [t['type'] for t in pipeline] == ['LoadImageFromFile',
                                             'PackSegInputs']
    pipeline, _ = build_inference_pipeline(cfg, '40x20')
    assert pipeline[1]['scale'] == (40, 20)
    with pytest.raises(ValueError, match='WIDTHxHEIGHT'):
        build_inference_pipeline(cfg, '40by20')
    # a test pipeline that resizes is kept as is; so is a training on crops
    cfg.test_pipeline.insert(1, dict(type='Resize', scale=(64, 64)))
    pipeline, note = build_inference_pipeline(cfg, 'auto')
    assert pipeline[1]['scale'] == (64, 64) and len(pipeline) == 3
    assert 'resizes images itself' in note
    cfg = Config.fromfile(tiny['cfg'])
    cfg.train_pipeline.insert(2, dict(type='RandomCrop', crop_size=(16, 16)))
    pipeline, note = build_inference_pipeline(cfg, 'auto')
    assert len(pipeline) == 2 and 'RandomCrop' in note
    cfg.test_pipeline = [dict(type='LoadImageFromFile')]
    with pytest.raises(ValueError, match='end with PackSegInputs'):
        build_inference_pipeline(cfg)


def test_inference_pipeline_drops_annotation_fields():
    """DRIVE's and MoNuSeg's test pipelines load the field of view or the
    instances and pack them: unlabelled images have neither."""
    from mmengine.config import ConfigDict
    for loader, packer in (('LoadFOV', 'PackSegInputsWithFOV'),
                           ('LoadInstances', 'PackSegInputsWithInstances')):
        cfg = Config(dict(test_pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(64, 64)),
            dict(type='LoadAnnotations'), dict(type=loader),
            dict(type=packer, meta_keys=('img_path', 'ori_shape'))]))
        pipeline, _ = build_inference_pipeline(cfg, 'auto')
        assert [t['type'] for t in pipeline] == [
            'LoadImageFromFile', 'Resize', 'PackSegInputs']
        assert pipeline[-1]['meta_keys'] == ('img_path', 'ori_shape')
        assert cfg.test_pipeline[-1]['type'] == packer  # config untouched
        assert isinstance(cfg.test_pipeline[-1], ConfigDict)


def test_inference_matches_mmseg_at_original_size(tiny):
    from mmseg.apis import inference_model
    model = load_segmentor(tiny['cfg'], tiny['ckpt'], 'cpu')
    paths = [str(tiny['imgs'] / f'{s}.png') for s in SIZES]
    inferencer = StructureInferencer(model, resize='none',
                                     with_structure=True)
    assert inferencer.has_guidance and inferencer.draw_ids == [1]
    results = {}
    for _, res in inferencer.run([dict(img_path=p) for p in paths],
                                 batch_size=3):
        assert not isinstance(res, Exception), res
        results[res.stem] = res
    assert sorted(results) == sorted(SIZES)
    classes_seen = set()
    for stem, (h, w) in SIZES.items():
        res = results[stem]
        ref = inference_model(model, str(tiny['imgs'] / f'{stem}.png'))
        ref = ref.pred_sem_seg.data[0].numpy()
        assert res.pred.shape == (h, w) and res.image.shape == (h, w, 3)
        np.testing.assert_array_equal(res.pred, ref)
        classes_seen |= set(np.unique(res.pred).tolist())
        assert res.edge.shape == (h, w) and res.edge.dtype == np.float32
        assert 0 <= res.edge.min() and res.edge.max() <= 1
        assert res.guidance.shape == (h, w, 3)
        assert res.guidance.dtype == np.uint8
        assert res.guidance.max() > res.guidance.min()
    assert classes_seen == {0, 1}
    # without structure, mmseg's own predict path: same masks
    plain = StructureInferencer(model, resize='none')
    for _, res in plain.run(paths, batch_size=2):
        np.testing.assert_array_equal(res.pred, results[res.stem].pred)
        assert res.edge is None and res.guidance is None


def test_resized_inputs_come_back_at_original_size(tiny):
    model = load_segmentor(tiny['cfg'], tiny['ckpt'], 'cpu')
    inferencer = StructureInferencer(model, with_structure=True)  # auto
    big = tiny['root'] / 'big.jpg'
    cv2.imwrite(str(big), np.full((90, 150, 3), 120, np.uint8))
    (item, res), = list(inferencer.run([str(big)]))
    packed, _ = inferencer.load(dict(img_path=str(big)))
    assert tuple(packed['inputs'].shape[1:]) == (32, 32)  # crop_size
    assert res.pred.shape == (90, 150) and res.edge.shape == (90, 150)
    assert res.guidance.shape == (90, 150, 3)


def test_bad_files_are_reported_and_others_processed(tiny, tmp_path):
    model = load_segmentor(tiny['cfg'], tiny['ckpt'], 'cpu')
    inferencer = StructureInferencer(model, with_structure=True)
    bad = tmp_path / 'bad.png'
    bad.write_bytes(b'not an image')
    (tmp_path / 'empty.jpg').write_bytes(b'')
    paths = [str(tiny['imgs'] / 'a.png'), str(bad),
             str(tmp_path / 'empty.jpg'), str(tiny['imgs'] / 'b.png'),
             str(tmp_path / 'gone.png')]
    outcomes = {osp.basename(i['img_path']): r
                for i, r in inferencer.run(paths, batch_size=4)}
    assert len(outcomes) == 5
    assert isinstance(outcomes['bad.png'], ImageLoadError)
    assert str(outcomes['bad.png']) == (
        'cannot read image: not a valid or complete image file '
        '(AssertionError: failed to load image)')
    assert str(outcomes['empty.jpg']) == 'cannot read image: the file is empty'
    assert str(outcomes['gone.png']) == 'cannot read image: file not found'
    assert outcomes['a.png'].pred.shape == SIZES['a']
    assert outcomes['b.png'].pred.shape == SIZES['b']


def test_failing_batch_is_retried_per_image(tiny, tmp_path, monkeypatch):
    model = load_segmentor(tiny['cfg'], tiny['ckpt'], 'cpu')
    inferencer = StructureInferencer(model, resize='32x32')
    twin = tmp_path / 'twin.png'  # all three are 32x32 inputs: one batch
    cv2.imwrite(str(twin), cv2.imread(str(tiny['imgs'] / 'a.png'))[::-1])
    real, calls = inferencer.predict, []

    def predict(batch):
        names = sorted(osp.basename(item['img_path']) for _, _, item in batch)
        calls.append(names)
        if 'twin.png' in names:
            raise RuntimeError('simulated out of memory')
        return real(batch)

    monkeypatch.setattr(inferencer, 'predict', predict)
    paths = [str(tiny['imgs'] / 'a.png'), str(tiny['imgs'] / 'c.png'),
             str(twin)]
    outcomes = {osp.basename(i['img_path']): r
                for i, r in inferencer.run(paths, batch_size=3)}
    assert calls == [['a.png', 'c.png', 'twin.png'], ['a.png'], ['c.png'],
                     ['twin.png']]
    assert isinstance(outcomes['twin.png'], RuntimeError)
    assert outcomes['a.png'].pred.shape == SIZES['a']
    assert outcomes['c.png'].pred.shape == SIZES['c']
    with pytest.raises(ValueError, match='batch_size'):
        list(inferencer.run(paths, batch_size=0))


def test_auxiliary_sge_and_models_without_sge(tiny):
    cfg = Config.fromfile(tiny['cfg'])
    cfg.model.decode_head = dict(
        type='FCNHead', in_channels=16, in_index=1, channels=8, num_convs=1,
        num_classes=2, norm_cfg=dict(type='BN'))
    cfg.model.auxiliary_head = dict(
        type='SGEHead', in_channels=(8, 16), in_index=(0, 1), channels=8,
        fuse_channels=8)
    model = load_segmentor(cfg, None, 'cpu')
    inferencer = StructureInferencer(model, with_structure=True)
    assert not inferencer.has_guidance
    (_, res), = list(inferencer.run([str(tiny['imgs'] / 'a.png')]))
    assert res.edge.shape == SIZES['a'] and res.guidance is None
    cfg.model.auxiliary_head = None
    model = load_segmentor(cfg, None, 'cpu')
    with pytest.raises(ValueError, match='edge maps need an SGE'):
        StructureInferencer(model, with_structure=True)
    StructureInferencer(model)  # masks alone are fine


def test_load_segmentor_errors(tiny, tmp_path):
    with pytest.raises(FileNotFoundError, match='checkpoint ".*nope.pth"'):
        load_segmentor(tiny['cfg'], str(tmp_path / 'nope.pth'))
    with pytest.raises(FileNotFoundError, match='config ".*none.py"'):
        load_segmentor(str(tmp_path / 'none.py'), tiny['ckpt'])
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match='CUDA is not available'):
            load_segmentor(tiny['cfg'], tiny['ckpt'], 'cuda:0')


def test_save_result(tiny, tmp_path):
    model = load_segmentor(tiny['cfg'], tiny['ckpt'], 'cpu')
    inferencer = StructureInferencer(model, with_structure=True)
    (_, res), = list(inferencer.run([str(tiny['imgs'] / 'b.png')]))
    written = save_result(res, str(tmp_path), inferencer.palette,
                          inferencer.draw_ids)
    assert sorted(written) == ['edge', 'guidance', 'mask', 'overlay']
    mask = cv2.imread(written['mask'], cv2.IMREAD_UNCHANGED)
    assert mask.dtype == np.uint8 and mask.shape == SIZES['b']
    np.testing.assert_array_equal(mask, res.pred)
    edge = cv2.imread(written['edge'], cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(edge, np.round(res.edge * 255))
    guidance = cv2.imread(written['guidance'], cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(guidance[..., ::-1], res.guidance)
    overlay = cv2.imread(written['overlay'], cv2.IMREAD_UNCHANGED)
    assert overlay.shape == SIZES['b'] + (3, )
    assert written['overlay'] == str(tmp_path / 'overlays' / 'b.png')


@pytest.fixture
def mmengine_log():
    """Messages logged to mmengine's current logger during the test."""
    import logging

    from mmengine.logging import MMLogger

    class _Keep(logging.Handler):
        def __init__(self):
            super().__init__(logging.INFO)
            self.messages = []

        def emit(self, record):
            self.messages.append(
                f'{record.levelname} - {record.getMessage()}')

    logger = MMLogger.get_current_instance()
    handler = _Keep()
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


def _variants(ckpt, root):
    """Checkpoints that do not fit the tiny model, and a bare state dict."""
    import torch
    full = torch.load(ckpt, weights_only=True)
    paths = dict(other=str(root / 'other.pth'),
                 missing=str(root / 'missing.pth'),
                 shape=str(root / 'shape.pth'), bare=str(root / 'bare.pth'))
    torch.save({'foo.weight': torch.zeros(3)}, paths['other'])
    sd = {k: v for k, v in full['state_dict'].items()
          if not k.startswith('decode_head.sge.')}
    torch.save(dict(full, state_dict=sd), paths['missing'])
    sd = dict(full['state_dict'])
    sd['decode_head.conv_seg.bias'] = torch.zeros(5)
    torch.save(dict(full, state_dict=sd), paths['shape'])
    torch.save(full['state_dict'], paths['bare'])
    return paths


def test_load_segmentor_refuses_checkpoints_that_do_not_fit(tiny, tmp_path):
    from sgdc_mmseg.engine.weights import CheckpointMismatchError
    paths = _variants(tiny['ckpt'], tmp_path)
    for kind, what in (
            ('other', r'1 unexpected key \(foo\.weight\), \d+ missing keys '
             r'\(backbone\.stem\.0\.weight, '),
            ('missing', r'\d+ missing keys \(decode_head\.sge\.'),
            ('shape', r'1 shape mismatch \(decode_head\.conv_seg\.bias: '
             r'checkpoint 5, model 2\)')):
        with pytest.raises(CheckpointMismatchError,
                           match=f'checkpoint ".*{kind}.pth" does not fit '
                           f'the model: .*{what}'):
            load_segmentor(tiny['cfg'], paths[kind], 'cpu')


def test_load_segmentor_non_strict_loads_what_fits_and_warns(tiny, tmp_path,
                                                             mmengine_log):
    import torch
    paths = _variants(tiny['ckpt'], tmp_path)
    full = torch.load(tiny['ckpt'], weights_only=True)['state_dict']
    model = load_segmentor(tiny['cfg'], paths['shape'], 'cpu', strict=False)
    out = '\n'.join(mmengine_log)
    assert f'WARNING - checkpoint "{paths["shape"]}" does not fit the ' \
        'model: 1 shape mismatch (decode_head.conv_seg.bias' in out
    assert '0 missing, 0 unexpected, 1 shape-mismatched' in out
    assert torch.equal(model.decode_head.conv_seg.weight,
                       full['decode_head.conv_seg.weight'])
    assert model.decode_head.conv_seg.bias.shape == (2, )  # kept the model's
    assert model.dataset_meta == LESION_META  # from the checkpoint's meta


def test_load_segmentor_bare_state_dict(tiny, tmp_path, mmengine_log):
    import torch
    paths = _variants(tiny['ckpt'], tmp_path)
    model = load_segmentor(tiny['cfg'], paths['bare'], 'cpu')
    full = torch.load(tiny['ckpt'], weights_only=True)['state_dict']
    for key, value in model.state_dict().items():
        assert torch.equal(value, full[key]), key
    # no meta: the classes of the config's dataset, and it says so
    assert model.dataset_meta == dict(
        classes=('background', 'lesion'),
        palette=[[0, 0, 0], [255, 255, 255]])
    assert f'checkpoint "{paths["bare"]}" has no dataset_meta: class names ' \
        "taken from the config's test_dataloader dataset (BaseSegDataset): " \
        'background, lesion' in '\n'.join(mmengine_log)
