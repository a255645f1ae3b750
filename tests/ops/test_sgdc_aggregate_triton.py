"""sgdc_mmseg.ops.sgdc_aggregate_triton, the former home of the Triton
backend, kept for existing imports (tools/benchmark): its names still work
and are the backend's. The backend's tests are in
tests/ops/backends/test_triton.py and tests/ops/test_sgdc_aggregate.py."""
import pytest
import torch

from sgdc_mmseg.ops import sgdc_aggregate
from sgdc_mmseg.ops import sgdc_aggregate_triton as legacy
from sgdc_mmseg.ops.backends import get_backend


def test_names_are_the_backends():
    backend = get_backend('triton')
    assert legacy.triton_available is backend.triton_available
    assert legacy.SUPPORTED_DTYPES is backend.SUPPORTED_DTYPES


def test_legacy_function_is_the_dispatcher_with_triton(device):
    verdict = get_backend('triton').can_run(device, torch.float32)
    if not verdict:
        pytest.skip(verdict.reason)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 4, 3, 5, generator=gen).to(device)
    logits = torch.randn(1, 2 * 9, 3, 5, generator=gen).to(device)
    assert torch.equal(legacy.sgdc_aggregate_triton(x, logits, 3, 2),
                       sgdc_aggregate(x, logits, 3, 2, backend='triton'))
