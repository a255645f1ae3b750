"""sgdc_mmseg.evaluation.test_outputs: the summary.json / per-image CSV
contract (write and read), the one config hash."""
import copy
import hashlib
import json
import math

import numpy as np
import pytest
import torch
from mmengine.config import Config

import sgdc_mmseg  # noqa: F401
from sgdc_mmseg.evaluation import MedicalMetric
from sgdc_mmseg.evaluation import test_outputs as to

CONFIG = '''
model = dict(type='M', depth=18, head=dict(num_classes=2))
work_dir = 'w'
'''


def _config(tmp_path, text=CONFIG, name='cfg.py'):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# ------------------------------------------------------------ config hash
def test_config_sha256_is_the_dump_after_cfg_options(tmp_path):
    path = _config(tmp_path)
    cfg = Config.fromfile(path)
    assert to.config_sha256(path) == hashlib.sha256(
        cfg.dump().encode('utf-8')).hexdigest()
    opts = {'model.depth': 50}
    merged = Config.fromfile(path)
    merged.merge_from_dict(opts)
    assert to.config_sha256(path, opts) == hashlib.sha256(
        merged.dump().encode('utf-8')).hexdigest()
    assert to.config_sha256(path, opts) != to.config_sha256(path)
    # comments and the file name do not count
    other = _config(tmp_path, '# a comment\n' + CONFIG, 'other.py')
    assert to.config_sha256(other) == to.config_sha256(path)


def test_config_sha256_of_a_config_object_is_that_of_its_text(tmp_path):
    """The study hashes configs held as text: Config.fromstring gives the
    digest of the same text in a file, and the object is not changed."""
    path = _config(tmp_path)
    cfg = Config.fromstring(CONFIG, file_format='.py')
    before = copy.deepcopy(cfg.to_dict())
    opts = {'model.head.num_classes': 3}
    assert to.config_sha256(cfg, opts) == to.config_sha256(path, opts)
    assert to.config_sha256(cfg) == to.config_sha256(path)
    assert cfg.to_dict() == before


# --------------------------------------------------------------- summary
def test_split_per_class_and_json_values():
    means, per_class = to.split_per_class(
        {'mIoU': 1.0, 'medical/IoU.lesion': 2.0, 'medical/HD95.lesion': 3.0,
         'medical/Dice.small.lesion': 4.0, 'medical/mDice': 5.0},
        ['background', 'lesion', 'small.lesion'])
    assert means == {'mIoU': 1.0, 'medical/mDice': 5.0}
    assert per_class == {'lesion': {'IoU': 2.0, 'HD95': 3.0},
                         'small.lesion': {'Dice': 4.0}}
    # the same metric from two evaluators: the second keeps its prefix
    _, per_class = to.split_per_class({'IoU.lesion': 1.0,
                                       'medical/IoU.lesion': 2.0},
                                      ['lesion'])
    assert per_class == {'lesion': {'IoU': 1.0, 'medical/IoU': 2.0}}
    assert to.json_value(
        {'a': np.float32(0.5), 'b': [float('nan'), np.int64(3)],
         'c': float('inf'), 'd': np.array([2.5]), 5: object}) == {
             'a': 0.5, 'b': [None, 3], 'c': None, 'd': 2.5,
             '5': str(object)}


def _summary(tmp_path, checkpoint, **kwargs):
    return to.build_summary(
        _config(tmp_path), checkpoint,
        {'mIoU': 60.0, 'medical/mDice': float('nan'),
         'medical/Dice.lesion': np.float64(70.0)},
        classes=('background', 'lesion'), num_images=2,
        evaluators=['IoUMetric', 'MedicalMetric'], date='D',
        versions=dict(torch='x'), **kwargs)


def test_build_summary_keys_and_values(tmp_path):
    ckpt = tmp_path / 'ckpt.pth'
    ckpt.write_bytes(b'weights')
    rows = [dict(image='a', img_path='/a.png', **{'Dice.lesion': 70.0},
                 skipped='')]
    summary = _summary(tmp_path, str(ckpt), per_image=rows,
                       cfg_options={'model.depth': 50}, tta=True,
                       medical_metric_added=True)
    assert tuple(summary) == to.SUMMARY_KEYS == (
        'config', 'checkpoint', 'checkpoints', 'fold', 'date', 'versions',
        'tta', 'postprocessing', 'probs_saved', 'evaluators',
        'medical_metric_added', 'classes', 'num_images', 'metrics',
        'per_class', 'per_image')
    assert summary['config'] == dict(
        path=str(tmp_path / 'cfg.py'),
        sha256=to.config_sha256(str(tmp_path / 'cfg.py'), {'model.depth': 50}),
        cfg_options={'model.depth': 50})
    assert summary['checkpoint'] == dict(
        path=str(ckpt), sha256=hashlib.sha256(b'weights').hexdigest())
    assert summary['metrics'] == {'mIoU': 60.0, 'medical/mDice': None}
    assert summary['per_class'] == {'lesion': {'Dice': 70.0}}
    assert (summary['date'], summary['tta'], summary['num_images']) == (
        'D', True, 2)
    assert summary['medical_metric_added'] is True
    assert summary['per_image'] == rows
    # a URL or a missing file: recorded as given, no hash
    summary = _summary(tmp_path, 'https://host/x.pth')
    assert summary['checkpoint'] == dict(path='https://host/x.pth',
                                         sha256=None)
    assert summary['per_image'] is None
    # defaults of the issue-18 fields: one checkpoint, nothing else used
    assert summary['checkpoints'] == [summary['checkpoint']]
    assert (summary['fold'], summary['postprocessing'],
            summary['probs_saved']) == (None, None, False)


def test_build_summary_ensemble_fold_postprocessing_probs(tmp_path):
    first, second = tmp_path / 'a.pth', tmp_path / 'b.pth'
    first.write_bytes(b'one')
    second.write_bytes(b'two')
    spec = {'version': 1, 'per_class': {'1': {'operation': None}}}
    summary = _summary(tmp_path, str(first), ensemble=[str(second),
                                                       'http://h/c.pth'],
                       fold=2, postprocessing=spec, probs_saved=True)
    assert summary['checkpoint'] == dict(
        path=str(first), sha256=hashlib.sha256(b'one').hexdigest())
    assert summary['checkpoints'] == [
        summary['checkpoint'],
        dict(path=str(second), sha256=hashlib.sha256(b'two').hexdigest()),
        dict(path='http://h/c.pth', sha256=None)]
    assert (summary['fold'], summary['postprocessing'],
            summary['probs_saved']) == (2, spec, True)
    # scored from saved probabilities: no checkpoint at all
    summary = _summary(tmp_path, None)
    assert summary['checkpoint'] == dict(path=None, sha256=None)
    assert summary['checkpoints'] == []


def test_config_fold_is_the_files_own_value(tmp_path):
    cfg = tmp_path / 'fold.py'
    cfg.write_text("fold = 3\nann = f'splits/fold{fold}_val.txt'\n")
    assert to.config_fold(str(cfg)) == 3
    # overrides of the tested data or of fold: the file's value may lie
    assert to.config_fold(str(cfg), {'model.x': 1}) == 3
    assert to.config_fold(str(cfg), {'fold': 1}) is None
    assert to.config_fold(
        str(cfg), {'test_dataloader.dataset.ann_file': 'f1.txt'}) is None
    (tmp_path / 'plain.py').write_text('x = 1\n')
    assert to.config_fold(str(tmp_path / 'plain.py')) is None
    (tmp_path / 'flag.py').write_text('fold = True\n')
    assert to.config_fold(str(tmp_path / 'flag.py')) is None


def test_write_summary_strict_json_and_no_silent_replace(tmp_path):
    summary = _summary(tmp_path, 'none.pth')
    out = tmp_path / 'out'
    path = to.write_summary(summary, str(out))
    assert path == str(out / 'summary.json')
    text = (out / 'summary.json').read_text()
    assert text == json.dumps(summary, indent=2) + '\n'
    assert 'NaN' not in text
    with pytest.raises(FileExistsError, match=f'"{out / "summary.json"}" '
                       'exists'):
        to.write_summary(dict(summary, num_images=9), str(out))
    assert json.loads((out / 'summary.json').read_text())['num_images'] == 2
    assert sorted(p.name for p in out.iterdir()) == ['summary.json']

    class Record:  # what OutputRecord offers
        def __init__(self):
            self.written = {}

        def write_text(self, name, text):
            self.written[name] = text
            return 'somewhere/' + name

    record = Record()
    assert to.write_summary(summary, str(out), record) == \
        'somewhere/summary.json'
    assert record.written == {'summary.json': text}
    with pytest.raises(ValueError):  # non-finite numbers are refused
        to.write_summary(dict(summary, x=float('nan')), str(tmp_path / 'n'))


def test_read_summary_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError,
                       match=f'summary "{tmp_path / "none.json"}" not found'):
        to.read_summary(str(tmp_path / 'none.json'))
    bad = tmp_path / 'bad.json'
    bad.write_text('{"metrics": ')
    with pytest.raises(ValueError, match=f'{bad} is not valid JSON'):
        to.read_summary(str(bad))
    bad.write_text('[1, 2]')
    with pytest.raises(ValueError, match=f'{bad} does not hold a JSON '
                       r'object \(got list\)'):
        to.read_summary(str(bad))
    bad.write_text('{"num_images": 3}')
    assert to.read_summary(bad) == {'num_images': 3}


# -------------------------------------------------------- per-image rows
def _medical_metric_outputs(out_dir):
    """Run MedicalMetric on one scored and one all-ignored image."""
    gt = np.zeros((8, 8), np.int64)
    gt[2:6, 2:6] = 1
    pred = np.zeros_like(gt)
    pred[2:6, 3:7] = 1
    ignored = np.full_like(gt, 255)

    def sample(p, g, name):
        return dict(img_path=f'/data/{name}.png',
                    pred_sem_seg=dict(data=torch.from_numpy(p)[None]),
                    gt_sem_seg=dict(data=torch.from_numpy(g)[None]))

    metric = MedicalMetric(output_dir=str(out_dir))
    metric.dataset_meta = dict(classes=('background', 'lesion'))
    metric.process({}, [sample(pred, gt, '001'), sample(pred, ignored, 'b')])
    metric.evaluate(2)
    return metric.per_image_results


def test_medical_metric_writes_the_contract_columns(tmp_path):
    rows = _medical_metric_outputs(tmp_path)
    fields = to.per_image_fields(['lesion'])
    assert fields == ['image', 'img_path', 'IoU.lesion', 'Dice.lesion',
                      'HD95.lesion', 'ASSD.lesion', 'skipped']
    assert [list(r) for r in rows] == [fields, fields]
    header = (tmp_path / to.PER_IMAGE_CSV_NAME).read_text().splitlines()[0]
    assert header == ','.join(fields)
    assert [r['skipped'] for r in rows] == ['', to.SKIPPED_ALL_IGNORED]


def test_read_per_image_same_rows_from_csv_and_summary(tmp_path):
    rows = _medical_metric_outputs(tmp_path)
    summary = tmp_path / 'summary.json'
    to.write_summary(to.json_value(dict(per_image=rows)), str(tmp_path))
    from_csv = to.read_per_image(str(tmp_path / to.PER_IMAGE_CSV_NAME))
    from_json = to.read_per_image(str(summary))
    assert from_csv == from_json
    scored, skipped = from_csv
    assert scored['image'] == '001'  # names stay text
    assert scored['Dice.lesion'] == pytest.approx(75.0)
    assert scored['skipped'] == ''
    assert skipped['skipped'] == 'gt_all_ignored'
    assert skipped['Dice.lesion'] is None  # NaN in the CSV, null in JSON
    assert math.isclose(rows[0]['IoU.lesion'], scored['IoU.lesion'])


def test_read_per_image_older_csv_and_errors(tmp_path):
    old = tmp_path / 'old.csv'
    old.write_text('image,img_path,Dice.lesion\nx,/x.png,inf\n')
    assert to.read_per_image(str(old)) == [
        dict(image='x', img_path='/x.png', **{'Dice.lesion': None},
             skipped='')]
    with pytest.raises(FileNotFoundError,
                       match=f'metrics file "{tmp_path / "no.csv"}"'):
        to.read_per_image(str(tmp_path / 'no.csv'))
    empty = tmp_path / 'empty.csv'
    empty.write_text('image,img_path\n')
    with pytest.raises(ValueError, match=f'{empty} has no rows'):
        to.read_per_image(str(empty))
    none = tmp_path / 'none.json'
    none.write_text(json.dumps(dict(per_image=None)))
    with pytest.raises(ValueError, match=f'{none} has no per-image metrics '
                       r'\(the test ran without MedicalMetric\)'):
        to.read_per_image(str(none))
    none.write_text(json.dumps(dict(per_image=[1, 2])))
    with pytest.raises(ValueError, match='"per_image" is not a list of rows'):
        to.read_per_image(str(none))
    txt = tmp_path / 'm.txt'
    txt.write_text('x')
    with pytest.raises(ValueError, match='must be .json or .csv'):
        to.read_per_image(str(txt))


@pytest.mark.parametrize('prefix, name', [
    ('nuclei_sge', 'per_image_nuclei_sge_metrics.csv'),
    ('nuclei', 'per_image_nuclei_metrics.csv'),
    ('a/b c', 'per_image_a_b_c_metrics.csv')])
def test_prefixed_csv_name(prefix, name):
    from sgdc_mmseg.evaluation.metrics.nuclei_metric import nuclei_csv_name
    from sgdc_mmseg.evaluation.test_outputs import prefixed_csv_name
    assert prefixed_csv_name(prefix) == name
    assert nuclei_csv_name(prefix) == name  # what NucleiMetric writes
