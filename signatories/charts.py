"""Bar charts of counts: the largest value draws a full bar, the rest in proportion,
and past the top few the rest are summed into one "others" row."""

from collections.abc import Sequence
from dataclasses import dataclass

from signatories.stats import Bar

TOP = 10
SMALLEST_VISIBLE = 1.0  # percent: a count of 1 beside a million still shows a sliver


@dataclass(frozen=True)
class Row:
    bar: Bar
    width: float  # percent of the bar cell


@dataclass(frozen=True)
class Chart:
    rows: list[Row]
    others_count: int = 0  # signatures in the rows not shown
    others_rows: int = 0  # how many rows they are
    rest: tuple[Bar, ...] = ()  # those rows, for a full list beside the chart


def chart(bars: Sequence[Bar], *, top: int = TOP) -> Chart:
    """The ``top`` largest bars (``bars`` come largest first), scaled to the largest;
    when just one would be left over it is shown rather than summed."""
    shown = list(bars) if len(bars) <= top + 1 else list(bars[:top])
    rest = bars[len(shown) :]
    largest = max((bar.count for bar in shown), default=0)
    return Chart(
        rows=[
            Row(
                bar=bar,
                width=max(100 * bar.count / largest, SMALLEST_VISIBLE) if bar.count else 0.0,
            )
            for bar in shown
        ],
        others_count=sum(bar.count for bar in rest),
        others_rows=len(rest),
        rest=tuple(rest),
    )
