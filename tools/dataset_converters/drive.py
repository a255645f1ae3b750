"""Convert the official DRIVE download (retinal vessels) into images/ +
masks/ + fov/ + split files.

Usage::

    python tools/dataset_converters/drive.py SOURCE -o OUT [options]

Run with ``--help`` for the options, the expected SOURCE layout and the
split protocol; the command line is :mod:`sgdc_mmseg.cli.convert_drive`,
the library :mod:`sgdc_mmseg.datasets.converters.drive` (see
``docs/converters.md``).
"""
import os.path as osp
import sys

_REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from sgdc_mmseg.cli.convert_drive import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
