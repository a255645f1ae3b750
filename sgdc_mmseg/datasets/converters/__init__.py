"""Converters from the official dataset archives to the layout read by
:class:`~sgdc_mmseg.datasets.LesionFolderDataset`-style datasets::

    <OUT>/images/<name>.jpg|.png   masks/<name>.png   [instances/<name>.png]
    <OUT>/splits/<split>.txt       <OUT>/conversion.json (written last)

One module per dataset (:mod:`.isic2016`, :mod:`.isic2018`, :mod:`.ph2`,
:mod:`.conic`), each with ``convert(source, out, ...)`` and ``main(argv)``
(the command line of ``tools/dataset_converters/<name>.py``); the shared
machinery is in :mod:`.common`. See ``docs/converters.md``.
"""
from . import conic, isic2016, isic2018, ph2
from .common import ConversionError

CONVERTERS = {
    'isic2016': isic2016,
    'isic2018': isic2018,
    'ph2': ph2,
    'conic': conic,
}

__all__ = ['CONVERTERS', 'ConversionError', 'conic', 'isic2016', 'isic2018',
           'ph2']
