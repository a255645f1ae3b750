"""Shared fixtures (see :mod:`helpers`)."""
# Without CUDA, run the Triton kernels of sgdc_aggregate under Triton's CPU
# interpreter. Triton reads TRITON_INTERPRET when a kernel is decorated, so
# this must happen before anything imports triton or those kernels.
import importlib.util
import os

if importlib.util.find_spec('triton') is not None:
    import torch as _torch
    if not _torch.cuda.is_available():
        os.environ.setdefault('TRITON_INTERPRET', '1')

import os.path as osp
import sys

import pytest
import torch

_HERE = osp.dirname(osp.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from helpers import make_tiny_dataset, write_tiny_config  # noqa: E402

# The tiny models are far too small for intra-op parallelism; with 2 cores
# shared with other processes, extra OpenMP threads only add contention.
torch.set_num_threads(1)


@pytest.fixture(scope='session')
def tiny_data_root(tmp_path_factory):
    """A folder with 8 random 32x32 images and 0/1 masks (shared, read-only)."""
    return make_tiny_dataset(str(tmp_path_factory.mktemp('tiny_data')))


@pytest.fixture
def tiny_config(tmp_path, tiny_data_root):
    """Factory: ``tiny_config(**kwargs)`` writes a tiny config and returns
    its path (keyword arguments as :func:`helpers.write_tiny_config`)."""
    counter = [0]

    def _make(name=None, **kwargs):
        counter[0] += 1
        name = name or f'tiny_cfg_{counter[0]}.py'
        return write_tiny_config(str(tmp_path / name), tiny_data_root,
                                 **kwargs)

    return _make
