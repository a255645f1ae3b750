"""sgdc_mmseg.engine.training_logs: mmengine's scalars.json of a work dir,
resumed runs merged."""
import json

import pytest

from sgdc_mmseg.engine.training_logs import load_curves, load_runs


def _write_run(work_dir, stamp, train_steps, val_steps, offset=0.0):
    folder = work_dir / stamp / 'vis_data'
    folder.mkdir(parents=True)
    lines = [json.dumps(dict(lr=0.01, loss=1.0 / s + offset, time=0.1,
                             iter=s, step=s)) for s in train_steps]
    lines += [json.dumps(dict(mIoU=50.0 + s + offset, step=s))
              for s in val_steps]
    (folder / 'scalars.json').write_text('\n'.join(lines) + '\n')


def test_resumed_runs_are_merged_later_run_wins(tmp_path):
    work = tmp_path / 'work'
    _write_run(work, '20260101_000000', [1, 2, 3, 4], [2, 4])
    _write_run(work, '20260101_010000', [3, 4, 5, 6], [4, 6], offset=1.0)
    train, val = load_curves(str(work))
    assert [e['step'] for e in train] == [1, 2, 3, 4, 5, 6]
    assert [e['loss'] for e in train][1:3] == [0.5, 1.0 / 3 + 1.0]
    assert [(e['step'], e['mIoU']) for e in val] == [(2, 52.0), (4, 55.0),
                                                     (6, 57.0)]
    # a run folder alone, and the scalars.json file itself
    train, _ = load_curves(str(work / '20260101_000000'))
    assert [e['step'] for e in train] == [1, 2, 3, 4]
    train, _ = load_curves(str(work / '20260101_000000' / 'vis_data' /
                               'scalars.json'))
    assert len(train) == 4


def test_labels_of_several_runs(tmp_path):
    _write_run(tmp_path / 'a' / 'work', 'r', [1], [])
    _write_run(tmp_path / 'b' / 'work', 'r', [1, 2], [])
    runs = load_runs([str(tmp_path / 'a' / 'work'),
                      str(tmp_path / 'b' / 'work')])
    assert list(runs) == ['work', str(tmp_path / 'b' / 'work')]
    assert len(runs[str(tmp_path / 'b' / 'work')][0]) == 2


def test_bad_logs_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='no <timestamp>/vis_data'):
        load_curves(str(tmp_path))
    folder = tmp_path / 'run' / 'vis_data'
    folder.mkdir(parents=True)
    (folder / 'scalars.json').write_text('{"step": 1, "loss": 1}\nnot json\n')
    with pytest.raises(ValueError, match=r'scalars.json:2: not a JSON line'):
        load_curves(str(tmp_path / 'run'))
