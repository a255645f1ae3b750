"""sgdc_mmseg/datasets/utils.py: error-message name lists and the
converters' atomic writes (temporary file ``<path>.<pid>.partial``)."""
import os

import pytest

from sgdc_mmseg.datasets.utils import TMP_SUFFIX, format_names, \
    write_atomically


def test_format_names_sorts_and_summarises():
    assert format_names(['b', 'a']) == 'a, b'
    assert format_names([str(i) for i in range(12)], limit=2,
                        sort=False) == '0, 1, ... (10 more)'


def test_write_atomically_replaces_a_leftover_of_its_process(tmp_path):
    path = tmp_path / 'fold0_val.txt'
    leftover = tmp_path / f'fold0_val.txt.{os.getpid()}{TMP_SUFFIX}'
    leftover.write_bytes(b'half')  # what a killed run of this pid left
    write_atomically(str(path), b'a\nb\n')
    assert path.read_bytes() == b'a\nb\n'
    assert os.listdir(tmp_path) == ['fold0_val.txt']
    with pytest.raises(TypeError):
        write_atomically(str(path), 'not bytes')
    assert path.read_bytes() == b'a\nb\n'
    assert os.listdir(tmp_path) == ['fold0_val.txt']
