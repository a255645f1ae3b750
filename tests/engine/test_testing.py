"""sgdc_mmseg.engine.testing: the test config (checkpoint, --show, --tta,
--out routing) and summary.json of a finished test."""
import pytest
from mmengine.config import Config

import sgdc_mmseg  # noqa: F401
from sgdc_mmseg.engine import testing
from sgdc_mmseg.evaluation.test_outputs import SUMMARY_KEYS, config_sha256


@pytest.mark.parametrize('form', ['dict', 'list', 'evaluator'])
def test_configure_out_sets_every_evaluator(form, tmp_path):
    iou = dict(type='IoUMetric', iou_metrics=['mIoU'])
    cfg = Config(dict(test_evaluator=dict(
        dict=iou, list=[iou], evaluator=dict(type='Evaluator',
                                             metrics=[iou]))[form]))
    logs = []
    added = testing.configure_out(cfg, str(tmp_path), log=logs.append)
    assert added is True and 'added MedicalMetric' in logs[0]
    metrics = cfg.test_evaluator['metrics'] if form == 'evaluator' else \
        cfg.test_evaluator
    assert [m['type'] for m in metrics] == ['IoUMetric', 'MedicalMetric']
    # IoUMetric's prediction PNGs go to pred/ (the folder mmseg's
    # confusion_matrix.py reads), the CSV of MedicalMetric to the folder
    assert [m['output_dir'] for m in metrics] == [
        str(tmp_path / 'pred'), str(tmp_path)]
    if form == 'evaluator':
        assert cfg.test_evaluator['type'] == 'Evaluator'
    # an existing MedicalMetric is not duplicated
    cfg = Config(dict(test_evaluator=[iou, dict(type='mmseg.MedicalMetric')]))
    assert testing.configure_out(cfg, 'o', log=logs.append) is False
    assert [m['type'] for m in cfg.test_evaluator] == [
        'IoUMetric', 'mmseg.MedicalMetric']


def test_checkpoint_wins_over_config_load_from(tiny_config):
    cfg_path = tiny_config(extra="load_from = 'config_own.pth'\n"
                           'resume = True\n')
    logs = []
    cfg, added = testing.build_test_cfg(
        testing.TestOptions(config=cfg_path, checkpoint='cli.pth'),
        log=logs.append)
    assert cfg.load_from == 'cli.pth' and cfg.resume is False
    assert added is False  # no --out: evaluators untouched
    assert logs == ['note: the config\'s load_from "config_own.pth" is '
                    'ignored; testing "cli.pth"']


def test_out_routes_the_evaluators_to_the_staging_folder(tiny_config,
                                                         tmp_path):
    out = str(tmp_path / 'out')
    cfg, added = testing.build_test_cfg(
        testing.TestOptions(config=tiny_config(), checkpoint='k.pth',
                            out=out), log=lambda msg: None)
    assert added is True
    stage = tmp_path / 'out' / '.sgdc_staging'
    assert [m['output_dir'] for m in cfg.test_evaluator] == [
        str(stage / 'pred'), str(stage)]


def test_show_and_tta_need_their_config_parts():
    cfg = Config(dict(default_hooks=dict(), visualizer=dict()))
    with pytest.raises(RuntimeError, match='need a visualization hook'):
        testing.enable_visualization(cfg, show=True)
    cfg = Config(dict(default_hooks=dict(visualization=dict(type='V')),
                      visualizer=dict()))
    testing.enable_visualization(cfg, show=True, show_dir='d', wait_time=5)
    assert cfg.default_hooks.visualization == dict(
        type='V', draw=True, show=True, wait_time=5)
    assert cfg.visualizer.save_dir == 'd'
    with pytest.raises(RuntimeError, match='--tta needs `tta_pipeline`'):
        testing.enable_tta(Config(dict(tta_model=dict(type='T'))))
    cfg = Config(dict(model=dict(type='M'), tta_model=dict(type='T'),
                      tta_pipeline=[dict(type='P')],
                      test_dataloader=dict(dataset=dict(pipeline=[]))))
    testing.enable_tta(cfg)
    assert cfg.model == dict(type='T', module=dict(type='M'))
    assert cfg.test_dataloader.dataset.pipeline == [dict(type='P')]


class _Dataset:
    metainfo = dict(classes=('background', 'lesion'))

    def __len__(self):
        return 3


class _Medical:
    per_image_results = [dict(image='a', skipped='')]


class _Runner:
    class test_evaluator:  # noqa: N801 (attribute of a runner)
        metrics = [type('IoUMetric', (), {})(), _Medical()]

    class test_dataloader:  # noqa: N801
        dataset = _Dataset()


def test_summary_of_test_reads_the_runner(tiny_config, tmp_path):
    cfg_path = tiny_config()
    options = testing.TestOptions(config=cfg_path, checkpoint='x.pth',
                                  cfg_options={'model.pretrained': None})
    summary = testing.summary_of_test(
        options, _Runner(), {'mIoU': 1.0, 'medical/IoU.lesion': 2.0},
        medical_added=True)
    assert tuple(summary) == SUMMARY_KEYS
    assert summary['evaluators'] == ['IoUMetric', '_Medical']
    assert summary['per_image'] == [dict(image='a', skipped='')]
    assert (summary['classes'], summary['num_images']) == (
        ['background', 'lesion'], 3)
    assert summary['metrics'] == {'mIoU': 1.0}
    assert summary['per_class'] == {'lesion': {'IoU': 2.0}}
    assert summary['config']['sha256'] == config_sha256(
        cfg_path, {'model.pretrained': None})
    assert summary['medical_metric_added'] is True


# --------------------------------------------------------------------- #
# issue 18: ensembles, TTA, probabilities and post-processing in one run
# --------------------------------------------------------------------- #
_ENSEMBLE_EXTRA = '''
test_evaluator = [dict(type='IoUMetric', iou_metrics=['mIoU', 'mDice']),
                  dict(type='MedicalMetric')]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug', transforms=[
        [dict(type='RandomFlip', prob=0.0),
         dict(type='RandomFlip', prob=1.0, direction='horizontal')],
        [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]])]
tta_model = dict(type='SegTTAModel')
fold = 1
'''


@pytest.fixture(scope='module')
def ensemble_run(tmp_path_factory, tiny_data_root):
    """One tools/test.py run (in process): two checkpoints, flip TTA,
    --save-probs, --postprocess, --out."""
    import json

    from helpers import save_random_checkpoint, write_tiny_config
    tmp = tmp_path_factory.mktemp('ensemble_run')
    cfg = write_tiny_config(str(tmp / 'cfg.py'), tiny_data_root,
                            extra=_ENSEMBLE_EXTRA)
    first = save_random_checkpoint(cfg, tmp / 'a.pth', seed=0)
    second = save_random_checkpoint(cfg, tmp / 'b.pth', seed=1)
    spec = dict(version=1, num_classes=2, connectivity=2, per_class={
        '1': dict(operation='remove_small_components', min_size=3)})
    (tmp / 'pp.json').write_text(json.dumps(spec))
    options = testing.TestOptions(
        config=cfg, checkpoint=first, ensemble=[second], tta=True,
        save_probs=True, postprocess=str(tmp / 'pp.json'),
        out=str(tmp / 'out'), work_dir=str(tmp / 'work'))
    logs = []
    metrics = testing.run_test(options, log=logs.append)
    return dict(tmp=tmp, cfg=cfg, options=options, metrics=metrics,
                spec=spec, first=first, second=second, logs=logs)


def test_out_layout_is_what_mmseg_confusion_matrix_reads(ensemble_run):
    import os

    import numpy as np
    from PIL import Image
    out = ensemble_run['tmp'] / 'out'
    assert sorted(os.listdir(out)) == [
        '.sgdc_outputs.json', 'per_image_metrics.csv', 'pred', 'probs',
        'summary.json']
    # confusion_matrix.py: sorted(os.listdir(PRED_DIR)), Image.open each,
    # the i-th paired with the i-th test image: nothing else in the folder
    names = sorted(os.listdir(out / 'pred'))
    assert names == [f'{i:03d}.png' for i in range(8)]
    for name in names:
        pred = np.copy(Image.open(out / 'pred' / name))
        assert pred.dtype == np.uint8 and pred.shape == (32, 32)
        assert set(np.unique(pred)) <= {0, 1}


def test_probability_files_and_the_label_maps_agree(ensemble_run):
    import numpy as np
    from PIL import Image

    from sgdc_mmseg.apis.probabilities import label_from_probs, load_probs
    from sgdc_mmseg.evaluation.functional.postprocess import \
        apply_postprocessing
    out = ensemble_run['tmp'] / 'out'
    agree = []
    for i in range(8):
        with np.load(out / 'probs' / f'{i:03d}.npz') as data:
            assert data.files == ['probs']
            probs = data['probs']
        assert probs.dtype == np.float16 and probs.shape == (2, 32, 32)
        assert np.abs(probs.astype(np.float32).sum(0) - 1).max() < 3e-3
        load_probs(out / 'probs' / f'{i:03d}.npz', 2, (32, 32))
        label = apply_postprocessing(label_from_probs(probs),
                                     ensemble_run['spec'])
        pred = np.copy(Image.open(out / 'pred' / f'{i:03d}.png'))
        agree.append((label == pred).mean())
    assert min(agree) > 0.99  # float16 rounding may flip exact ties only


def test_summary_records_checkpoints_tta_postprocessing_fold(ensemble_run):
    import hashlib
    import json
    summary = json.loads((ensemble_run['tmp'] / 'out' /
                          'summary.json').read_text())
    assert summary['checkpoints'] == [
        dict(path=p, sha256=hashlib.sha256(open(p, 'rb').read()).hexdigest())
        for p in (ensemble_run['first'], ensemble_run['second'])]
    assert summary['checkpoint'] == summary['checkpoints'][0]
    assert (summary['tta'], summary['probs_saved'], summary['fold']) == (
        True, True, 1)
    assert summary['postprocessing'] == ensemble_run['spec']
    assert summary['num_images'] == 8 and len(summary['per_image']) == 8


def test_metrics_repeat_from_saved_probabilities(ensemble_run, tmp_path):
    import json
    options = testing.ScoreProbsOptions(
        config=ensemble_run['cfg'],
        probs_dir=str(ensemble_run['tmp'] / 'out' / 'probs'),
        postprocess=ensemble_run['options'].postprocess,
        out=str(tmp_path / 'again'))
    metrics = testing.run_score_probs(options, log=lambda m: None)
    for key in ('mIoU', 'medical/mDice', 'medical/Dice.lesion'):
        assert metrics[key] == pytest.approx(ensemble_run['metrics'][key],
                                             abs=0.5), key
    summary = json.loads((tmp_path / 'again' / 'summary.json').read_text())
    assert summary['checkpoints'] == [] and summary['fold'] == 1
    assert len(list((tmp_path / 'again' / 'pred').iterdir())) == 8


def test_score_probs_names_a_probability_file_of_the_wrong_shape(
        ensemble_run, tmp_path):
    import shutil

    import numpy as np
    probs = tmp_path / 'probs'
    shutil.copytree(ensemble_run['tmp'] / 'out' / 'probs', probs)
    np.savez(probs / '003.npz', probs=np.full((2, 16, 16), 0.5, np.float16))
    options = testing.ScoreProbsOptions(config=ensemble_run['cfg'],
                                        probs_dir=str(probs))
    with pytest.raises(testing.TestRunError,
                       match=f'{probs / "003.npz"}: "probs" has shape '
                       r'\(2, 16, 16\): size \(16, 16\), the image \(ground '
                       r'truth\) is \(32, 32\)'):
        testing.run_score_probs(options, log=lambda m: None)
    (probs / '003.npz').unlink()
    with pytest.raises(testing.TestRunError,
                       match=f'"{probs / "003.npz"}" not found'):
        testing.run_score_probs(options, log=lambda m: None)


def test_ensemble_checkpoint_of_another_model_is_named(ensemble_run,
                                                       tmp_path):
    import torch
    bad = tmp_path / 'other.pth'
    torch.save(dict(state_dict={'head.weight': torch.zeros(3)}), str(bad))
    options = testing.TestOptions(
        config=ensemble_run['cfg'], checkpoint=ensemble_run['first'],
        ensemble=[str(bad)], work_dir=str(tmp_path / 'work'))
    with pytest.raises(testing.TestRunError,
                       match=f'checkpoint "{bad}" does not fit the model: 1 '
                       r'unexpected key \(head.weight\), \d+ missing keys'):
        testing.run_test(options, log=lambda m: None)
