"""The test-output contract: what ``tools/test.py --out DIR`` writes and how
it is read back.

This module owns the names and formats; writers (``tools/test.py`` through
:mod:`sgdc_mmseg.engine.testing`, :class:`MedicalMetric`) and readers
(the study runner, ``tools/analysis/worst_cases.py``) use it instead of
spelling keys themselves. Format documented in ``docs/inference.md``.

* ``DIR/summary.json`` (:data:`SUMMARY_NAME`): a JSON object whose keys are
  :data:`SUMMARY_KEYS`, in that order (:func:`build_summary`). Numbers are
  plain JSON; non-finite numbers are ``null`` (:func:`json_value`).
  ``metrics`` holds everything the test returned except per-class keys,
  which :func:`split_per_class` regroups under ``per_class`` as
  ``{class: {Metric: value}}``.
* ``DIR/per_image_metrics.csv`` (:data:`PER_IMAGE_CSV_NAME`, written by
  ``MedicalMetric``) and ``summary.json``'s ``per_image``: one row per test
  image with the columns :func:`per_image_fields` (``image``, ``img_path``,
  ``<Metric>.<class>`` for every foreground class, ``skipped``: ``''`` for a
  scored image, a reason such as :data:`SKIPPED_ALL_IGNORED` otherwise).
  :func:`read_per_image` reads either file into the same rows.
* ``DIR/pred/<image stem>.png`` (:data:`PRED_DIR_NAME`, written by mmseg's
  ``IoUMetric``): the predicted class ids (uint8, original image size,
  after post-processing when one was applied), nothing else in that folder,
  so that mmseg's ``tools/analysis_tools/confusion_matrix.py CONFIG
  DIR/pred SAVE_DIR`` reads it (it opens every file of the folder in
  sorted name order and pairs the i-th with the i-th test image).
* ``DIR/probs/<image stem>.npz`` (:data:`PROBS_DIR_NAME`, with
  ``--save-probs``): one array :data:`PROBS_KEY`, float16, ``(num_classes,
  H, W)`` at the original image size, summing to 1 over the classes (see
  :mod:`sgdc_mmseg.apis.probabilities`); never post-processed.
* The config hash (:func:`config_sha256`): sha256 of the config as mmengine
  dumps it after the ``--cfg-options``; the one hash of the project (test
  summaries and study fingerprints).

This module never imports ``sgdc_mmseg.models`` or ``sgdc_mmseg.apis``;
mmengine and mmseg are imported only where a function needs them.
"""
import copy
import csv
import datetime
import hashlib
import json
import math
import os
import os.path as osp

#: File names in the ``--out`` folder of ``tools/test.py``.
SUMMARY_NAME = 'summary.json'
PER_IMAGE_CSV_NAME = 'per_image_metrics.csv'


def prefixed_csv_name(prefix):
    """The per-image CSV that a metric with key prefix ``prefix`` writes
    into the ``--out`` folder: ``per_image_<prefix>_metrics.csv``, the
    prefix made file-safe (``nuclei_sge`` -> ``per_image_nuclei_sge_metrics.csv``;
    NucleiMetric's files)."""
    safe = ''.join(c if c.isalnum() or c in '-_.' else '_' for c in prefix)
    return f'per_image_{safe}_metrics.csv'


#: Sub-folders of the ``--out`` folder: predicted masks and probabilities.
PRED_DIR_NAME = 'pred'
PROBS_DIR_NAME = 'probs'
#: The one array of a probability file.
PROBS_KEY = 'probs'

#: Keys of ``summary.json``, in the order they are written.
KEY_CONFIG = 'config'
KEY_CHECKPOINT = 'checkpoint'
KEY_CHECKPOINTS = 'checkpoints'
KEY_FOLD = 'fold'
KEY_DATE = 'date'
KEY_VERSIONS = 'versions'
KEY_TTA = 'tta'
KEY_POSTPROCESSING = 'postprocessing'
KEY_PROBS_SAVED = 'probs_saved'
KEY_EVALUATORS = 'evaluators'
KEY_MEDICAL_METRIC_ADDED = 'medical_metric_added'
KEY_CLASSES = 'classes'
KEY_NUM_IMAGES = 'num_images'
KEY_METRICS = 'metrics'
KEY_PER_CLASS = 'per_class'
KEY_PER_IMAGE = 'per_image'
SUMMARY_KEYS = (KEY_CONFIG, KEY_CHECKPOINT, KEY_CHECKPOINTS, KEY_FOLD,
                KEY_DATE, KEY_VERSIONS, KEY_TTA, KEY_POSTPROCESSING,
                KEY_PROBS_SAVED, KEY_EVALUATORS, KEY_MEDICAL_METRIC_ADDED,
                KEY_CLASSES, KEY_NUM_IMAGES, KEY_METRICS, KEY_PER_CLASS,
                KEY_PER_IMAGE)

#: The registered type name of the per-image metric.
MEDICAL_METRIC = 'MedicalMetric'
#: ``MedicalMetric``'s default key prefix and its dataset-level keys
#: (``medical/<name>`` in the test's metrics and ``summary.json``).
MEDICAL_PREFIX = 'medical'
MEDICAL_MIOU = f'{MEDICAL_PREFIX}/mIoU'
MEDICAL_MDICE = f'{MEDICAL_PREFIX}/mDice'
MEDICAL_MHD95 = f'{MEDICAL_PREFIX}/mHD95'
MEDICAL_MASSD = f'{MEDICAL_PREFIX}/mASSD'
MEDICAL_AIOU = f'{MEDICAL_PREFIX}/aIoU'
MEDICAL_ADICE = f'{MEDICAL_PREFIX}/aDice'
MEDICAL_TJ = f'{MEDICAL_PREFIX}/TJ'
MEDICAL_NUM_SKIPPED = f'{MEDICAL_PREFIX}/num_skipped_ignored'
#: mmseg ``IoUMetric``'s mean IoU over all classes (background included).
MMSEG_MIOU = 'mIoU'

#: Per-image metrics (columns ``<Metric>.<class>``) and the other columns.
PER_IMAGE_METRICS = ('IoU', 'Dice', 'HD95', 'ASSD')
COL_IMAGE = 'image'
COL_IMG_PATH = 'img_path'
COL_SKIPPED = 'skipped'
#: ``skipped`` value of a row whose ground truth is entirely
#: ``ignore_index`` (scored rows have ``''``).
SKIPPED_ALL_IGNORED = 'gt_all_ignored'


# ------------------------------------------------------------ per-image rows
def per_image_column(metric, class_name):
    """``('Dice', 'lesion')`` -> ``'Dice.lesion'``."""
    return f'{metric}.{class_name}'


def per_image_fields(class_names):
    """Columns of a per-image row for the foreground ``class_names``."""
    return [COL_IMAGE, COL_IMG_PATH] + [
        per_image_column(metric, name) for name in class_names
        for metric in PER_IMAGE_METRICS] + [COL_SKIPPED]


def _is_metric_column(key):
    return str(key).split('.', 1)[0] in PER_IMAGE_METRICS and '.' in key


def finite_or_none(value):
    """A finite float, or None for ``None``, ``''``, NaN, inf and text that
    is not a number (CSV cells are text)."""
    if value is None or value == '':
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _normalise_row(row):
    """Metric columns as finite float or None, ``skipped`` as text."""
    out = {}
    for key, value in row.items():
        out[key] = finite_or_none(value) if _is_metric_column(key) else value
    skipped = out.get(COL_SKIPPED)
    out[COL_SKIPPED] = '' if skipped in (None, False, '') else str(skipped)
    return out


def read_per_image(path):
    """Per-image rows of ``summary.json`` (its ``per_image``) or of
    ``per_image_metrics.csv``, in file order.

    Every row has the file's columns; ``<Metric>.<class>`` values are
    floats, ``None`` where undefined (NaN/empty in the CSV, ``null`` in the
    JSON); ``skipped`` is ``''`` for a scored image and the reason (e.g.
    :data:`SKIPPED_ALL_IGNORED`) for an image that was not scored (rows of
    older files without the column count as scored).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: not ``.json``/``.csv``, not readable as such, or without
            rows (the message names the file).
    """
    path = str(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'metrics file "{path}" not found')
    if path.lower().endswith('.json'):
        rows = read_summary(path).get(KEY_PER_IMAGE, None)
        if not rows:
            raise ValueError(
                f'{path} has no per-image metrics (the test ran without '
                f'{MEDICAL_METRIC})')
        if not isinstance(rows, list) or \
                not all(isinstance(r, dict) for r in rows):
            raise ValueError(f'{path}: "{KEY_PER_IMAGE}" is not a list of '
                             'rows (objects)')
    elif path.lower().endswith('.csv'):
        with open(path, newline='', encoding='utf-8') as f:
            rows = list(csv.DictReader(f))
        if not rows:
            raise ValueError(f'{path} has no rows')
    else:
        raise ValueError(f'metrics file must be .json or .csv, got {path}')
    return [_normalise_row(row) for row in rows]


# --------------------------------------------------------------- summary
def json_value(value):
    """Plain JSON: numbers as float/int, non-finite as None, numpy scalars
    (and one-element arrays) unwrapped, anything else as ``str``."""
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if hasattr(value, 'item') and callable(value.item) and \
            getattr(value, 'size', 1) == 1:
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def split_per_class(metrics, classes):
    """``{'medical/IoU.lesion': v, 'mIoU': m}`` ->
    (``{'mIoU': m}``, ``{'lesion': {'IoU': v}}``).

    A key belongs to the longest class name it ends with (``.<class>``);
    when two prefixes give the same metric name for a class, the second
    keeps its full prefix (``medical/IoU``)."""
    means, per_class = {}, {}
    suffixes = sorted(((f'.{c}', c) for c in classes or ()),
                      key=lambda s: -len(s[0]))
    for key, value in metrics.items():
        for suffix, name in suffixes:
            if key.endswith(suffix):
                metric = key[:-len(suffix)].split('/')[-1]
                entry = per_class.setdefault(name, {})
                entry[metric if metric not in entry else
                      key[:-len(suffix)]] = value
                break
        else:
            means[key] = value
    return means, per_class


def sha256_file(path, chunk=1 << 20):
    """Hex sha256 of the file's bytes."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def config_sha256(config, cfg_options=None):
    """sha256 of a config as mmengine dumps it, after ``cfg_options``.

    ``config`` is a config file path or an mmengine ``Config`` (not
    modified), e.g. ``Config.fromstring(text, file_format='.py')`` for a
    config held as text. Comments, file names and formatting of the source
    do not count; the tools' run settings (work dir, checkpoint, outputs)
    must be applied after hashing, not before.
    """
    from mmengine.config import Config
    if isinstance(config, Config):
        cfg = copy.deepcopy(config)
    else:
        cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return hashlib.sha256(cfg.dump().encode('utf-8')).hexdigest()


def library_versions():
    """Versions of sgdc_mmseg, mmseg, mmengine, torch (and mmcv)."""
    import mmengine
    import mmseg
    import torch

    from ..version import __version__
    versions = dict(sgdc_mmseg=__version__, mmseg=mmseg.__version__,
                    mmengine=mmengine.__version__, torch=torch.__version__)
    try:
        import mmcv
        versions['mmcv'] = mmcv.__version__
    except ImportError:  # pragma: no cover
        pass
    return versions


def _utc_now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec='seconds')


def checkpoint_entry(checkpoint):
    """``{'path', 'sha256'}`` of a checkpoint: a local file as an absolute
    path with its sha256, anything else (a URL, a missing file) as given
    with ``sha256: None``."""
    if checkpoint is None:
        return dict(path=None, sha256=None)
    local = osp.expanduser(str(checkpoint))
    if osp.isfile(local):
        return dict(path=osp.abspath(local), sha256=sha256_file(local))
    return dict(path=str(checkpoint), sha256=None)


def config_fold(config, cfg_options=None):
    """The top-level ``fold`` variable of a config file as written in the
    file (``--cfg-options`` are NOT applied: configs such as
    ``configs/_base_/datasets/conic.py`` use ``fold`` to build their split
    file names when the file is parsed, so an override of ``fold`` would not
    change the data tested). An int or a string; ``None`` when the config
    has no such variable (or it is of another type), and when
    ``cfg_options`` override ``fold`` or anything under
    ``test_dataloader`` (then the file's fold need not be the data
    tested)."""
    from mmengine.config import Config
    if any(str(k) == 'fold' or str(k).startswith('test_dataloader')
           for k in (cfg_options or {})):
        return None
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    fold = cfg.get('fold', None)
    if isinstance(fold, bool) or not isinstance(fold, (int, str)):
        return None
    return fold


def build_summary(config, checkpoint, metrics, *, cfg_options=None,
                  tta=False, evaluators=(), medical_metric_added=False,
                  classes=(), num_images=0, per_image=None, date=None,
                  versions=None, ensemble=(), fold=None, postprocessing=None,
                  probs_saved=False):
    """The content of ``summary.json``: a dict with :data:`SUMMARY_KEYS`.

    Args:
        config (str): the tested config file (recorded as an absolute path
            with :func:`config_sha256` of it and ``cfg_options``).
        checkpoint (str | None): the tested checkpoint (the first one of an
            ensemble; None for a test from saved probabilities), recorded as
            :func:`checkpoint_entry`.
        ensemble (Sequence[str]): the further checkpoints of an ensemble;
            ``checkpoints`` lists ``checkpoint`` and these, each as
            :func:`checkpoint_entry` (an empty list without a checkpoint).
        fold (int | str | None): the config's fold (:func:`config_fold`).
        postprocessing (dict | None): the post-processing spec applied.
        probs_saved (bool): whether ``probs/`` was written.
        metrics (dict): what the test returned; per-class keys go to
            ``per_class`` (:func:`split_per_class` with ``classes``).
        per_image (list[dict] | None): per-image rows, None without them.
        date (str, optional): ISO date; default now (UTC, seconds).
        versions (dict, optional): default :func:`library_versions`.
    """
    classes = list(classes or ())
    means, per_class = split_per_class(dict(metrics or {}), classes)
    first = checkpoint_entry(checkpoint)
    checkpoints = [] if checkpoint is None else \
        [first] + [checkpoint_entry(c) for c in ensemble or ()]
    return json_value({
        KEY_CONFIG: dict(path=osp.abspath(config),
                         sha256=config_sha256(config, cfg_options),
                         cfg_options=dict(cfg_options or {})),
        KEY_CHECKPOINT: first,
        KEY_CHECKPOINTS: checkpoints,
        KEY_FOLD: fold,
        KEY_DATE: date if date is not None else _utc_now(),
        KEY_VERSIONS: versions if versions is not None
        else library_versions(),
        KEY_TTA: bool(tta),
        KEY_POSTPROCESSING: postprocessing,
        KEY_PROBS_SAVED: bool(probs_saved),
        KEY_EVALUATORS: list(evaluators),
        KEY_MEDICAL_METRIC_ADDED: bool(medical_metric_added),
        KEY_CLASSES: classes,
        KEY_NUM_IMAGES: num_images,
        KEY_METRICS: means,
        KEY_PER_CLASS: per_class,
        KEY_PER_IMAGE: per_image,
    })


def summary_text(summary):
    """``summary.json``'s text: indented strict JSON (no NaN) and a final
    newline."""
    return json.dumps(summary, indent=2, allow_nan=False) + '\n'


def write_summary(summary, out_dir, record=None):
    """Write ``out_dir/summary.json``; returns its path.

    ``record`` is the folder's output record (an
    :class:`sgdc_mmseg.apis.outputs.OutputRecord`, or anything with
    ``write_text(name, text) -> path``): it writes atomically and refuses a
    foreign ``summary.json`` unless it allows overwriting. Without one the
    file is written atomically (:mod:`sgdc_mmseg.utils.fileio`) only if no
    ``summary.json`` is there (``FileExistsError`` naming it otherwise).
    """
    text = summary_text(summary)
    if record is not None:
        return record.write_text(SUMMARY_NAME, text)
    from ..utils.fileio import atomic_write_text
    path = osp.join(out_dir, SUMMARY_NAME)
    if osp.lexists(path):
        raise FileExistsError(
            f'"{path}" exists; pass the folder\'s OutputRecord to replace '
            'a summary this tool wrote')
    os.makedirs(out_dir, exist_ok=True)
    atomic_write_text(path, text)
    return path


def read_summary(path):
    """The object of a ``summary.json`` (a dict).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: not JSON or not a JSON object (the message names the
            file).
    """
    path = str(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'summary "{path}" not found')
    with open(path, encoding='utf-8') as f:
        try:
            summary = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f'{path} is not valid JSON: {e}') from None
    if not isinstance(summary, dict):
        raise ValueError(f'{path} does not hold a JSON object '
                         f'(got {type(summary).__name__})')
    return summary
