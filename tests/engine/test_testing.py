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
    assert all(m['output_dir'] == str(tmp_path) for m in metrics)
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
    assert [m['output_dir'] for m in cfg.test_evaluator] == [
        str(tmp_path / 'out' / '.sgdc_staging')] * 2


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
