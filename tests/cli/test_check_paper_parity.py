"""sgdc_mmseg.cli.check_paper_parity: exit status of the check, missing
files and packages named (the check itself:
tests/models/test_paper_parity.py)."""
import pytest

from sgdc_mmseg.cli.check_paper_parity import main
from sgdc_mmseg.models import paper_parity


def test_missing_checkout_file_is_named(tmp_path):
    with pytest.raises(SystemExit) as err:
        main([str(tmp_path)])
    assert str(err.value) == (
        f'check_paper_parity: {tmp_path}/SGE.py not found (pass the folder '
        'of a checkout of github solstice0621/SGDC)')


def test_missing_package_is_named(tmp_path):
    (tmp_path / 'SGE.py').write_text('import no_such_package_xyz\n')
    (tmp_path / 'sgdc.py').write_text('')
    with pytest.raises(SystemExit) as err:
        main([str(tmp_path)])
    assert str(err.value) == (
        "check_paper_parity: the paper's code needs no_such_package_xyz: "
        'pip install no_such_package_xyz')


@pytest.mark.parametrize('ok,status', [(True, 0), (False, 1)])
def test_exit_status_follows_the_check(monkeypatch, ok, status):
    seen = []

    def fake_check(repo, rtol, atol64):
        seen.append((repo, rtol, atol64))
        return ok

    monkeypatch.setattr(paper_parity, 'check_paper_parity', fake_check)
    assert main(['/x', '--rtol', '1e-4', '--atol64', '1e-9']) == status
    assert seen == [('/x', 1e-4, 1e-9)]
