"""Command line of ``tools/analysis/check_paper_parity.py``; the check is
:func:`sgdc_mmseg.models.paper_parity.check_paper_parity` (the loader of
the paper's code: :mod:`sgdc_mmseg.models.paper_code`)."""
import argparse


def build_parser():
    parser = argparse.ArgumentParser(
        description="Check SGE/SGDC against the paper's public code (github "
        'solstice0621/SGDC).')
    parser.add_argument('paper_repo', help='checkout of solstice0621/SGDC')
    parser.add_argument('--rtol', type=float, default=1e-5,
                        help='fp32 tolerance, relative to max |paper|')
    parser.add_argument('--atol64', type=float, default=1e-10,
                        help='fp64 absolute tolerance')
    return parser


def main(argv=None):
    """Run the check; 0 when it passes, 1 when not (``SystemExit`` naming
    the missing file or package when the paper's code cannot be loaded)."""
    args = build_parser().parse_args(argv)
    import sgdc_mmseg  # noqa: F401
    from ..models.paper_parity import check_paper_parity
    try:
        ok = check_paper_parity(args.paper_repo, args.rtol, args.atol64)
    except FileNotFoundError as err:
        raise SystemExit(f'check_paper_parity: {err}')
    except ImportError as err:
        raise SystemExit(f"check_paper_parity: the paper's code needs "
                         f'{err.name}: pip install {err.name}')
    return 0 if ok else 1
