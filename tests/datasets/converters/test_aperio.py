"""Aperio ImageScope XML: parsing (errors name the file and region) and the
rasterisation rules (boundary pixels, clipping, empty and degenerate
regions, overlaps go to the smallest region)."""
import numpy as np
import pytest
from PIL import Image, ImageDraw

from sgdc_mmseg.datasets.converters import ConversionError
from sgdc_mmseg.datasets.converters.aperio import (Region, parse_regions,
                                                   rasterize)


def xml_text(regions, root='Annotations') -> bytes:
    """Aperio-style XML with one <Region Id=..> per ``(id, vertices)``."""
    body = ''.join(
        f'<Region Id="{rid}" Type="0"><Attributes/><Vertices>' +
        ''.join(f'<Vertex X="{x}" Y="{y}"/>' for x, y in verts) +
        '</Vertices></Region>' for rid, verts in regions)
    return (f'<{root} MicronsPerPixel="0.25"><Annotation Id="1"><Regions>'
            '<RegionAttributeHeaders/>'
            f'{body}</Regions></Annotation></{root}>').encode()


def pil_fill(vertices, h, w) -> np.ndarray:
    im = Image.new('L', (w, h), 0)
    ImageDraw.Draw(im).polygon(list(vertices), fill=1, outline=1)
    return np.asarray(im) > 0


def test_parse_every_region_in_file_order():
    data = xml_text([('7', [(1, 2), (5.5, 2), (5.5, 6.25)]),
                     ('3', [(0, 0), (2, 0)])])
    regions = parse_regions(data, 'a.xml')
    assert regions == [
        Region('7', ((1.0, 2.0), (5.5, 2.0), (5.5, 6.25))),
        Region('3', ((0.0, 0.0), (2.0, 0.0)))]


def test_region_without_id_is_named_by_position():
    data = (b'<Annotations><Annotation><Regions><Region><Vertices>'
            b'<Vertex X="1" Y="1"/></Vertices></Region></Regions>'
            b'</Annotation></Annotations>')
    assert parse_regions(data, 'a.xml')[0].region_id == '1'


@pytest.mark.parametrize('data, expected', [
    (b'<Annotations><Region>', 'not well-formed XML'),
    (b'<Foo/>', 'the root element is <Foo>'),
    (xml_text([('9', [(1, 'abc'), (2, 3)])]),
     "Region Id='9', vertex 1: Y='abc' is not a finite number"),
    (xml_text([('4', [(1, 1), ('nan', 3)])]),
     "Region Id='4', vertex 2: X='nan'"),
    (b'<Annotations><Region Id="2"><Vertices><Vertex Y="1"/></Vertices>'
     b'</Region></Annotations>', "X=None is not a finite number"),
])
def test_malformed_xml_names_the_file(data, expected):
    with pytest.raises(ConversionError) as e:
        parse_regions(data, '/src/TCGA-1.xml')
    assert '/src/TCGA-1.xml' in str(e.value) and expected in str(e.value)


def test_fill_includes_the_boundary_like_pillow():
    verts = ((2.4, 1.6), (9.7, 3.2), (6.1, 8.8), (1.2, 6.5))
    inst, report = rasterize([Region('1', verts)], 12, 14)
    expected = pil_fill(verts, 12, 14)
    np.testing.assert_array_equal(inst > 0, expected)
    assert inst.dtype == np.uint16 and set(np.unique(inst)) == {0, 1}
    # boundary pixels included: the square 2..6 x 2..6 fills 5 x 5 pixels
    square, _ = rasterize([Region('s', ((2, 2), (6, 2), (6, 6), (2, 6)))],
                          9, 9)
    assert (square[2:7, 2:7] == 1).all() and (square > 0).sum() == 25
    assert report.as_record() == dict(
        regions=1, instances=1, empty=[], degenerate=[], clipped=[],
        hidden=[], overlap_pixels=0)


def test_union_equals_filling_all_polygons_on_one_image():
    rng = np.random.default_rng(0)
    regions, all_at_once = [], np.zeros((30, 40), bool)
    for k in range(12):
        cx, cy = rng.uniform(0, 40), rng.uniform(0, 30)
        verts = tuple((float(cx + 5 * np.cos(a)), float(cy + 4 * np.sin(a)))
                      for a in np.linspace(0, 2 * np.pi, 9)[:-1])
        regions.append(Region(str(k), verts))
        all_at_once |= pil_fill(verts, 30, 40)
    inst, _ = rasterize(regions, 30, 40)
    np.testing.assert_array_equal(inst > 0, all_at_once)


def test_overlapping_pixels_go_to_the_smallest_region():
    big = Region('big', ((0, 0), (9, 0), (9, 9), (0, 9)))       # 100 px
    small = Region('small', ((6, 6), (12, 6), (12, 12), (6, 12)))  # 49 px
    for order in ([big, small], [small, big]):
        inst, report = rasterize(order, 16, 16)
        ids = {rid: i for i, rid in report.instance_ids.items()}
        assert inst[7, 7] == ids['small']  # in both: the smaller wins
        assert inst[2, 2] == ids['big']
        assert (inst == ids['small']).sum() == 49
        assert (inst == ids['big']).sum() == 100 - 16
        assert report.overlap_pixels == 16 and report.hidden == []


def test_equal_sizes_later_region_wins_and_hidden_is_reported():
    a = Region('a', ((0, 0), (4, 0), (4, 4), (0, 4)))
    b = Region('b', ((2, 2), (6, 2), (6, 6), (2, 6)))
    inst, report = rasterize([a, b], 8, 8)
    assert inst[3, 3] == 2 and inst[1, 1] == 1  # b (later) wins the overlap
    # a large region covered entirely by smaller ones keeps no pixel
    tiny = [Region(f't{i}', ((x, y), (x + 1, y), (x + 1, y + 1), (x, y + 1)))
            for i, (x, y) in enumerate([(0, 0), (2, 0), (0, 2), (2, 2)])]
    cover = Region('cover', ((0, 0), (3, 0), (3, 3), (0, 3)))
    inst, report = rasterize([cover] + tiny, 5, 5)
    assert report.hidden == ['cover'] and 1 not in np.unique(inst)
    assert report.instances == 5 and report.overlap_pixels == 16


def test_clipping_empty_and_degenerate_regions():
    regions = [
        Region('partly-out', ((-3, -2), (4, -2), (4, 3), (-3, 3))),
        Region('outside', ((20, 20), (25, 20), (25, 25))),
        Region('one-vertex', ((3, 3), )),
        Region('no-vertex', ()),
        Region('line', ((1, 6), (6, 6))),
    ]
    inst, report = rasterize(regions, 8, 10)
    assert report.clipped == ['partly-out', 'outside']
    assert report.empty == ['outside', 'one-vertex', 'no-vertex']
    assert report.degenerate == ['line']
    assert report.instances == 2 and report.regions == 5
    assert report.instance_ids == {1: 'partly-out', 2: 'line'}
    # the part inside the tile is filled, boundary row/column included
    assert (inst[0:4, 0:5] == 1).all() and (inst[4:, :] != 1).all()
    np.testing.assert_array_equal(np.nonzero(inst == 2)[1], np.arange(1, 7))


def test_vertices_on_the_far_edge_are_not_clipped():
    inst, report = rasterize([Region('e', ((5, 5), (10, 5), (10, 8)))], 8,
                             10)
    assert report.clipped == [] and report.instances == 1
