"""sgdc_mmseg.evaluation.case_ranking: worst cases first, by Dice or HD95."""
import pytest

from sgdc_mmseg.evaluation.case_ranking import case_score, rank_cases


def _rows(dice):
    return [{'image': f'{i:03d}', 'img_path': f'/d/{i:03d}.png',
             'Dice.lesion': d, 'HD95.lesion': None if d is None else 100 - d,
             'IoU.lesion': d, 'ASSD.lesion': 1.0}
            for i, d in enumerate(dice)]


def test_rank_cases():
    rows = _rows([50.0, None, 10.0, 90.0])
    ranked = rank_cases(rows, 'dice')
    assert [r['image'] for _, r in ranked] == ['002', '000', '003', '001']
    assert [s for s, _ in ranked] == [10.0, 50.0, 90.0, None]
    ranked = rank_cases(rows, 'hd95')
    assert [r['image'] for _, r in ranked] == ['002', '000', '003', '001']
    two = [{'Dice.a': 10.0, 'Dice.b': 30.0}, {'Dice.a': 5.0, 'Dice.b': 90.0}]
    assert [s for s, _ in rank_cases(two)] == [20.0, 47.5]
    assert [s for s, _ in rank_cases(two, class_name='a')] == [5.0, 10.0]
    with pytest.raises(ValueError, match=r"no column 'Dice.c'.*\['a', 'b'\]"):
        rank_cases(two, class_name='c')


def test_rank_cases_leaves_out_unscored_images():
    rows = _rows([50.0, None, 10.0])
    rows[2]['skipped'] = 'gt_all_ignored'
    rows[2]['Dice.lesion'] = float('nan')
    ranked = rank_cases(rows, 'dice')
    assert [r['image'] for _, r in ranked] == ['000', '001']


def test_case_score_reads_csv_text():
    row = {'Dice.a': '40.0', 'Dice.b': 'nan', 'HD95.a': ''}
    assert case_score(row, 'Dice') == 40.0
    assert case_score(row, 'Dice', 'b') is None
    assert case_score(row, 'HD95') is None
    with pytest.raises(ValueError, match=r'no IoU.<class> columns'):
        case_score(row, 'IoU')
