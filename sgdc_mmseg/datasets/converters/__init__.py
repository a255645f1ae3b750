"""Converters from the official dataset archives to the layout read by
:class:`~sgdc_mmseg.datasets.LesionFolderDataset`-style datasets::

    <OUT>/images/<name>.jpg|.png   masks/<name>.png   [instances/<name>.png]
    <OUT>/splits/<split>.txt       <OUT>/conversion.json (written last)

One module per dataset (:mod:`.isic2016`, :mod:`.isic2018`, :mod:`.ph2`,
:mod:`.conic`), each with ``convert(source, out, ...)``; their command lines
are :mod:`sgdc_mmseg.cli.convert_isic2016` & co. (run as
``tools/dataset_converters/<name>.py``). The shared machinery, one module
per concern:

* :mod:`.checks` -- :class:`ConversionError` and the argument checks;
* :mod:`.sources` -- reading SOURCE (folders, zip files, ``.npy`` arrays),
  pairing images and masks by name;
* :mod:`.images` -- decoding, checking, resizing and encoding images and
  masks;
* :mod:`.records` -- ``conversion.json``: settings, per-sample source
  signatures and output digests, whether a sample can be skipped;
* :mod:`.output` -- the output folder: what it may hold and overwrite,
  refusing writes into SOURCE, atomic writes;
* :mod:`.runner` -- running the per-sample tasks with a progress bar,
  writing the record and the printed summary;
* :mod:`.pairs` -- the image + 0/255 mask conversion shared by ISIC 2016,
  ISIC 2018 and PH2;
* :mod:`.aperio` -- Aperio ImageScope XML (MoNuSeg): parsing, and filling
  the polygons into an instance map.

See ``docs/converters.md``.
"""
from . import conic, isic2016, isic2018, ph2
from . import drive
from . import monuseg
from .checks import ConversionError

CONVERTERS = {
    'isic2016': isic2016,
    'isic2018': isic2018,
    'ph2': ph2,
    'conic': conic,
    'drive': drive,
    'monuseg': monuseg,
}

__all__ = ['CONVERTERS', 'ConversionError', 'conic', 'isic2016', 'isic2018',
           'ph2', 'drive', 'monuseg']
