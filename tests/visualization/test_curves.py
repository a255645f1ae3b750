"""sgdc_mmseg.visualization.curves: which keys become curves, panels."""
import cv2
import pytest

from sgdc_mmseg.visualization.curves import curve_keys, plot_curves


def test_curve_keys_skip_counts_and_bookkeeping():
    entries = [dict(step=1, mIoU=50.0, lr=0.1,
                    **{'medical/num_skipped_ignored': 2,
                       'medical/mDice': 60.0})]
    assert curve_keys(entries, None, lambda k: True) == [
        'mIoU', 'medical/mDice']
    assert curve_keys(entries, ['medical/mDice', 'mAcc'],
                      lambda k: True) == ['medical/mDice']


def test_plot_curves_panels(tmp_path):
    train = [dict(step=s, loss=1.0 / s, lr=0.1) for s in (1, 2, 3)]
    val = [dict(step=s, mIoU=50.0 + s, **{'medical/mHD95': 9.0 - s})
           for s in (2, 3)]
    out = tmp_path / 'sub' / 'c.png'
    assert plot_curves({'run': (train, val)}, str(out)) == str(out)
    three = cv2.imread(str(out))
    plot_curves({'run': (train, val)}, str(tmp_path / 'one.png'),
                keys=['loss'], metrics=[])
    one = cv2.imread(str(tmp_path / 'one.png'))
    assert three.shape[1] > 2.5 * one.shape[1]  # losses, metrics, HD95
    with pytest.raises(ValueError, match='not in the logs: mAcc'):
        plot_curves({'run': (train, val)}, str(tmp_path / 'x.png'),
                    metrics=['mAcc'])
    assert not (tmp_path / 'x.png').exists()
