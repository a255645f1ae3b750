"""TensorBoard as a visualizer backend: a config with mmengine's
``TensorboardVisBackend`` beside the local one trains through
sgdc_mmseg.engine and writes a TensorBoard events file holding the same
scalars as the local backend's ``scalars.json``."""
import glob
import importlib.util
import json
import os.path as osp

import pytest

import sgdc_mmseg  # noqa: F401
from sgdc_mmseg.engine import training
from sgdc_mmseg.engine.launch import build_runner

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec('tensorboard') is None,
    reason='tensorboard is not installed (optional extra: '
    'python tools/install.py --extras tensorboard)')


def test_tensorboard_backend_logs_training_scalars(tiny_config, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    cfg_path = tiny_config(max_iters=2, checkpoint_interval=1000, extra='''
        vis_backends = [dict(type='LocalVisBackend'),
                        dict(type='TensorboardVisBackend')]
        visualizer = dict(type='SegLocalVisualizer',
                          vis_backends=vis_backends)
        ''')
    work_dir = tmp_path / 'work'
    cfg = training.build_train_cfg(cfg_path, work_dir=str(work_dir))
    runner = build_runner(cfg)
    runner.train()
    runner.visualizer.close()  # flushes the events file

    events = glob.glob(str(work_dir / '*' / 'vis_data' / 'events.out.*'))
    assert len(events) == 1, events
    rows = [json.loads(line) for line in open(osp.join(
        osp.dirname(events[0]), 'scalars.json'))]
    local = [row for row in rows if 'loss' in row]  # training iterations
    assert [row['step'] for row in local] == [1, 2]
    val = [row for row in rows if 'mIoU' in row]  # validation at the end
    assert [row['step'] for row in val] == [2]

    acc = EventAccumulator(events[0])
    acc.Reload()
    assert {'loss', 'lr', 'decode.loss_ce'} <= set(acc.Tags()['scalars'])
    for tag in ('loss', 'decode.loss_ce'):
        logged = acc.Scalars(tag)
        assert [e.step for e in logged] == [1, 2]
        assert [e.value for e in logged] == pytest.approx(
            [row[tag] for row in local], rel=1e-5)
    assert [e.value for e in acc.Scalars('mIoU')] == pytest.approx(
        [val[0]['mIoU']], rel=1e-5)
