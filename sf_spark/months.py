"""Calendar-month arithmetic on the driver, on `datetime.date` (Spark columns: `sf_spark.features.months`).

A month is the date of its first day; `month_number` counts months since year 0, so consecutive
months differ by exactly 1 and k months later is `month_of(month_number(day) + k)`.
"""

from __future__ import annotations

import datetime as dt


def month_number(day: dt.date) -> int:
    """Months since year 0 (consecutive months differ by 1)."""
    return day.year * 12 + day.month - 1


def month_of(number: int) -> dt.date:
    """The first day of the month `month_number` returns."""
    return dt.date(number // 12, number % 12 + 1, 1)


def parse_month(text: str) -> dt.date:
    """'YYYY-MM' -> first day of that month."""
    return dt.date.fromisoformat(f"{text}-01")


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after `day`'s (before it when negative)."""
    return month_of(month_number(day) + months)


def months_between(first: dt.date, last: dt.date) -> int:
    """Months from `first` to `last`, both counted."""
    return month_number(last) - month_number(first) + 1


def end_of_month(day: dt.date) -> dt.date:
    """The last day of `day`'s month."""
    return add_months(day, 1) - dt.timedelta(days=1)
