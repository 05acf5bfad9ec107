"""Bar charts drawn on the server: the geometry of an inline SVG, which a template
renders (autoescaped) as elements with presentation attributes and classes.

No JavaScript, no inline styles: the site's Content-Security-Policy allows neither,
and the charts must work without either. Nothing here knows Flask or the database:
a chart is made from ``[(day, value), ...]`` and a function that writes a value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

Number = int | Decimal

#: The drawing's coordinate system (the SVG's viewBox); CSS scales it to the page. About
#: the size a chart gets in a three-column row, so its 12px text stays readable.
WIDTH, HEIGHT = 420, 220
#: Room around the plot for the value labels (left), the date labels (bottom) and the
#: overhang of the last date, centred under the last bar (right).
LEFT, RIGHT, TOP, BOTTOM = 62, 18, 10, 26
#: Gridlines aimed at: the axis takes the first round step giving at most this many.
TICKS = 5
#: A bar's share of its day's column; the rest is the gap between bars.
BAR_SHARE = 0.7


@dataclass(frozen=True)
class Bar:
    """One day: its bar, the full-height column that carries the hover title, and the
    title itself ("2026-11-02: 9")."""

    day: date
    value: Number
    text: str
    title: str
    x: float
    y: float
    width: float
    height: float
    column_x: float
    column_width: float


@dataclass(frozen=True)
class Tick:
    """A gridline at ``y`` with its value's label."""

    y: float
    label: str


@dataclass(frozen=True)
class DateLabel:
    """A date written under the bars, centred on ``x``."""

    x: float
    text: str
    day: date


@dataclass(frozen=True)
class BarChart:
    """Everything a template needs to draw the chart and its data table."""

    title: str
    summary: str
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[DateLabel]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


def bar_chart(points: Sequence[tuple[date, Number]], title: str, *,
              format_value: Callable[[Number], str] = str, whole: bool = True,
              label_every: int = 7) -> BarChart:
    """A bar chart of ``points`` (oldest first), one bar per point.

    ``format_value`` writes values in titles, labels and the summary (``str`` for
    counts, the ``money`` filter for amounts); ``whole`` keeps gridlines on whole
    numbers (counts). Every ``label_every``-th date is written under the bars,
    counting back from the last, so the latest day always has its date.
    """
    axis = axis_values(max((value for _, value in points), default=0), whole)
    top_value = axis[-1]
    plot_height = HEIGHT - BOTTOM - TOP
    column = (WIDTH - RIGHT - LEFT) / max(len(points), 1)

    def y_of(value: Number) -> float:
        return _round(TOP + plot_height * (1 - float(value) / float(top_value)))

    bars, labels = [], []
    for index, (day, value) in enumerate(points):
        column_x = LEFT + index * column
        text = format_value(value)
        bars.append(Bar(day=day, value=value, text=text, title=f"{day.isoformat()}: {text}",
                        x=_round(column_x + column * (1 - BAR_SHARE) / 2), y=y_of(value),
                        width=_round(column * BAR_SHARE),
                        height=_round(HEIGHT - BOTTOM - y_of(value)),
                        column_x=_round(column_x), column_width=_round(column)))
        if (len(points) - 1 - index) % label_every == 0:
            labels.append(DateLabel(x=_round(column_x + column / 2),
                                    text=f"{day.day} {day:%b}", day=day))
    ticks = [Tick(y=y_of(value), label=format_value(value)) for value in axis]
    return BarChart(title=title, summary=summary(points, title, format_value),
                    bars=bars, ticks=ticks, labels=labels)


def summary(points: Sequence[tuple[date, Number]], title: str,
            format_value: Callable[[Number], str] = str) -> str:
    """The chart in a sentence, for screen readers: "Orders per day, last 30 days:
    123 in all, most 9 on 2026-11-02" (the latest day of the most, if several)."""
    head = f"{title}, last {len(points)} days"
    total = sum((value for _, value in points), 0)
    if not total:
        return f"{head}: {format_value(total)} in all"
    day, most = max(points, key=lambda point: (point[1], point[0]))
    return f"{head}: {format_value(total)} in all, most {format_value(most)} on {day.isoformat()}"


def axis_values(peak: Number, whole: bool = True, ticks: int = TICKS) -> list[Number]:
    """Gridline values from 0 to at least ``peak``, in a round step (1, 2, 2.5 or 5
    times a power of ten; whole numbers only when ``whole``), at most ``ticks`` + 1."""
    if peak <= 0:
        return [0, 1] if whole else [Decimal(0), Decimal(1)]
    raw = Decimal(peak) / ticks
    magnitude = Decimal(1).scaleb(raw.adjusted())
    step = next(multiple * magnitude for multiple in (1, 2, Decimal("2.5"), 5, 10)
                if multiple * magnitude >= raw
                and (not whole or multiple * magnitude == int(multiple * magnitude)))
    count = math.ceil(Decimal(peak) / step)
    if whole:
        return [int(step) * n for n in range(count + 1)]
    return [step * n for n in range(count + 1)]


def _round(value: float) -> float:
    # One decimal is finer than a pixel at any width the page shows; it keeps the SVG short.
    return round(value, 1)
