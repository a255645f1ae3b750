"""Aperio ImageScope XML annotations (the MoNuSeg format): parsing and
rasterising one polygon per nucleus into an instance map.

The file holds ``<Annotations>`` / ``<Annotation>`` / ``<Regions>`` /
``<Region Id=".."> <Vertices> <Vertex X=".." Y=".."/> ...``, one
``<Region>`` per nucleus, vertices in pixel coordinates of the tile (floats).
:func:`parse_regions` reads every ``<Region>`` of the file with the standard
library's :mod:`xml.etree.ElementTree`; malformed XML, a root other than
``<Annotations>`` and a vertex whose ``X`` or ``Y`` is missing, not a number
or not finite are errors naming the file (and the region).

:func:`rasterize` fills every region with :meth:`PIL.ImageDraw.ImageDraw.
polygon` at its own float coordinates, boundary pixels included (``fill``
and ``outline``): the union of the regions is the binary mask that drawing
every polygon on one image gives. Rules, all reported in
:class:`RasterReport`:

* **clipping**: vertices outside the tile are kept as they are; the filled
  polygon is clipped to the tile (only its pixels inside the tile are
  drawn). Regions with a vertex outside ``[0, W] x [0, H]`` are listed in
  ``clipped``;
* **empty regions**: a region with fewer than 2 vertices, or whose fill has
  no pixel inside the tile, gets no instance and is listed in ``empty``;
  a region of 2 vertices is filled as Pillow fills it (a line) and listed
  in ``degenerate``;
* **overlaps**: a pixel filled by several regions goes to the **smallest**
  of them (fewest filled pixels; equal sizes: the later region in the file),
  so a small nucleus drawn over a large one is never swallowed by it. The
  number of such pixels is ``overlap_pixels``; a region all of whose pixels
  go to smaller ones keeps no pixel and is listed in ``hidden``;
* **instance ids**: ``1..N`` in file order over the non-empty regions
  (``instance_ids`` maps each to its region's ``Id``); a hidden region's id
  does not occur in the map. At most 65535 instances (uint16 output).

Pillow's fill rule changed between Pillow 11.0 and 11.3 (measured on the
MoNuSeg tiles: 0..5 edge pixels per 1000x1000 tile differ, mostly pixels
that 11.0 fills and 11.3 and newer do not); the converter therefore records
the Pillow version.
"""
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .checks import ConversionError

#: Largest instance id of the uint16 instance maps.
MAX_INSTANCES = int(np.iinfo(np.uint16).max)
#: Pixels of margin around a polygon's bounding box when reading its fill
#: back (Pillow rounds coordinates to the nearest pixel).
_MARGIN = 2


@dataclass(frozen=True)
class Region:
    """One ``<Region>``: its ``Id`` attribute (its 1-based position in the
    file when it has none) and its vertices ``((x, y), ...)``."""
    region_id: str
    vertices: Tuple[Tuple[float, float], ...]


@dataclass
class RasterReport:
    """What :func:`rasterize` did with the regions of one file (region
    ``Id`` s in file order)."""
    regions: int = 0
    instances: int = 0
    empty: List[str] = field(default_factory=list)
    degenerate: List[str] = field(default_factory=list)
    clipped: List[str] = field(default_factory=list)
    hidden: List[str] = field(default_factory=list)
    overlap_pixels: int = 0
    instance_ids: Dict[int, str] = field(default_factory=dict)

    def as_record(self) -> dict:
        """The JSON-ready summary stored in ``conversion.json`` (without
        the id map)."""
        return dict(regions=self.regions, instances=self.instances,
                    empty=list(self.empty), degenerate=list(self.degenerate),
                    clipped=list(self.clipped), hidden=list(self.hidden),
                    overlap_pixels=int(self.overlap_pixels))


def _coordinate(vertex: ET.Element, axis: str, where: str, region_id: str,
                index: int) -> float:
    text = vertex.get(axis)
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = None
    if value is None or not math.isfinite(value):
        raise ConversionError(
            f'annotation {where}: Region Id={region_id!r}, vertex {index}: '
            f'{axis}={text!r} is not a finite number.')
    return value


def parse_regions(data: bytes, where: str) -> List[Region]:
    """Every ``<Region>`` of an Aperio ImageScope XML file (any number of
    ``<Annotation>`` elements), in file order.

    Raises:
        ConversionError: Naming ``where``, if the XML is malformed, its root
            is not ``<Annotations>``, or a vertex coordinate is missing or
            not a finite number.
    """
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise ConversionError(
            f'annotation {where} is not well-formed XML ({e}); expected '
            'Aperio ImageScope XML (<Annotations> ... <Region> <Vertices> '
            '<Vertex X=".." Y=".."/>).') from None
    if root.tag != 'Annotations':
        raise ConversionError(
            f'annotation {where}: the root element is <{root.tag}>, not '
            '<Annotations>; expected Aperio ImageScope XML.')
    regions = []
    for k, region in enumerate(root.iter('Region'), start=1):
        region_id = region.get('Id') or str(k)
        vertices = tuple(
            (_coordinate(v, 'X', where, region_id, i),
             _coordinate(v, 'Y', where, region_id, i))
            for i, v in enumerate(region.findall('./Vertices/Vertex'),
                                  start=1))
        regions.append(Region(region_id, vertices))
    return regions


def _fill(draw, scratch, vertices: Sequence[Tuple[float, float]],
          height: int, width: int):
    """Fill one polygon on the all-zero ``scratch`` image; returns
    ``(x0, y0, local mask)`` of its bounding box (None when no pixel inside
    the tile) and leaves ``scratch`` all zero again."""
    xs = [v[0] for v in vertices]
    ys = [v[1] for v in vertices]
    x0 = max(0, math.floor(min(xs)) - _MARGIN)
    y0 = max(0, math.floor(min(ys)) - _MARGIN)
    x1 = min(width, math.ceil(max(xs)) + _MARGIN + 1)
    y1 = min(height, math.ceil(max(ys)) + _MARGIN + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    draw.polygon(list(vertices), fill=1, outline=1)
    local = np.asarray(scratch.crop((x0, y0, x1, y1))) > 0
    draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=0)
    if not local.any():
        return None
    return x0, y0, local


def rasterize(regions: Sequence[Region], height: int, width: int,
              where: str = '') -> Tuple[np.ndarray, RasterReport]:
    """Instance map (``uint16``, 0 = background) of ``regions`` on a
    ``height x width`` tile, and the report (see the module docstring for
    the rules).

    Raises:
        ConversionError: If more than 65535 regions are non-empty.
    """
    from PIL import Image, ImageDraw
    report = RasterReport(regions=len(regions))
    scratch = Image.new('L', (width, height), 0)
    draw = ImageDraw.Draw(scratch)
    filled = []  # (instance id, x0, y0, local mask, pixel count)
    for region in regions:
        verts = region.vertices
        if any(not (0 <= x <= width and 0 <= y <= height)
               for x, y in verts):
            report.clipped.append(region.region_id)
        if len(verts) == 2:
            report.degenerate.append(region.region_id)
        got = _fill(draw, scratch, verts, height, width) \
            if len(verts) >= 2 else None
        if got is None:
            report.empty.append(region.region_id)
            continue
        inst_id = len(filled) + 1
        if inst_id > MAX_INSTANCES:
            raise ConversionError(
                f'annotation {where}: more than {MAX_INSTANCES} non-empty '
                'regions; the uint16 instance map cannot hold them.')
        report.instance_ids[inst_id] = region.region_id
        x0, y0, local = got
        filled.append((inst_id, x0, y0, local, int(local.sum())))
    inst = np.zeros((height, width), np.uint16)
    cover = np.zeros((height, width), np.uint16)
    # largest first, so that the smallest is drawn last and wins; equal
    # sizes keep file order (a stable sort), so the later region wins
    for inst_id, x0, y0, local, _ in sorted(filled, key=lambda f: -f[4]):
        h, w = local.shape
        inst[y0:y0 + h, x0:x0 + w][local] = inst_id
        cover[y0:y0 + h, x0:x0 + w] += local.astype(np.uint16)
    report.instances = len(filled)
    report.overlap_pixels = int((cover > 1).sum())
    if report.overlap_pixels:
        present = set(np.unique(inst).tolist())
        report.hidden = [report.instance_ids[i] for i, *_ in filled
                         if i not in present]
    return inst, report
