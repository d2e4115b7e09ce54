"""Calendar-month arithmetic as Spark column expressions.

Months are compared by an integer index (`year * 12 + month - 1`), so that a lag of k months
is k calendar months whatever rows exist, and a window `rangeBetween(-11, 0)` covers exactly
12 months.
"""

from __future__ import annotations

from pyspark.sql import Column, Window, WindowSpec
from pyspark.sql import functions as F

RECOGNITION_DAY = 20  # a debt state recorded after the 20th counts from the next month


def month_index(date: Column | str) -> Column:
    """Months since year 0 of a date's month: consecutive months differ by exactly 1."""
    date = F.col(date) if isinstance(date, str) else date
    return F.year(date) * 12 + F.month(date) - 1


def month_start(date: Column | str) -> Column:
    """The first day of a date's month."""
    date = F.col(date) if isinstance(date, str) else date
    return F.trunc(date, "month")


def effective_month(recorded_on: Column | str) -> Column:
    """Month from which a URSSAF debt state counts: its own month up to the 20th, else the next."""
    recorded_on = F.col(recorded_on) if isinstance(recorded_on, str) else recorded_on
    start = month_start(recorded_on)
    return F.when(F.dayofmonth(recorded_on) <= RECOGNITION_DAY, start).otherwise(F.add_months(start, 1))


def months_from(later: Column | str, earlier: Column | str) -> Column:
    """Whole calendar months from `earlier` to `later` (both dates)."""
    return month_index(later) - month_index(earlier)


def by_firm_month(key: str = "siren", order: str = "month_idx") -> WindowSpec:
    """The panel's window: one firm, months in calendar order (frames are month ranges)."""
    return Window.partitionBy(key).orderBy(order)


def month_range(first: Column, last: Column) -> Column:
    """Array of the first days of every month from `first` to `last` inclusive (empty if last < first)."""
    return F.when(last >= first, F.sequence(first, last, F.expr("INTERVAL 1 MONTH"))).otherwise(
        F.array().cast("array<date>")
    )
