"""Horizontal bar charts drawn on the server as SVG: no script, nothing for the CSP to refuse, printable.

A chart is a picture of the table printed beside it (the table is what screen readers read), so the template
hides the SVG from assistive technology. Geometry is computed here; the template only writes it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

NONE = "\N{EN DASH}"  # a value that cannot be given (nothing to measure yet)
LABEL_WIDTH = 190  # room for the category names left of the bars
PLOT_WIDTH = 380
VALUE_WIDTH = 70  # room for the value written after each bar
BAR_HEIGHT = 18
BAR_GAP = 4
GROUP_GAP = 14
TOP = 8


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    css: str  # the bar's class: its colour comes from the stylesheet, with a pattern-free legend beside it
    values: Sequence[float | None]


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    text: str
    text_x: float


@dataclass(frozen=True, slots=True)
class Group:
    label: str
    label_y: float
    bars: list[Bar]


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    label_width: int
    groups: list[Group]
    series: list[Series]


def _shown(value: float | None, unit: str) -> str:
    if value is None:
        return NONE
    number = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    return f"{number} {unit}".strip()


def bar_chart(
    categories: Sequence[str], series: Sequence[Series], *, unit: str = "", maximum: float | None = None
) -> Chart:
    """Bars for each category, one per series, scaled to `maximum` (default: the largest value)."""
    largest = max((v for s in series for v in s.values if v is not None), default=0.0)
    top = maximum if maximum is not None else largest
    scale = PLOT_WIDTH / top if top else 0.0
    groups = []
    y = float(TOP)
    for index, label in enumerate(categories):
        bars = []
        for s in series:
            value = s.values[index]
            width = max(0.0, (value or 0.0) * scale)
            bars.append(Bar(LABEL_WIDTH, y, width, BAR_HEIGHT, s.css, _shown(value, unit), LABEL_WIDTH + width + 6))
            y += BAR_HEIGHT + BAR_GAP
        groups.append(Group(label, bars[0].y + BAR_HEIGHT * len(series) / 2 + 2 if bars else y, bars))
        y += GROUP_GAP - BAR_GAP
    return Chart(LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH, int(y + TOP), LABEL_WIDTH, groups, list(series))
