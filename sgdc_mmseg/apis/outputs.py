"""Where the tools write, and what they may replace there.

The output contract of ``tools/infer.py`` and ``tools/test.py --out`` (see
``docs/inference.md``): a tool never destroys a file it did not write.

* :func:`check_output_dir` refuses an output folder that **is**,
  **contains** or **lies inside** an input folder of the run (image folders,
  mask folders, the folder of a split file; the folder of a single input
  file). Both sides are resolved with ``os.path.realpath``, so a symlink into
  an input folder is refused too. It only compares paths: nothing is read or
  created.
* :func:`image_input_dirs` (``tools/infer.py``) and :func:`dataset_input_dirs`
  / :func:`input_dirs_of_test_data` (``tools/test.py``, from the config
  alone, with the datasets' own defaults for ``data_root`` and
  ``data_prefix``, through dataset wrappers such as ``ConcatDataset``) list
  those input folders.
* :func:`guard_test_outputs` / :func:`finish_test_outputs`: what
  ``tools/test.py --out`` checks before the model is built, and how the
  evaluators' files (written by their own code into ``.sgdc_staging``) are
  moved into place afterwards.
* :class:`OutputRecord` keeps, in ``<out_dir>/.sgdc_outputs.json``, the
  files the tools created in an output folder. An existing file that is not
  listed there is *foreign*: it is never replaced unless ``overwrite`` is
  set (``--overwrite``), and the refusal names it. A file is recorded
  (:meth:`OutputRecord.claim`) **before** it is written, so a run killed
  after writing a file but before recording it cannot lock itself out;
  listed files may be rewritten by a later run.
* Every file is written atomically (:func:`atomic_write`): the bytes go to a
  temporary file ``.<name>.<8 hex>.sgdc-tmp`` in the same folder, which then
  replaces the final name with ``os.replace``. A run killed at any moment
  leaves either the old file or the complete new one under the final name,
  never a truncated one; its leftover temporary files are removed by the
  next run that claims the same names. (Atomic against a killed process;
  without ``fsync`` of every file, not against a power cut.)

Two runs writing into the same output folder at the same time are not
supported (the second may remove the first one's temporary files).
"""
import json
import os
import os.path as osp
import re
import secrets
import shutil

from ..utils.fileio import atomic_write as write_atomically

#: The record of the files the tools created in an output folder.
MANIFEST_NAME = '.sgdc_outputs.json'
#: Ending of the temporary files of :func:`atomic_write`.
TEMP_SUFFIX = '.sgdc-tmp'
_TEMP_RE = re.compile(r'^\.(?P<name>.+)\.[0-9a-f]{8}' + re.escape(TEMP_SUFFIX)
                      + '$')
_MANIFEST_NOTE = ('files created in this folder by sgdc_mmseg tools; they may '
                  'be rewritten by a later run, any other file is kept '
                  'unless --overwrite is given')


class UnsafeOutputError(ValueError):
    """Writing to the output folder could destroy files the tool did not
    write: it overlaps an input folder, or holds a foreign file."""


class ForeignFileError(UnsafeOutputError):
    """A file the tool would write exists and was not written by it."""


class OutputNotWritableError(OSError):
    """The output folder cannot be created or written to."""


# --------------------------------------------------------------------- #
# Output folder vs input folders
# --------------------------------------------------------------------- #
def _real(path):
    return osp.realpath(osp.expanduser(str(path)))


def _inside(path, folder):
    """Whether real path ``path`` is ``folder`` or lies below it."""
    try:
        return osp.commonpath([path, folder]) == folder
    except ValueError:  # different drives
        return False


def check_output_dir(out_dir, input_dirs, what='output folder'):
    """Refuse ``out_dir`` if it is, contains or lies inside an input folder.

    Args:
        out_dir (str): the folder the tool would write to (need not exist).
        input_dirs (Iterable[str | tuple[str, str]]): input folders, or
            ``(folder, role)`` pairs whose role (e.g. ``'mask folder of
            test_dataloader.dataset'``) is named in the error.
        what (str): how to name ``out_dir`` in the error (e.g.
            ``'--show-dir'``).

    Returns:
        str: the real path of ``out_dir``.

    Raises:
        UnsafeOutputError: naming both folders (as given and resolved) and
            the relation.
    """
    out_real = _real(out_dir)
    for entry in input_dirs:
        folder, role = entry if isinstance(entry, tuple) else \
            (entry, 'input folder')
        in_real = _real(folder)
        if out_real == in_real:
            how = 'is'
        elif _inside(out_real, in_real):
            how = 'lies inside'
        elif _inside(in_real, out_real):
            how = 'contains'
        else:
            continue
        shown_out = f'"{out_dir}"' + (f' (= {out_real})' if osp.abspath(
            osp.expanduser(str(out_dir))) != out_real else '')
        shown_in = f'"{folder}"' + (f' (= {in_real})' if osp.abspath(
            osp.expanduser(str(folder))) != in_real else '')
        raise UnsafeOutputError(
            f'{what} {shown_out} {how} the {role} {shown_in}: writing there '
            'could replace the inputs of this run (e.g. ground-truth masks); '
            'choose a folder outside every input folder')
    return out_real


def image_input_dirs(inputs, files=()):
    """Input folders of an inference run: every folder given as an input
    and the folder of every input file (also of the files a glob matched).

    Returns:
        list[str]: sorted, duplicates removed (as given, not resolved).
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    dirs = {str(spec) for spec in inputs if osp.isdir(str(spec))}
    dirs.update(osp.dirname(str(f)) or '.' for f in files)
    return sorted(dirs)


def _dataset_class(kind):
    if isinstance(kind, type):
        return kind
    if not isinstance(kind, str):
        return None
    import sgdc_mmseg  # noqa: F401  (registers our datasets)
    from mmseg.registry import DATASETS
    try:
        return DATASETS.get(kind)
    except Exception:  # noqa: BLE001  (an unknown scope prefix)
        return None


def _default_arg(cls, name):
    """The default of ``name`` in the first ``__init__`` along the MRO of
    ``cls`` that declares it (``(False, None)`` when none does)."""
    import inspect
    for klass in getattr(cls, '__mro__', ()):
        init = klass.__dict__.get('__init__', None)
        if init is None:
            continue
        try:
            param = inspect.signature(init).parameters.get(name, None)
        except (TypeError, ValueError):
            continue
        if param is not None and param.kind not in (param.VAR_KEYWORD,
                                                    param.VAR_POSITIONAL):
            if param.default is param.empty:
                return False, None
            return True, param.default
    return False, None


def _join(root, prefix):
    if prefix and osp.isabs(prefix):
        return prefix
    return osp.normpath(osp.join(root or '', prefix or ''))


def dataset_input_dirs(dataset, name='dataset'):
    """The folders a dataset config reads: ``(folder, role)`` pairs.

    From the config alone (nothing is built or listed): ``data_root``
    joined with every ``data_prefix`` entry (``img_path`` -> image folder,
    ``seg_map_path`` -> mask folder) and the folder of ``ann_file``, as
    mmengine's ``BaseDataset`` joins them. Keys the config leaves out take
    the dataset class's own defaults (e.g. ``SyntheticLesionDataset``'s
    ``data_root``, ``BaseSegDataset``'s ``data_prefix`` of ``''``, i.e.
    ``data_root`` itself; :class:`~sgdc_mmseg.datasets.MedicalFolderDataset`
    and its subclasses: ``images``/``masks``). Wrappers (``dataset=`` as in
    ``RepeatDataset``, ``datasets=[...]`` as in ``ConcatDataset``) are
    followed. A dataset whose folders cannot be told is taken to read all
    of ``data_root``.

    Args:
        dataset (dict): a dataset config.
        name (str): how to name it in the roles (e.g.
            ``'test_dataloader.dataset'``).

    Returns:
        list[tuple[str, str]]
    """
    if not isinstance(dataset, dict):
        return []
    found = []
    if isinstance(dataset.get('dataset', None), dict):
        found += dataset_input_dirs(dataset['dataset'], f'{name}.dataset')
    inner = dataset.get('datasets', None)
    if isinstance(inner, (list, tuple)):
        for i, d in enumerate(inner):
            found += dataset_input_dirs(d, f'{name}.datasets[{i}]')
    is_wrapper = bool(found) or 'datasets' in dataset or 'dataset' in dataset
    leaf_keys = ('data_root', 'data_prefix', 'ann_file')
    if is_wrapper and not any(k in dataset for k in leaf_keys):
        return found

    cls = _dataset_class(dataset.get('type', None))
    from ..datasets import MedicalFolderDataset
    medical = isinstance(cls, type) and issubclass(cls, MedicalFolderDataset)
    if 'data_root' in dataset:
        root = dataset['data_root']
    else:
        root = _default_arg(cls, 'data_root')[1]
    known, prefix = True, dataset.get('data_prefix', None)
    if prefix is None and 'data_prefix' not in dataset:
        known, prefix = _default_arg(cls, 'data_prefix')
    if prefix is None and medical:
        known, prefix = True, dict(img_path='images', seg_map_path='masks')
    if not known or not isinstance(prefix, dict):
        found.append((_join(root, ''), f'data_root of {name} (its folders '
                      'could not be told from the config)'))
        return found
    roles = dict(img_path='image folder', seg_map_path='mask folder')
    for key, value in prefix.items():
        if key == 'seg_map_path' and medical and not value:
            continue  # images only (inference)
        if value is not None and not isinstance(value, str):
            continue
        found.append((_join(root, value),
                      f'{roles.get(key, f"{key} folder")} of {name}'))
    ann_file = dataset.get('ann_file', None)
    if isinstance(ann_file, str) and ann_file:
        path = _join(root, ann_file)
        if not osp.isdir(path):
            path = osp.dirname(path) or '.'
        found.append((path, f'folder of the split file of {name}'))
    return found


def input_dirs_of_test_data(cfg):
    """:func:`dataset_input_dirs` of ``cfg.test_dataloader.dataset``."""
    loader = cfg.get('test_dataloader', None) or {}
    return dataset_input_dirs(loader.get('dataset', None),
                              'test_dataloader.dataset')


# --------------------------------------------------------------------- #
# Writing
# --------------------------------------------------------------------- #
def prepare_output_dir(out_dir, subdirs=()):
    """Create ``out_dir`` (and ``subdirs`` in it) and check that a file can
    be written there, so that an unusable output folder is reported before
    any model work.

    Raises:
        OutputNotWritableError: naming the folder and the reason.
    """
    for folder in [out_dir] + [osp.join(out_dir, s) for s in subdirs]:
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as e:
            reason = 'it exists and is not a folder' if \
                isinstance(e, FileExistsError) else \
                (e.strerror or type(e).__name__)
            raise OutputNotWritableError(
                f'output folder "{folder}" cannot be created: {reason}') \
                from e
        probe = osp.join(folder, f'.sgdc-write-probe.{secrets.token_hex(4)}')
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            os.unlink(probe)
        except OSError as e:
            raise OutputNotWritableError(
                f'output folder "{folder}" is not writable: '
                f'{e.strerror or type(e).__name__}') from e


def atomic_write(path, data):
    """Write ``data`` (bytes) to ``path`` through a temporary file in the
    same folder and ``os.replace``: ``path`` is never seen half-written.
    The new file gets the usual permissions (``0o666`` less the umask);
    :func:`sgdc_mmseg.utils.fileio.atomic_write` does the work."""
    write_atomically(path, data, temp_suffix=TEMP_SUFFIX)


def _norm_rel(rel):
    rel = str(rel).replace(os.sep, '/')
    parts = [p for p in rel.split('/') if p not in ('', '.')]
    if not parts or osp.isabs(str(rel)) or '..' in parts:
        raise ValueError(f'output names must be relative paths inside the '
                         f'output folder, got {rel!r}')
    return '/'.join(parts)


def _shown(paths, limit=5):
    paths = list(paths)
    text = ', '.join(f'"{p}"' for p in paths[:limit])
    return text + (f' and {len(paths) - limit} more' if len(paths) > limit
                   else '')


class OutputRecord:
    """The files a tool created in ``out_dir``, kept in
    ``out_dir/.sgdc_outputs.json`` (see the module docstring).

    Args:
        out_dir (str): the output folder (need not exist; nothing is
            created until something is claimed or written).
        overwrite (bool): allow replacing foreign files (they are then
            recorded as the tool's own).
        track (bool): keep the record. ``False``: no record is read or
            written and every name counts as the tool's own (plain atomic
            writes, for library use).

    Raises:
        ForeignFileError: the record exists but is not one (unless
            ``overwrite``).
    """

    def __init__(self, out_dir, overwrite=False, track=True):
        self.out_dir = str(out_dir)
        self.overwrite = bool(overwrite)
        self.track = bool(track)
        self.manifest_path = osp.join(self.out_dir, MANIFEST_NAME)
        self.files = set(self._load()) if self.track else set()

    def _load(self):
        if not osp.lexists(self.manifest_path):
            return []
        try:
            with open(self.manifest_path, encoding='utf-8') as f:
                data = json.load(f)
            files = data['files']
            if not isinstance(files, list) or not all(
                    isinstance(p, str) for p in files):
                raise TypeError('"files" is not a list of names')
            return [_norm_rel(p) for p in files]
        except (OSError, ValueError, TypeError, KeyError) as e:
            if self.overwrite:
                return []
            raise ForeignFileError(
                f'"{self.manifest_path}" is not a record of sgdc_mmseg '
                f'outputs ({type(e).__name__}: {e}); so no file in '
                f'"{self.out_dir}" is known to be ours. Move it away or pass '
                '--overwrite to replace it') from e

    def path(self, rel):
        """The path of the relative name ``rel`` under ``out_dir``."""
        return osp.join(self.out_dir, *_norm_rel(rel).split('/'))

    def owns(self, rel):
        return not self.track or _norm_rel(rel) in self.files

    def foreign(self, rels):
        """The names in ``rels`` that exist in ``out_dir`` but are not
        recorded (relative names, sorted)."""
        return sorted({
            r for r in map(_norm_rel, rels)
            if not self.owns(r) and osp.lexists(self.path(r))
        })

    def check(self, rels):
        """Refuse foreign files among ``rels`` unless ``overwrite``.

        Returns:
            list[str]: the foreign files that will be replaced (only with
            ``overwrite``; empty otherwise).

        Raises:
            ForeignFileError: naming the files.
        """
        foreign = self.foreign(rels)
        if foreign and not self.overwrite:
            raise ForeignFileError(
                f'{len(foreign)} file(s) in output folder "{self.out_dir}" '
                'would be replaced but were not written by this tool (not '
                f'listed in {MANIFEST_NAME}): '
                f'{_shown(self.path(r) for r in foreign)}. Move them away, '
                'choose another output folder, or pass --overwrite to '
                'replace them')
        return [self.path(r) for r in foreign]

    def claim(self, rels):
        """Record ``rels`` as the tool's own before writing them
        (:meth:`check` first) and remove leftover temporary files of them.

        Returns:
            list[str]: foreign files that will be replaced (``overwrite``).
        """
        rels = [_norm_rel(r) for r in rels]
        replaced = self.check(rels)
        if not self.track:
            return replaced
        new = set(rels) - self.files
        if new:
            self.files |= new
            self.save()
        self.remove_stale_temps(rels)
        return replaced

    def save(self):
        """Write the record (atomically; sorted, no dates: the same files
        give the same bytes)."""
        os.makedirs(self.out_dir, exist_ok=True)
        text = json.dumps(dict(note=_MANIFEST_NOTE, files=sorted(self.files)),
                          indent=1) + '\n'
        atomic_write(self.manifest_path, text.encode('utf-8'))

    def remove_stale_temps(self, rels=None):
        """Remove the temporary files that :func:`atomic_write` left for
        recorded names (a killed run); nothing else is touched."""
        by_dir = {}
        for rel in self.files if rels is None else map(_norm_rel, rels):
            if rel in self.files:
                folder, _, name = rel.rpartition('/')
                by_dir.setdefault(folder, set()).add(name)
        by_dir.setdefault('', set()).add(MANIFEST_NAME)
        for folder, names in by_dir.items():
            path = osp.join(self.out_dir, *folder.split('/')) if folder \
                else self.out_dir
            try:
                entries = os.listdir(path)
            except OSError:
                continue
            for entry in entries:
                m = _TEMP_RE.match(entry)
                if m and m.group('name') in names:
                    try:
                        os.unlink(osp.join(path, entry))
                    except FileNotFoundError:
                        pass

    def write_bytes(self, rel, data):
        """Claim ``rel`` (if not yet) and write ``data`` atomically."""
        rel = _norm_rel(rel)
        if not self.owns(rel):
            self.claim([rel])
        path = self.path(rel)
        os.makedirs(osp.dirname(path), exist_ok=True)
        atomic_write(path, data)
        return path

    def write_text(self, rel, text):
        return self.write_bytes(rel, text.encode('utf-8'))

    def write_png(self, rel, array):
        """Encode ``array`` as PNG with OpenCV and write it atomically."""
        import cv2
        ok, buf = cv2.imencode('.png', array)
        if not ok:
            raise OSError(f'could not encode {self.path(rel)} as PNG')
        return self.write_bytes(rel, buf.tobytes())

    def adopt(self, src, rel):
        """Move the finished file ``src`` (on the same file system) to
        ``rel``, claiming it first; ``os.replace`` is atomic."""
        rel = _norm_rel(rel)
        if not self.owns(rel):
            self.claim([rel])
        path = self.path(rel)
        os.makedirs(osp.dirname(path), exist_ok=True)
        os.replace(src, path)
        return path


# --------------------------------------------------------------------- #
# tools/test.py --out
# --------------------------------------------------------------------- #
#: Folder under ``--out`` where the evaluators write (mmseg's ``IoUMetric``
#: PNGs, ``MedicalMetric``'s CSV) before the files are moved into place.
STAGING_NAME = '.sgdc_staging'


def staging_dir(out_dir):
    """Where ``tools/test.py`` points the evaluators' ``output_dir``."""
    return osp.join(str(out_dir), STAGING_NAME)


def dataset_output_stems(dataset_cfg, default_scope='mmseg'):
    """Stems of the images of a dataset config (what mmseg's ``IoUMetric``
    names its PNGs after), by building it without its pipeline."""
    import copy

    from mmengine.registry import DefaultScope

    import sgdc_mmseg  # noqa: F401
    from mmseg.registry import DATASETS

    def strip(cfg):
        if isinstance(cfg, dict):
            cfg = {k: strip(v) for k, v in cfg.items()}
            if 'pipeline' in cfg:
                cfg['pipeline'] = []
            return cfg
        if isinstance(cfg, (list, tuple)):
            return type(cfg)(strip(v) for v in cfg)
        return cfg

    cfg = strip(copy.deepcopy(dict(dataset_cfg)))
    with DefaultScope.overwrite_default_scope(default_scope or 'mmseg'):
        dataset = DATASETS.build(cfg)
    if hasattr(dataset, 'full_init'):
        dataset.full_init()
    stems = []
    for i in range(len(dataset)):
        path = dataset.get_data_info(i).get('img_path', None)
        if path:
            stems.append(osp.splitext(osp.basename(path))[0])
    return stems


def _launch_rank(launcher='none'):
    """Rank of this process as its launcher set it (0 without one)."""
    if launcher in (None, 'none'):
        return 0
    for key in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK'):
        if os.environ.get(key, '').isdigit():
            return int(os.environ[key])
    return 0


def guard_test_outputs(cfg, out_dir=None, show_dir=None, overwrite=False,
                       names=('summary.json', 'per_image_metrics.csv'),
                       log=print, per_image=('pred/{stem}.png', )):
    """Everything ``tools/test.py`` checks before building the model.

    * ``out_dir`` and ``show_dir`` (where mmengine's visualizer writes:
      relative to the current folder) must not overlap the test dataset's
      folders (:func:`check_output_dir`);
    * in ``out_dir``, ``names`` and, for every test image, each of the
      ``per_image`` patterns (default ``pred/{stem}.png``, where
      ``tools/test.py`` puts ``IoUMetric``'s predictions) must not be
      foreign files (:class:`OutputRecord`), unless ``overwrite``;
    * ``out_dir`` must be writable; on the launching rank 0 they are then
      claimed, with the staging folder (a stale one of a killed run is
      removed).

    Returns:
        OutputRecord | None: the record of ``out_dir``.
    """
    inputs = input_dirs_of_test_data(cfg)
    if show_dir:
        check_output_dir(show_dir, inputs, what='--show-dir folder')
    if out_dir is None:
        return None
    check_output_dir(out_dir, inputs, what='--out folder')
    record = OutputRecord(out_dir, overwrite=overwrite)
    loader = cfg.get('test_dataloader', None) or {}
    stems = dataset_output_stems(loader['dataset'],
                                 cfg.get('default_scope', 'mmseg'))
    rels = list(names) + [pattern.format(stem=s) for pattern in per_image
                          for s in stems]
    replaced = record.check(rels + [STAGING_NAME])
    prepare_output_dir(out_dir)
    if _launch_rank(cfg.get('launcher', 'none')) == 0:
        record.claim(rels + [STAGING_NAME])
        stage = staging_dir(out_dir)
        if osp.isdir(stage) and not osp.islink(stage):
            shutil.rmtree(stage)  # ours (claimed): a killed run's leftovers
        elif osp.lexists(stage):
            os.unlink(stage)
        if replaced:
            log(f'--overwrite: replacing {len(replaced)} existing file(s) '
                f'not written by this tool in "{out_dir}"')
    return record


def finish_test_outputs(record):
    """Move what the evaluators wrote in the staging folder to its final
    name (claiming it; a foreign file in the way is left alone, and so is
    the staged file). Removes the then empty staging folders.

    Returns:
        tuple[list[str], list[str]]: the moved files (final paths) and the
        staged files that were kept because a foreign file has their name.
    """
    stage = staging_dir(record.out_dir)
    moved, kept = [], []
    if not osp.isdir(stage):
        return moved, kept
    for root, dirs, files in os.walk(stage, topdown=False):
        for name in sorted(files):
            src = osp.join(root, name)
            rel = osp.relpath(src, stage)
            if not record.owns(rel) and record.foreign([rel]) and \
                    not record.overwrite:
                kept.append(src)
                continue
            moved.append(record.adopt(src, rel))
        try:
            os.rmdir(root)
        except OSError:
            pass
    return moved, kept


__all__ = [
    'MANIFEST_NAME', 'STAGING_NAME', 'TEMP_SUFFIX', 'ForeignFileError',
    'OutputNotWritableError', 'OutputRecord', 'UnsafeOutputError',
    'atomic_write', 'check_output_dir', 'dataset_input_dirs',
    'dataset_output_stems', 'finish_test_outputs', 'guard_test_outputs',
    'image_input_dirs', 'input_dirs_of_test_data', 'prepare_output_dir',
    'staging_dir'
]
