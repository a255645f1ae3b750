"""Predict masks (and show what the SGE sees) for images, folders or globs.

Usage::

    python tools/infer.py CONFIG CHECKPOINT INPUT [INPUT ...] --out-dir DIR
        [--edges] [--device auto|cpu|cuda:0] [--batch-size N]
        [--resize auto|none|WxH] [--recursive] [--opacity A]
        [--cfg-options k=v ...] [--no-progress] [--overwrite] [--non-strict]

INPUT is an image file, a folder (its image files; sub-folders with
``--recursive``) or a quoted glob such as ``'scans/**/*.jpg'``. Written under
DIR, each named after the image's stem:

* ``masks/<stem>.png``: class ids (0 = background, ...), original size;
* ``overlays/<stem>.png``: the image with the prediction filled and outlined;
* with ``--edges``: ``edges/<stem>.png`` (SGE boundary probability x 255)
  and ``guidance/<stem>.png`` (first 3 PCA components of the SGE guidance
  map as RGB; only for ``kernel_source='structure'`` models).

DIR must not be an input folder, contain one or lie inside one (symlinks
resolved); an existing file there that this tool did not write (it lists its
own in ``DIR/.sgdc_outputs.json``) stops the run unless ``--overwrite`` is
given. Both are checked, and DIR is created and probed for writing, before
the model is loaded. Files are written atomically, so a killed run can simply
be run again.

The checkpoint must fit the model exactly (no missing or unexpected keys,
no shape mismatches); otherwise the run stops before any image, naming the
checkpoint and the first offending keys. ``--non-strict`` loads what fits
and warns. A bare state dict (no ``meta``) loads; the class names then come
from the config's dataset.

An image that cannot be read does not stop the run: the others are written,
the failures are listed at the end and the exit status is 1. See
docs/inference.md.
"""
import argparse
import os.path as osp
import sys
import time

_REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

import sgdc_mmseg  # noqa: E402,F401  (compat layer first)
from mmengine.config import DictAction  # noqa: E402

from sgdc_mmseg.apis import (StructureInferencer, collect_images,  # noqa: E402
                             describe_failure, load_segmentor, save_result)
from sgdc_mmseg.apis import (OutputNotWritableError,  # noqa: E402
                             UnsafeOutputError, check_resize, prepare_outputs,
                             result_files)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Predict segmentation masks for images, folders or '
        'globs (and, with --edges, the SGE edge and guidance maps)')
    parser.add_argument('config', help='config file of the model')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        'inputs', nargs='+', metavar='INPUT',
        help='image file, folder or (quoted) glob pattern')
    parser.add_argument('--out-dir', required=True,
                        help='folder for masks/, overlays/, edges/, '
                        'guidance/ (not an input folder, nor one that '
                        'contains or lies inside one)')
    parser.add_argument(
        '--overwrite', action='store_true',
        help='replace existing files in --out-dir that this tool did not '
        'write (without it they stop the run; files listed in '
        'DIR/.sgdc_outputs.json are always rewritten)')
    parser.add_argument(
        '--edges', action='store_true',
        help='also write the SGE edge map and the guidance picture')
    parser.add_argument(
        '--device', default='auto',
        help='cpu, cuda, cuda:N or auto (CUDA when available; default)')
    parser.add_argument('--batch-size', type=int, default=4,
                        help='images per forward pass (default 4)')
    parser.add_argument(
        '--resize', default='auto',
        help='auto (default: to the training size when the config implies '
        'one, see docs/inference.md), none (own size), or WIDTHxHEIGHT')
    parser.add_argument('--recursive', action='store_true',
                        help='also take images from sub-folders of a folder')
    parser.add_argument('--opacity', type=float, default=0.4,
                        help='fill opacity of the overlays (default 0.4)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
        help='override settings in the config')
    parser.add_argument('--no-progress', action='store_true',
                        help='no progress bar')
    parser.add_argument(
        '--non-strict', action='store_true',
        help='load a checkpoint that does not fit the model (missing, '
        'unexpected or differently shaped tensors): what fits is loaded, '
        'with a warning')
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error(f'--batch-size must be >= 1, got {args.batch_size}')
    if not 0 <= args.opacity <= 1:
        parser.error(f'--opacity must be in [0, 1], got {args.opacity}')
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        files, skipped = collect_images(args.inputs,
                                        recursive=args.recursive)
        check_resize(args.resize)
        kinds = ['mask', 'overlay'] + (['edge', 'guidance'] if args.edges
                                       else [])
        record, replaced = prepare_outputs(args.out_dir, args.inputs, files,
                                           kinds, overwrite=args.overwrite)
    except (FileNotFoundError, ValueError, OutputNotWritableError) as e:
        raise SystemExit(f'error: {e}')
    try:
        model = load_segmentor(args.config, args.checkpoint, args.device,
                               args.cfg_options,
                               strict=not args.non_strict)
        inferencer = StructureInferencer(model, resize=args.resize,
                                         with_structure=args.edges)
    except (FileNotFoundError, ValueError, RuntimeError) as e:
        raise SystemExit(f'error: {e}')

    device = next(model.parameters()).device
    print(f'{len(files)} image(s) on {device}, batch size {args.batch_size}; '
          f'{inferencer.resize_note}.')
    if skipped:
        print(f'skipped {len(skipped)} file(s) without an image extension: '
              + ', '.join(skipped[:10]) + (' ...' if len(skipped) > 10
                                           else ''))
    if args.edges and not inferencer.has_guidance:
        print('note: no guidance map (the model has no structure-guided '
              'kernels); writing edge maps only.')
        kinds.remove('guidance')
    if replaced:
        print(f'--overwrite: replacing {len(replaced)} existing file(s) '
              'that this tool did not write')
    try:
        record.claim(result_files(files, kinds))  # recorded before writing
    except (ValueError, OSError) as e:
        raise SystemExit(f'error: {e}')

    failures, written = [], 0
    start = time.time()
    for item, outcome in inferencer.run(files, args.batch_size,
                                        progress=not args.no_progress):
        if isinstance(outcome, Exception):
            failures.append((item['img_path'], describe_failure(outcome)))
            continue
        try:
            save_result(outcome, args.out_dir, inferencer.palette,
                        inferencer.draw_ids, opacity=args.opacity,
                        record=record)
        except (OSError, UnsafeOutputError) as e:
            failures.append((item['img_path'], str(e)))
            continue
        written += 1

    kinds = 'masks/, overlays/' + (', edges/' if args.edges else '') + \
        (', guidance/' if inferencer.has_guidance else '')
    print(f'wrote {written} of {len(files)} image(s) to {args.out_dir} '
          f'({kinds}) in {time.time() - start:.1f} s')
    if failures:
        print(f'FAILED: {len(failures)} image(s) could not be processed:')
        for path, reason in failures:
            print(f'  {path}: {reason}')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
