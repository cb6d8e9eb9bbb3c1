"""Small PNG bar charts for alert emails: the counted series around a firing, with its threshold.

Written with `zlib` and `struct` alone so the alert path needs no imaging library. The output is
a plain 8-bit RGB PNG (filter 0 on every row), which every mail client renders inline, and it is
deterministic: the same input gives the same bytes.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, NamedTuple

_MIN_SIZE: Final = 16
_MAX_SIZE: Final = 4096  # keeps the uncompressed image (and the email) bounded
_MARGIN: Final = 4
# The y scale reaches 10% above the largest bar or threshold, so neither touches the top edge.
_HEADROOM: Final = 1.1
_DASH: Final = 4
_DASH_PERIOD: Final = 6
_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class ChartStyle:
    """Size in pixels and RGB colours of a chart.

    `width` and `height` must lie in [16, 4096]; `ValueError` otherwise.
    """

    width: int = 560
    height: int = 160
    background: tuple[int, int, int] = (255, 255, 255)
    bar: tuple[int, int, int] = (100, 140, 200)  # normal bars
    over: tuple[int, int, int] = (220, 60, 50)  # bars above the threshold
    highlight_outline: tuple[int, int, int] = (20, 20, 20)  # box around the highlighted bar
    threshold: tuple[int, int, int] = (220, 60, 50)  # the dashed horizontal threshold line
    axis: tuple[int, int, int] = (160, 160, 160)  # baseline axis

    def __post_init__(self) -> None:
        for name, size in (("width", self.width), ("height", self.height)):
            if not _MIN_SIZE <= size <= _MAX_SIZE:
                raise ValueError(f"chart {name} must be in [{_MIN_SIZE}, {_MAX_SIZE}], got {size}")


class _Bar(NamedTuple):
    x0: int  # first pixel column
    x1: int  # one past the last pixel column
    value: float
    buckets: range  # the buckets this bar shows (several when aggregated)


def bar_chart_png(
    values: Sequence[float],
    threshold: float | None = None,
    highlight: int | None = None,
    style: ChartStyle = ChartStyle(),
) -> bytes:
    """A bar chart of `values` (one bar per bucket, oldest first) as PNG bytes.

    The y axis runs from 0 to 1.1 times the largest value or `threshold` (at least to 1). Bars
    share the width evenly with a 1-2 px gap; when there are too many buckets for that, each
    pixel column shows the largest value of the buckets it covers. Bars above `threshold` use
    `style.over`, and the threshold is drawn as a dashed line across the plot. `highlight` is a
    bucket index (negative counts from the end, as in Python) that gets an outline box; an index
    out of range is ignored. NaN, infinite and negative values count as 0, and a non-finite
    threshold as none, so that a chart never stops an alert from going out. Empty `values` give
    an empty plot with its axis (and threshold line).
    """
    width, height = style.width, style.height
    clean = [v if math.isfinite(v) and v > 0 else 0.0 for v in values]
    limit = threshold if threshold is not None and math.isfinite(threshold) else None
    peak = max(max(clean, default=0.0), limit or 0.0, 1.0 / _HEADROOM)
    axis_y = height - _MARGIN - 1
    plot_w, plot_h = width - 2 * _MARGIN, axis_y - _MARGIN

    def top_of(value: float) -> int:
        # Dividing by `peak` first stays finite even for values near the float maximum.
        rise = round(min(value / peak, 1.0) * plot_h / _HEADROOM)
        # A non-zero count must stay visible, however small next to the peak.
        return axis_y - (max(rise, 1) if value > 0 else 0)

    n = len(clean)
    bars: list[_Bar] = []
    if n and n <= plot_w // 2:
        gap = 2 if plot_w // n >= 8 else 1
        for i, value in enumerate(clean):
            x0, x1 = _MARGIN + i * plot_w // n, _MARGIN + (i + 1) * plot_w // n
            bars.append(_Bar(x0, x1 - gap, value, range(i, i + 1)))
    elif n:
        # No room for gaps: one bar per pixel column, showing the max so that spikes survive.
        for c in range(plot_w):
            lo = c * n // plot_w
            hi = max(lo + 1, (c + 1) * n // plot_w)
            bars.append(_Bar(_MARGIN + c, _MARGIN + c + 1, max(clean[lo:hi]), range(lo, hi)))

    rows = [bytearray(bytes(style.background) * width) for _ in range(height)]

    def fill(x0: int, x1: int, y0: int, y1: int, colour: tuple[int, int, int]) -> None:
        x0, x1 = max(x0, 0), min(x1, width)
        if x0 < x1:
            run = bytes(colour) * (x1 - x0)
            for y in range(max(y0, 0), min(y1, height)):
                rows[y][3 * x0 : 3 * x1] = run

    for bar in bars:
        colour = style.over if limit is not None and bar.value > limit else style.bar
        fill(bar.x0, bar.x1, top_of(bar.value), axis_y, colour)
    fill(_MARGIN, width - _MARGIN, axis_y, axis_y + 1, style.axis)
    if limit is not None:
        # Drawn over the bars so the reader sees which ones cross it.
        line_y = top_of(max(limit, 0.0))
        for x in range(_MARGIN, width - _MARGIN, _DASH_PERIOD):
            fill(x, min(x + _DASH, width - _MARGIN), line_y, line_y + 1, style.threshold)
    if highlight is not None and -n <= highlight < n:
        hit = [bar for bar in bars if highlight % n in bar.buckets]
        left, right = min(b.x0 for b in hit) - 1, max(b.x1 for b in hit)
        # At least a few pixels tall, so a zero-count firing bucket is still marked.
        top = min(min(top_of(b.value) for b in hit) - 1, axis_y - 3)
        fill(left, right + 1, top, top + 1, style.highlight_outline)
        fill(left, left + 1, top, axis_y, style.highlight_outline)
        fill(right, right + 1, top, axis_y, style.highlight_outline)

    return _encode_png(rows, width, height)


def _encode_png(rows: Sequence[bytes | bytearray], width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    raw = b"".join(b"\x00" + row for row in rows)
    return b"".join(
        (
            _PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(raw, 9)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
