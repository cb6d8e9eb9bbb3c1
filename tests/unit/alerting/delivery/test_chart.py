"""The alert-email bar chart: valid PNG bytes, and the right colours in the right places.

The PNG is read back with a small decoder written here (chunks, CRCs, zlib, filter 0 only), so
the tests check the file format itself rather than trusting an imaging library.
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.alerting.delivery.chart import ChartStyle, bar_chart_png

RGB = tuple[int, int, int]

WHITE: RGB = (255, 255, 255)
BLUE: RGB = (0, 0, 255)
RED: RGB = (255, 0, 0)
GREEN: RGB = (0, 255, 0)
BLACK: RGB = (0, 0, 0)
GREY: RGB = (128, 128, 128)

# Every role its own colour, so a pixel says which element drew it.
DISTINCT = ChartStyle(
    background=WHITE, bar=BLUE, over=RED, threshold=GREEN, highlight_outline=BLACK, axis=GREY
)


# --------------------------------------------------------------------------- decoder


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    chunks: list[bytes]
    rows: list[bytes]

    def at(self, x: int, y: int) -> RGB:
        r, g, b = self.rows[y][3 * x : 3 * x + 3]
        return (r, g, b)

    def row(self, y: int) -> list[RGB]:
        return [self.at(x, y) for x in range(self.width)]

    def column(self, x: int) -> list[RGB]:
        return [self.at(x, y) for y in range(self.height)]

    def colours(self) -> set[RGB]:
        return {self.at(x, y) for y in range(self.height) for x in range(self.width)}

    def axis_row(self) -> int:
        return max(y for y in range(self.height) if GREY in self.row(y))


def decode(data: bytes) -> Png:
    """Parse an 8-bit RGB, non-interlaced PNG whose rows all use filter 0; assert on anything
    else, including a bad chunk CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, kinds, idat = 8, [], b""
    header = b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body), f"bad CRC in {kind!r}"
        kinds.append(kind)
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert pos == len(data)
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    width, height, depth, colour_type, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", header
    )
    assert (depth, colour_type, compression, filtering, interlace) == (8, 2, 0, 0, 0)
    raw = zlib.decompress(idat)
    stride = 1 + 3 * width
    assert len(raw) == stride * height
    lines = [raw[y * stride : (y + 1) * stride] for y in range(height)]
    assert all(line[0] == 0 for line in lines), "only filter type 0 is expected"
    return Png(width, height, kinds, [line[1:] for line in lines])


# --------------------------------------------------------------------------- format


def test_signature_header_and_chunks() -> None:
    data = bar_chart_png([1.0, 2.0, 3.0], style=ChartStyle(width=300, height=90))
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (300, 90)
    png = decode(data)
    assert (png.width, png.height) == (300, 90)
    assert png.chunks == [b"IHDR", b"IDAT", b"IEND"]


def test_decoder_rejects_a_bad_crc() -> None:
    data = bytearray(bar_chart_png([1.0]))
    data[29] ^= 0xFF  # last byte of the IHDR CRC
    with pytest.raises(AssertionError, match="bad CRC"):
        decode(bytes(data))


def test_default_style() -> None:
    png = decode(bar_chart_png([5.0, 20.0], threshold=10.0, highlight=1))
    assert (png.width, png.height) == (560, 160)
    assert {(255, 255, 255), (100, 140, 200), (220, 60, 50), (20, 20, 20)} <= png.colours()


# --------------------------------------------------------------------------- drawing

# Eight buckets: one tall over the threshold, the rest low; the last one is the firing one.
VALUES = [20.0, 20.0, 100.0, 20.0, 20.0, 20.0, 20.0, 20.0]
THRESHOLD = 50.0


def bar_centre(png: Png, index: int, count: int) -> int:
    return int(png.width * (index + 0.5) / count)


@pytest.fixture(scope="module")
def chart() -> Png:
    return decode(bar_chart_png(VALUES, threshold=THRESHOLD, highlight=-1, style=DISTINCT))


def test_bar_colours(chart: Png) -> None:
    axis = chart.axis_row()
    tall, low = bar_centre(chart, 2, len(VALUES)), bar_centre(chart, 0, len(VALUES))
    assert chart.at(tall, axis - 1) == RED
    assert chart.at(tall, axis // 3) == RED  # well above the threshold line, still inside
    assert chart.at(low, axis - 1) == BLUE
    assert chart.at(low, axis - 20) == BLUE  # 20/110 of the plot is ~27 px tall


def test_background_above_the_bars(chart: Png) -> None:
    for index in (0, 1, 2, 3):
        assert chart.at(bar_centre(chart, index, len(VALUES)), 1) == WHITE
    assert chart.at(bar_centre(chart, 0, len(VALUES)), chart.axis_row() - 40) == WHITE
    assert chart.at(0, chart.height // 2) == WHITE  # the left margin


def test_axis_spans_the_plot(chart: Png) -> None:
    row = chart.row(chart.axis_row())
    assert row[chart.width // 2] == GREY
    assert row.count(GREY) > chart.width * 0.9


def test_threshold_line_is_dashed_across_the_gaps(chart: Png) -> None:
    line_rows = [y for y in range(chart.height) if GREEN in chart.row(y)]
    assert len(line_rows) == 1
    (line_y,) = line_rows
    axis = chart.axis_row()
    # 50 on a scale topping out at 110 (= 1.1 x the largest bar).
    expected = axis - THRESHOLD / (max(VALUES) * 1.1) * (axis - 4)
    assert abs(line_y - expected) <= 2
    line = chart.row(line_y)
    assert WHITE in line[4:-4]  # dashed, not solid
    assert line.count(GREEN) > chart.width // 3
    # Gaps: columns between bars, background just above the axis.
    gaps = [
        x
        for x in range(chart.width // 16, chart.width - chart.width // 16)
        if chart.at(x, axis - 1) == WHITE
    ]
    assert gaps
    assert any(chart.at(x, line_y) == GREEN for x in gaps)
    # It crosses the tall bar too, so the reader sees where the bar passed it.
    tall = range(chart.width // 4, chart.width * 3 // 8)
    assert any(chart.at(x, line_y) == GREEN and chart.at(x, line_y + 1) == RED for x in tall)


def test_highlight_outline_boxes_the_chosen_bar(chart: Png) -> None:
    axis = chart.axis_row()
    last = bar_centre(chart, len(VALUES) - 1, len(VALUES))
    bar_left = next(x for x in range(last, 0, -1) if chart.at(x - 1, axis - 1) != BLUE)
    bar_right = next(x for x in range(last, chart.width) if chart.at(x + 1, axis - 1) != BLUE)
    bar_top = next(y for y in range(axis - 1, 0, -1) if chart.at(last, y - 1) != BLUE)
    assert chart.at(bar_left - 1, axis - 1) == BLACK
    assert chart.at(bar_right + 1, axis - 1) == BLACK
    assert chart.at(last, bar_top - 1) == BLACK
    assert chart.at(bar_left - 1, bar_top - 1) == BLACK  # a closed corner
    # Only around that bar.
    outlined = {
        x for y in range(chart.height) for x in range(chart.width) if chart.at(x, y) == BLACK
    }
    assert min(outlined) == bar_left - 1 and max(outlined) == bar_right + 1


def test_no_highlight_no_outline() -> None:
    png = decode(bar_chart_png(VALUES, threshold=THRESHOLD, style=DISTINCT))
    assert BLACK not in png.colours()


@pytest.mark.parametrize("index", [8, -9, 1000])
def test_highlight_out_of_range_is_ignored(index: int) -> None:
    png = decode(bar_chart_png(VALUES, highlight=index, style=DISTINCT))
    assert BLACK not in png.colours()


def test_highlight_of_a_zero_bucket_is_still_visible() -> None:
    png = decode(bar_chart_png([5.0, 0.0, 5.0], highlight=1, style=DISTINCT))
    assert BLACK in png.column(png.width // 2)


def test_no_threshold_means_no_line_and_no_over_colour() -> None:
    png = decode(bar_chart_png(VALUES, style=DISTINCT))
    assert png.colours() == {WHITE, BLUE, GREY}


def test_value_equal_to_the_threshold_is_not_over() -> None:
    png = decode(bar_chart_png([50.0, 50.0], threshold=50.0, style=DISTINCT))
    assert RED not in png.colours()


def test_many_buckets_keep_their_spikes() -> None:
    values = [1.0] * 5000
    values[2345] = 1000.0
    png = decode(bar_chart_png(values, threshold=500.0, style=DISTINCT))
    axis = png.axis_row()
    spike = [x for x in range(png.width) if png.at(x, axis - 1) == RED]
    assert len(spike) == 1
    assert abs(spike[0] - png.width * 2345 / 5000) <= 2


def test_more_buckets_than_half_the_width() -> None:
    png = decode(bar_chart_png([float(i % 7) for i in range(400)], highlight=-1, style=DISTINCT))
    assert BLUE in png.colours() and BLACK in png.colours()


# --------------------------------------------------------------------------- edge cases


def test_empty_values_give_a_blank_chart_with_axis() -> None:
    png = decode(bar_chart_png([], style=DISTINCT))
    assert png.colours() == {WHITE, GREY}
    assert png.row(png.axis_row()).count(GREY) > png.width * 0.9


def test_empty_values_with_threshold_and_highlight() -> None:
    png = decode(bar_chart_png([], threshold=3.0, highlight=0, style=DISTINCT))
    assert png.colours() == {WHITE, GREY, GREEN}


def test_bad_values_count_as_zero() -> None:
    messy = bar_chart_png([math.nan, math.inf, -math.inf, -5.0, -0.0], threshold=1.0)
    assert messy == bar_chart_png([0.0] * 5, threshold=1.0)


@pytest.mark.parametrize("threshold", [math.nan, math.inf, -math.inf])
def test_non_finite_threshold_means_none(threshold: float) -> None:
    assert bar_chart_png(VALUES, threshold=threshold) == bar_chart_png(VALUES)


def test_extreme_values_render() -> None:
    png = decode(bar_chart_png([1.7e308, 5e-324, 1.0], threshold=1e308, style=DISTINCT))
    assert RED in png.colours() and BLUE in png.colours()


@pytest.mark.parametrize(
    ("width", "height"), [(15, 160), (560, 15), (0, 160), (-1, 160), (4097, 160), (560, 4097)]
)
def test_bad_sizes_raise(width: int, height: int) -> None:
    with pytest.raises(ValueError, match="must be in"):
        bar_chart_png([1.0], style=ChartStyle(width=width, height=height))


@pytest.mark.parametrize(("width", "height"), [(16, 16), (4096, 16), (16, 4096)])
def test_size_limits_are_inclusive(width: int, height: int) -> None:
    png = decode(
        bar_chart_png([1.0, 2.0], threshold=1.5, highlight=0, style=ChartStyle(width, height))
    )
    assert (png.width, png.height) == (width, height)


def test_deterministic() -> None:
    args = ([3.0, 9.0, 1.0, 12.0], 8.0, -2)
    assert bar_chart_png(*args) == bar_chart_png(*args)
    assert bar_chart_png(*args) != bar_chart_png([3.0, 9.0, 1.0, 12.0], 8.0, -1)


# --------------------------------------------------------------------------- property


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.floats(), max_size=2000),
    threshold=st.none() | st.floats(),
    highlight=st.none() | st.integers(min_value=-2500, max_value=2500),
    width=st.integers(min_value=16, max_value=700),
    height=st.integers(min_value=16, max_value=300),
)
def test_any_input_gives_a_valid_png(
    values: list[float], threshold: float | None, highlight: int | None, width: int, height: int
) -> None:
    png = decode(
        bar_chart_png(values, threshold, highlight, ChartStyle(width=width, height=height))
    )
    assert (png.width, png.height) == (width, height)
