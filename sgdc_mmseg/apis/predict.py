"""What ``tools/infer.py`` does: predict masks (and the SGE's maps) for a
set of image files into an output folder.

Order of work (:func:`predict_images`): the inputs are collected and the
output folder is checked, created and probed (:func:`prepare_outputs`:
not an input folder, no foreign files unless ``overwrite``) before the
model is loaded; the checkpoint must fit the model unless ``non_strict``;
the result files are recorded before any is written; an image that cannot
be read or written is listed and the others go on. Refusals are
:class:`PredictionRunError`, whose message is what the tool prints after
``error:``.
"""
import os.path as osp
import time
from dataclasses import dataclass
from typing import List, Optional

from .inference import (StructureInferencer, check_resize, collect_images,
                        describe_failure, load_segmentor, prepare_outputs,
                        result_files, save_result)
from .outputs import OutputNotWritableError, UnsafeOutputError


class PredictionRunError(RuntimeError):
    """A prediction run refused before any image is written."""


@dataclass
class PredictOptions:
    """The settings of one run of ``tools/infer.py`` (its arguments)."""
    config: str
    checkpoint: str
    inputs: List[str]
    out_dir: str
    overwrite: bool = False
    edges: bool = False
    device: str = 'auto'
    batch_size: int = 4
    resize: str = 'auto'
    recursive: bool = False
    opacity: float = 0.4
    cfg_options: Optional[dict] = None
    no_progress: bool = False
    non_strict: bool = False
    ensemble: Optional[List[str]] = None
    tta: bool = False
    save_probs: bool = False
    postprocess: Optional[str] = None


def uses_ensemble_model(options):
    """Whether the run segments through an
    :class:`~sgdc_mmseg.apis.ensemble.EnsembleSegmentor` (further
    checkpoints, flip TTA or a post-processing spec)."""
    return bool(options.ensemble) or bool(options.tta) or \
        options.postprocess is not None


def _num_classes(model):
    head = getattr(model, 'decode_head', None)
    if hasattr(head, '__getitem__') and not hasattr(head, 'num_classes'):
        head = head[-1]
    return getattr(head, 'num_classes', None)


def build_segmentor(model, options):
    """The :class:`~sgdc_mmseg.apis.ensemble.EnsembleSegmentor` of
    ``model`` (the first checkpoint) and ``options.ensemble`` (each loaded
    with :func:`load_segmentor`, strictly unless ``non_strict``), flip TTA
    and post-processing; ``None`` when none is asked for.

    Raises:
        FileNotFoundError, ValueError: a missing or unfitting checkpoint
            (named), an unusable post-processing file or one for another
            number of classes.
    """
    if not uses_ensemble_model(options):
        return None
    from ..evaluation.postprocessing import load_postprocessing
    from .ensemble import EnsembleSegmentor
    spec = None
    if options.postprocess is not None:
        spec = load_postprocessing(options.postprocess)
        classes = _num_classes(model)
        if classes is not None and spec['num_classes'] != classes:
            raise ValueError(
                f'post-processing file "{options.postprocess}" is for '
                f'{spec["num_classes"]} classes, the model has {classes}')
    device = next(model.parameters()).device
    members = [load_segmentor(options.config, ckpt, device,
                              options.cfg_options,
                              strict=not options.non_strict)
               for ckpt in options.ensemble or ()]
    return EnsembleSegmentor(model, members=members, flip=options.tta,
                             postprocess=spec).eval()


def _prepare(options):
    """Inputs, output folder, model: ``(files, skipped, kinds, record,
    replaced, inferencer)``."""
    try:
        files, skipped = collect_images(options.inputs,
                                        recursive=options.recursive)
        check_resize(options.resize)
        kinds = ['mask', 'overlay'] + (['edge', 'guidance'] if options.edges
                                       else []) + \
            (['probs'] if options.save_probs else [])
        record, replaced = prepare_outputs(
            options.out_dir, options.inputs, files, kinds,
            overwrite=options.overwrite)
    except (FileNotFoundError, ValueError, OutputNotWritableError) as e:
        raise PredictionRunError(str(e)) from None
    try:
        for ckpt in options.ensemble or ():  # before any is loaded
            if '://' not in str(ckpt) and not osp.isfile(
                    osp.expanduser(str(ckpt))):
                raise FileNotFoundError(
                    f'--ensemble checkpoint "{ckpt}" not found')
        model = load_segmentor(options.config, options.checkpoint,
                               options.device, options.cfg_options,
                               strict=not options.non_strict)
        inferencer = StructureInferencer(
            model, resize=options.resize, with_structure=options.edges,
            segmentor=build_segmentor(model, options),
            with_probs=options.save_probs)
    except (FileNotFoundError, ValueError, RuntimeError) as e:
        raise PredictionRunError(str(e)) from None
    return files, skipped, kinds, record, replaced, inferencer


def _report_plan(options, files, skipped, replaced, inferencer, log):
    device = next(inferencer.model.parameters()).device
    log(f'{len(files)} image(s) on {device}, batch size '
        f'{options.batch_size}; {inferencer.resize_note}.')
    if skipped:
        log(f'skipped {len(skipped)} file(s) without an image extension: '
            + ', '.join(skipped[:10]) + (' ...' if len(skipped) > 10
                                         else ''))
    if options.edges and not inferencer.has_guidance:
        log('note: no guidance map (the model has no structure-guided '
            'kernels); writing edge maps only.')
    if replaced:
        log(f'--overwrite: replacing {len(replaced)} existing file(s) '
            'that this tool did not write')


def predict_images(options, log=print):
    """Predict every input image into ``options.out_dir``.

    Returns:
        list[tuple[str, str]]: ``(image path, reason)`` of every image that
        could not be processed (the others are written).

    Raises:
        PredictionRunError: inputs, output folder or model unusable.
    """
    files, skipped, kinds, record, replaced, inferencer = _prepare(options)
    _report_plan(options, files, skipped, replaced, inferencer, log)
    if options.edges and not inferencer.has_guidance:
        kinds.remove('guidance')
    try:
        record.claim(result_files(files, kinds))  # recorded before writing
    except (ValueError, OSError) as e:
        raise PredictionRunError(str(e)) from None

    failures, written = [], 0
    start = time.time()
    for item, outcome in inferencer.run(files, options.batch_size,
                                        progress=not options.no_progress):
        if isinstance(outcome, Exception):
            failures.append((item['img_path'], describe_failure(outcome)))
            continue
        try:
            save_result(outcome, options.out_dir, inferencer.palette,
                        inferencer.draw_ids, opacity=options.opacity,
                        record=record)
        except (OSError, UnsafeOutputError) as e:
            failures.append((item['img_path'], str(e)))
            continue
        written += 1

    folders = 'masks/, overlays/' + (', edges/' if options.edges else '') + \
        (', guidance/' if inferencer.has_guidance else '') + \
        (', probs/' if options.save_probs else '')
    log(f'wrote {written} of {len(files)} image(s) to {options.out_dir} '
        f'({folders}) in {time.time() - start:.1f} s')
    return failures
