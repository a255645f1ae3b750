#!/usr/bin/env python
"""FLOPs and parameters of a segmentor, SGDC's aggregation op included.

Usage::

    python tools/analysis/get_flops.py CONFIG [--shape H [W]]
        [--cfg-options k=v ...] [--table] [--json OUT.json]

Counts one ``3 x H x W`` image (default 512 x 512) through the model in
eval mode without its auxiliary heads, with mmengine's FLOP counter and our
handle for ``sgdc_mmseg::sgdc_aggregate`` (``B*C*k^2*H*W``); one FLOP is
one multiply-add, as in mmengine's convolution handle. See
:func:`sgdc_mmseg.compat.flops.model_complexity` (mmseg 1.2.2's own
``get_flops.py`` fails with mmengine 0.10.7). Operators that no handle
counts are listed under "not counted".
"""
import os.path as osp
import sys

_REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from sgdc_mmseg.cli.get_flops import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
