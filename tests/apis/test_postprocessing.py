"""sgdc_mmseg.apis.postprocessing (and tools/analysis/choose_postprocessing
.py's command line): prediction folders of several folds pooled with the
config's ground truth, the chosen spec written, bad folders named."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest

import sgdc_mmseg  # noqa: F401
from sgdc_mmseg.apis.postprocessing import choose_from_prediction_dirs
from sgdc_mmseg.cli import choose_postprocessing as cli


def _fold_dirs(tmp_path, data_root, speck=True):
    """Two folds' prediction folders: the ground truth plus a 1-px speck
    far from the lesion in every image. Fold 0 is a test.py --out folder
    (DIR/pred), fold 1 a bare folder."""
    dirs = [tmp_path / 'fold0', tmp_path / 'fold1' / 'pred']
    (dirs[0] / 'pred').mkdir(parents=True)
    (dirs[0] / 'summary.json').write_text('{}')
    dirs[1].mkdir(parents=True)
    for i in range(8):
        gt = cv2.imread(osp.join(data_root, 'ann_dir', f'{i:03d}.png'),
                        cv2.IMREAD_UNCHANGED)
        pred = gt.copy()
        if speck:
            pred[31, 31] = 1 if gt[29:32, 29:32].sum() == 0 else pred[31, 31]
        folder = dirs[0] / 'pred' if i < 4 else dirs[1]
        cv2.imwrite(str(folder / f'{i:03d}.png'), pred)
    return [str(d) for d in dirs]


def test_specks_removed_on_the_pooled_folds(tiny_config, tiny_data_root,
                                            tmp_path):
    dirs = _fold_dirs(tmp_path, tiny_data_root)
    spec = choose_from_prediction_dirs(tiny_config(), dirs,
                                       log=lambda m: None)
    lesion = spec['per_class']['1']
    assert spec['num_images'] == 8 and lesion['num_images'] == 8
    assert lesion['operation'] == 'keep_largest_component'
    assert lesion['score_after'] == pytest.approx(1.0)
    assert lesion['score_before'] < 1.0
    assert spec['classes'] == ['background', 'lesion']


def test_cli_writes_the_spec_and_keeps_an_existing_file(
        tiny_config, tiny_data_root, tmp_path, capsys):
    dirs = _fold_dirs(tmp_path, tiny_data_root, speck=False)
    out = tmp_path / 'work' / 'postprocessing.json'
    assert cli.main([tiny_config(), *dirs, '-o', str(out),
                     '--min-sizes', '5']) == 0
    spec = json.loads(out.read_text())
    # perfect predictions: nothing improves, nothing is chosen
    assert spec['per_class']['1']['operation'] is None
    assert spec['candidates'] == ['keep_largest_component',
                                  'remove_small_components:5']
    assert 'lesion: nothing: dice 1.0000 -> 1.0000' in capsys.readouterr().out
    with pytest.raises(SystemExit, match=f'error: "{out}" exists'):
        cli.main([tiny_config(), *dirs, '-o', str(out)])


@pytest.mark.parametrize('problem,message', [
    ('stranger', '"{dir}/zzz.png": no image "zzz" with ground truth'),
    ('text', '"{dir}/notes.txt" is not a prediction PNG'),
    ('twice', 'image "000" has two predictions'),
    ('size', r'"{dir}/004.png" is 16x16, its ground truth 32x32 \(WxH\)'),
])
def test_bad_prediction_folders_are_named(tiny_config, tiny_data_root,
                                          tmp_path, problem, message):
    dirs = _fold_dirs(tmp_path, tiny_data_root)
    extra = tmp_path / 'fold1' / 'pred'
    if problem == 'stranger':
        cv2.imwrite(str(extra / 'zzz.png'), np.zeros((32, 32), np.uint8))
    elif problem == 'text':
        (extra / 'notes.txt').write_text('x')
    elif problem == 'twice':
        cv2.imwrite(str(extra / '000.png'), np.zeros((32, 32), np.uint8))
    else:
        cv2.imwrite(str(extra / '004.png'), np.zeros((16, 16), np.uint8))
    with pytest.raises(SystemExit, match='error: ' + message.format(
            dir=extra)):
        cli.main([tiny_config(), *dirs, '-o', str(tmp_path / 'pp.json')])
    assert not (tmp_path / 'pp.json').exists()
