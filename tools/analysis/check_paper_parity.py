#!/usr/bin/env python
"""Check SGE/SGDC against the paper's public code (github solstice0621/SGDC).

Usage::

    git clone https://github.com/solstice0621/SGDC /path/to/SGDC
    pip install einops            # the paper's code needs it
    python tools/analysis/check_paper_parity.py /path/to/SGDC [--rtol R]
        [--atol64 A]

The paper's ``SGE.py`` and ``sgdc.py`` are read, not modified: ``sgdc.py`` is
executed from memory with its einops pattern ``(hgt*wdt)`` (rejected by
einops) replaced by the intended ``(hgt wdt)``; timm, which it imports only
for ``DropPath``, is replaced by mmcv's ``DropPath`` when timm is absent.
The paper's modules get random weights and BatchNorm statistics; ours load
their ``state_dict`` with ``strict=True``; outputs, input gradients and
parameter gradients are compared in train and eval mode, fp32 and fp64.
Exit status 1 when, in fp32, a difference relative to the largest magnitude
of the compared tensor exceeds ``--rtol`` (default 1e-5; gradients of the
SGE reach magnitudes above 100, where fp32 summation order alone moves the
last digits), or when an fp64 difference exceeds ``--atol64``.
"""
import os.path as osp
import sys

_REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from sgdc_mmseg.cli.check_paper_parity import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
