"""The report's charts as SVG strings, drawn here without a browser (plotly's static export needs kaleido,
which is not available offline): the day bar, daily uptime and daily latency. Each has a title, units on
its axes and a legend; "no data" is drawn as a hatched grey band or a gap, never as a value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from html import escape

from monitoring.day_bars import DayCell
from monitoring.uptime import truncate_percent

WIDTH = 680
_LEFT, _RIGHT, _TOP = 56, 12, 40
_FONT = 'font-family="DejaVu Sans, sans-serif"'
LEVEL_COLOURS = {"up": "#2e9e5b", "minor": "#e0a526", "major": "#d1453b", "nodata": "url(#nodata)"}
_NODATA_PATTERN = (
    '<defs><pattern id="nodata" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
    '<rect width="4" height="4" fill="#d9dce1"/><line x1="0" y1="0" x2="0" y2="4" stroke="#b5bac2" stroke-width="2"/>'
    "</pattern></defs>"
)


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    values: Sequence[float | None]  # one per day; None: no data that day
    dash: str = ""  # an SVG dash pattern, so that lines on top of each other stay told apart


def _text(x: float, y: float, text: str, *, size: int = 10, anchor: str = "start", weight: str = "normal") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}" '
        f'fill="#222" {_FONT}>{escape(text)}</text>'
    )


def _svg(height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="{escape(title)}">{_NODATA_PATTERN}{"".join(body)}</svg>'
    )


def _day_label(day: date) -> str:
    return f"{day.day} {day:%b}"


def day_bar(cells: Sequence[DayCell], *, title: str) -> str:
    """One cell per day, coloured by downtime; no data hatched grey; with its title, first and last day,
    and a legend."""
    height = 84
    body = [_text(0, 14, title, size=12, weight="bold"), _cells(cells, left=_LEFT, top=_TOP - 18, height=26)]
    if cells:
        body.append(_text(_LEFT, _TOP + 20, _day_label(cells[0].day), size=9))
        body.append(_text(WIDTH - _RIGHT, _TOP + 20, _day_label(cells[-1].day), size=9, anchor="end"))
    body.append(_legend([(LEVEL_COLOURS[k], v) for k, v in _LEVEL_NAMES.items()], y=height - 8))
    return _svg(height, body, title)


def compact_day_bar(cells: Sequence[DayCell], *, title: str) -> str:
    """The cells alone (no text: the page names the bar and gives the legend once), for a bar per deployment."""
    return _svg(18, [_cells(cells, left=0, top=0, height=18)], title)


def _cells(cells: Sequence[DayCell], *, left: float, top: float, height: float) -> str:
    """Cells of a colour are one path: a PDF of 30 bars stays quick to draw."""
    step = (WIDTH - left - _RIGHT) / max(len(cells), 1)
    width = max(step - 0.8, 0.6)
    paths: dict[str, list[str]] = {}
    for i, cell in enumerate(cells):
        x = left + i * step + 0.4
        paths.setdefault(cell.level, []).append(f"M{x:.2f} {top}h{width:.2f}v{height}h-{width:.2f}z")
    return "".join(f'<path d="{"".join(d)}" fill="{LEVEL_COLOURS[level]}"/>' for level, d in paths.items())


_LEVEL_NAMES = {"up": "No downtime", "minor": "99 % to under 100 %", "major": "Under 99 %", "nodata": "No data"}


def _legend(items: Sequence[tuple[str, str]], *, y: float) -> str:
    parts, x = [], float(_LEFT)
    for colour, name in items:
        parts.append(f'<rect x="{x:.1f}" y="{y - 8:.1f}" width="10" height="10" fill="{colour}"/>')
        parts.append(_text(x + 14, y + 1, name, size=9))
        x += 24 + 5.6 * len(name)
    return "".join(parts)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _tick_label(value: float, unit: str) -> str:
    text = f"{value:g}" if abs(value) < 1e6 else f"{value:.2e}"
    return f"{text}{unit}"


def line_chart(
    *,
    title: str,
    days: Sequence[date],
    series: Sequence[Series],
    unit: str,
    y_label: str,
    floor: float | None = None,
    ceiling: float | None = None,
    reference: tuple[float, str] | None = None,
) -> str:
    """Daily values as lines with a dot per day; a day with no data is a gap with a grey band."""
    height, bottom = 230, 44
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, height - _TOP - bottom
    known = [v for s in series for v in s.values if v is not None]
    if reference is not None:
        known.append(reference[0])
    low = floor if floor is not None else 0.0
    high = ceiling if ceiling is not None else (max(known) if known else 1.0)
    ticks = nice_ticks(low, max(high, low + 1e-9))
    low, high = ticks[0], ticks[-1]
    step = plot_w / max(len(days), 1)

    def x_of(i: int) -> float:
        return _LEFT + (i + 0.5) * step

    def y_of(value: float) -> float:
        return _TOP + plot_h * (1 - (min(max(value, low), high) - low) / (high - low))

    body = [_text(0, 14, title, size=12, weight="bold"), _text(0, _TOP - 12, y_label, size=9)]
    for tick in ticks:
        y = y_of(tick)
        body.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{WIDTH - _RIGHT}" y2="{y:.1f}" stroke="#e3e5e8"/>')
        body.append(_text(_LEFT - 4, y + 3, _tick_label(tick, unit), size=9, anchor="end"))
    nodata = [i for i in range(len(days)) if all(s.values[i] is None for s in series)]
    for i in nodata:
        body.append(
            f'<rect x="{x_of(i) - step / 2:.2f}" y="{_TOP}" width="{step:.2f}" height="{plot_h}" fill="url(#nodata)" '
            'opacity="0.6"/>'
        )
    if reference is not None:
        y = y_of(reference[0])
        body.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{WIDTH - _RIGHT}" y2="{y:.1f}" stroke="#555" stroke-dasharray="4 3"/>'
        )
    for line in series:
        body.extend(_polyline(line, x_of, y_of, dots=len(days) <= 62))
    body.append(f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{WIDTH - _RIGHT}" y2="{_TOP + plot_h}" stroke="#888"/>')
    for i in _label_positions(len(days)):
        body.append(_text(x_of(i), _TOP + plot_h + 13, _day_label(days[i]), size=9, anchor="middle"))
    legend = [(s.colour, s.name) for s in series]
    if reference is not None:
        legend.append(("#555", reference[1]))
    if nodata:
        legend.append(("url(#nodata)", "No data"))
    body.append(_legend(legend, y=height - 6))
    return _svg(height, body, title)


def _polyline(line: Series, x_of: Callable[[int], float], y_of: Callable[[float], float], *, dots: bool) -> list[str]:
    parts: list[str] = []
    run: list[str] = []
    for i, value in enumerate([*line.values, None]):
        if value is None:
            if len(run) > 1:
                parts.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{line.colour}" stroke-width="1.6"'
                    f' stroke-dasharray="{line.dash}"/>'
                )
            run = []
            continue
        x, y = x_of(i), y_of(value)
        run.append(f"{x:.1f},{y:.1f}")
        if dots:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.8" fill="{line.colour}"/>')
    return parts


def _label_positions(count: int) -> list[int]:
    if count == 0:
        return []
    every = max(1, math.ceil(count / 8))
    return list(range(0, count, every))


def uptime_floor(values: Sequence[Decimal | None], target: Decimal) -> float:
    """The uptime axis starts just under the lowest day or the target, so that small dips are visible."""
    lowest = min([float(v) for v in values if v is not None] + [float(target)])
    return max(0.0, math.floor(lowest * 10 - 1) / 10) if lowest > 0 else 0.0


def percent_label(value: Decimal | None) -> str:
    return "No data" if value is None else f"{truncate_percent(value, 3)} %"
