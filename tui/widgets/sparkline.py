"""Sparklines and rates as text: pure functions, no Textual, no database.

A sparkline here is one line of block characters in a Rich ``Text``, so it sits in a table cell
beside its label and its scale ("max 1.2 Gb/s"), reads the same in a snapshot, a terminal
without colour and ``capture-pane``, and costs nothing to redraw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from rich.text import Text

BARS: Final = "▁▂▃▄▅▆▇█"
GAP: Final = " "


def resample(values: Sequence[float | None], width: int) -> list[float | None]:
    """At most ``width`` columns: each the largest value of its share of the series (a peak
    must not vanish by averaging); a column with no value stays empty."""
    if width <= 0:
        return []
    if len(values) <= width:
        return list(values)
    columns: list[float | None] = []
    for column in range(width):
        lo = column * len(values) // width
        hi = max(lo + 1, (column + 1) * len(values) // width)
        known = [v for v in values[lo:hi] if v is not None]
        columns.append(max(known) if known else None)
    return columns


def on_time_axis(
    points: Sequence[tuple[float, float]],
    *,
    start: float,
    end: float,
    width: int,
    max_gap_s: float,
) -> list[float | None]:
    """``(epoch seconds, value)`` points placed in ``width`` columns spanning [start, end]: each
    column the largest value falling in it. A column between two points less than ``max_gap_s``
    apart takes the earlier one's value (a poll every minute drawn on 40-second columns is not
    a series of gaps); a longer silence stays blank, so missing data looks missing."""
    if width <= 0 or end <= start:
        return []
    span = (end - start) / width
    columns: list[float | None] = [None] * width
    last: tuple[int, float, float] | None = None  # column, time, value
    for at, value in sorted(points):
        if not start <= at <= end:
            continue
        column = min(width - 1, int((at - start) / span))
        if last is not None and at - last[1] <= max_gap_s:
            for between in range(last[0] + 1, column):
                if columns[between] is None:
                    columns[between] = value
        current = columns[column]
        columns[column] = value if current is None else max(current, value)
        last = (column, at, value)
    return columns


def spark(values: Sequence[float | None], width: int) -> str:
    """Values as bars scaled to the series' own maximum; an all-zero series is a flat floor."""
    columns = resample(values, width)
    known = [v for v in columns if v is not None]
    top = max(known, default=0.0)
    out: list[str] = []
    for value in columns:
        if value is None:
            out.append(GAP)
        elif top <= 0:
            out.append(BARS[0])
        else:
            level = round((len(BARS) - 1) * max(value, 0.0) / top)
            out.append(BARS[min(level, len(BARS) - 1)])
    return "".join(out)


def spark_text(values: Sequence[float | None], width: int, style: str = "") -> Text:
    return Text(spark(values, width), style=style, no_wrap=True, overflow="crop")


def format_bps(value: float | None) -> str:
    """Bits per second in the units a network engineer reads: ``940 Mb/s``, ``1.25 Gb/s``."""
    if value is None:
        return "—"
    for scale, unit in ((1e12, "Tb/s"), (1e9, "Gb/s"), (1e6, "Mb/s"), (1e3, "kb/s")):
        if abs(value) >= scale:
            figure = value / scale
            return f"{figure:.3g} {unit}" if figure < 100 else f"{figure:.0f} {unit}"
    return f"{value:.0f} b/s"


def format_per_s(value: float | None) -> str:
    if value is None:
        return "—"
    if value == 0:
        return "0/s"
    return f"{value:.2g}/s" if value < 10 else f"{value:.0f}/s"


def format_pct(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}%" if value < 10 else f"{value:.0f}%"


def format_duration(seconds: float | None) -> str:
    """``0:12:05``; ``3d04h`` beyond a day; ``—`` for none."""
    if seconds is None:
        return "—"
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    return f"{hours}:{minutes:02d}:{secs:02d}"
