"""sgdc_mmseg.benchmark.report: number formats, Markdown tables and writing
one section of a Markdown file between its markers."""
from sgdc_mmseg.benchmark.report import (format_bytes, format_count,
                                         format_ratio, format_time,
                                         markdown_table, write_section)


def test_write_section_replaces_only_its_own_markers(tmp_path):
    path = tmp_path / 'bench.md'
    path.write_text('# Benchmarks\n\nintro\n\n<!-- a:begin -->\nold a\n'
                    '<!-- a:end -->\n\n<!-- b:begin -->\nold b\n'
                    '<!-- b:end -->\ntail\n')
    write_section(str(path), 'new a\nline 2', '<!-- a:begin -->',
                  '<!-- a:end -->')
    assert path.read_text() == (
        '# Benchmarks\n\nintro\n\n<!-- a:begin -->\nnew a\nline 2\n'
        '<!-- a:end -->\n\n<!-- b:begin -->\nold b\n<!-- b:end -->\ntail\n')


def test_write_section_appends_or_creates(tmp_path):
    path = tmp_path / 'docs' / 'bench.md'
    write_section(str(path), 'first', '<!-- x:begin -->', '<!-- x:end -->')
    assert path.read_text() == ('# Benchmarks\n\n<!-- x:begin -->\nfirst\n'
                                '<!-- x:end -->\n')
    write_section(str(path), 'second', '<!-- y:begin -->', '<!-- y:end -->')
    assert path.read_text().endswith('<!-- x:end -->\n\n<!-- y:begin -->\n'
                                     'second\n<!-- y:end -->\n')


def test_number_formats():
    assert format_time(0.0123) == '12.3 ms'
    assert format_time(2.345) == '2.35 s'
    assert format_bytes(None) == 'n/a'
    assert format_bytes(3 * (1 << 20)) == '3.0 MiB'
    assert format_bytes(3 * (1 << 30)) == '3.00 GiB'
    assert format_ratio(2.0, 1.0) == '2.0x'
    assert format_ratio(1.0, 4.0) == '0.25x'
    assert format_ratio(None, 1.0) == format_ratio(1.0, 0) == 'n/a'
    assert format_count(28_451_234) == '28.451 M'
    assert format_count(20_023_000_000) == '20.023 G'
    assert format_count(None) == 'n/a'
    assert format_count(12) == '12'


def test_markdown_table():
    assert markdown_table(['a', 'b'], [[1, 'x'], ['', 2]]) == (
        '| a | b |\n|---|---|\n| 1 | x |\n|  | 2 |')
