"""tools/analysis/worst_cases.py and tools/analysis/plot_curves.py (their
command lines, :mod:`sgdc_mmseg.cli.worst_cases` and
:mod:`sgdc_mmseg.cli.plot_curves`)."""
import json
import os.path as osp

import cv2
import pytest

import sgdc_mmseg  # noqa: F401
from helpers import save_random_checkpoint


@pytest.fixture(scope='module')
def worst():
    import sgdc_mmseg.cli.worst_cases as tool
    return tool


@pytest.fixture(scope='module')
def curves():
    import sgdc_mmseg.cli.plot_curves as tool
    return tool


def _rows(data_root, dice):
    return [{'image': f'{i:03d}',
             'img_path': osp.join(data_root, 'img_dir', f'{i:03d}.png'),
             'Dice.lesion': d, 'HD95.lesion': None if d is None else 100 - d,
             'IoU.lesion': d, 'ASSD.lesion': 1.0}
            for i, d in enumerate(dice)]


def test_worst_cases_figure(worst, tmp_path, tiny_config, tiny_data_root):
    cfg = tiny_config()
    ckpt = save_random_checkpoint(cfg, tmp_path / 'ckpt.pth')
    summary = tmp_path / 'summary.json'
    summary.write_text(json.dumps(dict(per_image=_rows(
        tiny_data_root, [80.0, 20.0, 60.0, 95.0, 5.0, 70.0, 90.0, 85.0]))))
    sizes = {}
    for num in (2, 4):
        out = tmp_path / f'worst{num}.png'
        assert worst.main([cfg, ckpt, str(summary), '--out', str(out),
                           '--num', str(num), '--device', 'cpu']) == 0
        image = cv2.imread(str(out))
        assert image is not None and image.shape[1] > 4 * image.shape[0] / num
        sizes[num] = image.shape
    assert sizes[4][0] > 1.6 * sizes[2][0]  # one row per case
    assert sizes[4][1] == sizes[2][1]

    # the CSV of MedicalMetric works too; unknown images are an error
    csv_path = tmp_path / 'per_image_metrics.csv'
    csv_path.write_text('image,img_path,Dice.lesion,HD95.lesion\n'
                        'zzz,/elsewhere/zzz.png,10.0,3.0\n')
    with pytest.raises(SystemExit, match="error: image '/elsewhere/zzz.png'"
                       " of the metrics is not in the config's test set"):
        worst.main([cfg, ckpt, str(csv_path), '--out',
                    str(tmp_path / 'x.png'), '--device', 'cpu'])
    empty = tmp_path / 'empty.json'
    empty.write_text(json.dumps(dict(per_image=None)))
    with pytest.raises(SystemExit, match='has no per-image metrics'):
        worst.main([cfg, ckpt, str(empty), '--out', str(tmp_path / 'x.png')])


def test_worst_cases_refuses_a_checkpoint_that_does_not_fit(
        worst, tmp_path, tiny_config, tiny_data_root):
    import torch
    cfg = tiny_config()
    good = save_random_checkpoint(cfg, tmp_path / 'ckpt.pth')
    full = torch.load(good, weights_only=True)
    full['state_dict'] = {k: v for k, v in full['state_dict'].items()
                          if not k.startswith('decode_head.')}
    ckpt = str(tmp_path / 'backbone_only.pth')
    torch.save(full, ckpt)
    summary = tmp_path / 'summary.json'
    summary.write_text(json.dumps(dict(per_image=_rows(
        tiny_data_root, [80.0, 20.0]))))
    out = tmp_path / 'worst.png'
    args = [cfg, ckpt, str(summary), '--out', str(out), '--num', '1',
            '--device', 'cpu']
    with pytest.raises(SystemExit, match=f'error: checkpoint "{ckpt}" does '
                       r'not fit the model: \d+ missing keys '
                       r'\(decode_head\.'):
        worst.main(args)
    assert not out.exists()
    assert worst.main(args + ['--non-strict']) == 0
    assert cv2.imread(str(out)) is not None


def _write_run(work_dir, stamp, train_steps, val_steps, offset=0.0):
    folder = work_dir / stamp / 'vis_data'
    folder.mkdir(parents=True)
    lines = [json.dumps(dict(lr=0.01, loss=1.0 / s + offset,
                             **{'decode.loss_ce': 0.5 / s}, time=0.1,
                             iter=s, step=s)) for s in train_steps]
    lines += [json.dumps(dict(mIoU=50.0 + s + offset, mDice=60.0 + s,
                              **{'medical/mHD95': 10.0 - s}, time=0.01,
                              step=s)) for s in val_steps]
    (folder / 'scalars.json').write_text('\n'.join(lines) + '\n')


def test_plot_curves_merges_resumed_runs(curves, tmp_path, capsys):
    work = tmp_path / 'work'
    _write_run(work, '20260101_000000', [1, 2, 3, 4], [2, 4])
    _write_run(work, '20260101_010000', [3, 4, 5, 6], [4, 6], offset=1.0)
    out = tmp_path / 'curves.png'
    assert curves.main([str(work), '--out', str(out)]) == 0
    assert '6 training and 3 validation entries' in capsys.readouterr().out
    image = cv2.imread(str(out))
    assert image.shape[1] > 2.5 * image.shape[0]  # losses, metrics, HD95
    # one run folder, chosen keys, two inputs in one figure
    out2 = tmp_path / 'one.png'
    assert curves.main([str(work / '20260101_000000'), str(work), '--out',
                        str(out2), '--keys', 'loss', '--metrics',
                        'mIoU']) == 0
    assert cv2.imread(str(out2)).shape[1] < image.shape[1]


def test_plot_curves_errors(curves, tmp_path):
    with pytest.raises(SystemExit, match='no <timestamp>/vis_data'):
        curves.main([str(tmp_path), '--out', str(tmp_path / 'c.png')])
    _write_run(tmp_path / 'w', 'run', [1, 2], [])
    with pytest.raises(SystemExit, match='not in the logs: mAcc'):
        curves.main([str(tmp_path / 'w'), '--out', str(tmp_path / 'c.png'),
                     '--metrics', 'mAcc'])
    assert not (tmp_path / 'c.png').exists()


def test_worst_cases_refuses_a_figure_in_the_test_data(
        worst, tmp_path, tiny_config, tiny_data_root, monkeypatch):
    cfg = tiny_config()
    summary = tmp_path / 'summary.json'
    summary.write_text(json.dumps(dict(per_image=_rows(tiny_data_root,
                                                       [80.0]))))
    mask = osp.join(tiny_data_root, 'ann_dir', '000.png')
    before = open(mask, 'rb').read()

    def no_model(*args, **kwargs):
        raise AssertionError('the model was loaded before the check')

    monkeypatch.setattr('sgdc_mmseg.apis.worst_cases.load_segmentor',
                        no_model)
    with pytest.raises(SystemExit, match=r'error: --out folder .*ann_dir.* '
                       r'is the .*mask folder'):
        worst.main([cfg, str(tmp_path / 'missing.pth'), str(summary),
                    '--out', mask])
    assert open(mask, 'rb').read() == before

