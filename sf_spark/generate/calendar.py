"""Month arithmetic on absolute month numbers (year * 12 + month - 1) and numpy day dates."""

from __future__ import annotations

import numpy as np


def month_number(yyyy_mm: str) -> int:
    """`"2016-03"` -> absolute month number."""
    year, month = yyyy_mm.split("-")
    return int(year) * 12 + int(month) - 1


def month_start(months: np.ndarray | int) -> np.ndarray:
    """Absolute month numbers -> first day of the month (datetime64[D])."""
    months = np.asarray(months, dtype=np.int64)
    return (months - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")


def month_of(days: np.ndarray) -> np.ndarray:
    """datetime64[D] -> absolute month number."""
    return days.astype("datetime64[M]").astype(np.int64) + 1970 * 12


def days_in_month(months: np.ndarray | int) -> np.ndarray:
    """Number of days of each absolute month."""
    months = np.asarray(months, dtype=np.int64)
    return (month_start(months + 1) - month_start(months)).astype(np.int64)


def day_in_month(months: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Date of day `day` (1-based, clipped to the month's length) of each month."""
    day = np.minimum(np.asarray(day, dtype=np.int64), days_in_month(months))
    return month_start(months) + (day - 1).astype("timedelta64[D]")


def weekday_on_or_before(days: np.ndarray) -> np.ndarray:
    """Move Saturdays and Sundays back to the Friday before (courts sit on weekdays)."""
    weekday = (days.astype(np.int64) + 3) % 7
    return days - np.maximum(weekday - 4, 0).astype("timedelta64[D]")
