"""Out-of-time windows per horizon: train, calibration and test, with a gap of h months between them.

A row of month m carries the label window (m, m+h]. The calibration window starts h+1 months
after the last training month, and the test window h+1 months after the last calibration
month, so every label of an earlier set is known before the first month of the next set and
no label window overlaps the next set. Months are handled as `datetime.date` first days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from sf_spark.models.settings import SplitSettings


class SplitError(ValueError):
    """The data's extent cannot hold the requested windows."""


def month_number(day: dt.date) -> int:
    """Months since year 0 (consecutive months differ by 1)."""
    return day.year * 12 + day.month - 1


def month_of(number: int) -> dt.date:
    """The first day of the month `month_number` returns."""
    return dt.date(number // 12, number % 12 + 1, 1)


def parse_month(text: str) -> dt.date:
    """'YYYY-MM' -> first day of that month."""
    return dt.date.fromisoformat(f"{text}-01")


@dataclass(frozen=True)
class Window:
    """Months [first, last], both first days of months."""

    first: dt.date
    last: dt.date

    @property
    def months(self) -> int:
        return month_number(self.last) - month_number(self.first) + 1

    def contains(self, month: dt.date) -> bool:
        return self.first <= month <= self.last

    def label_end(self, horizon: int) -> dt.date:
        """The last month any label of this window looks at."""
        return month_of(month_number(self.last) + horizon)


@dataclass(frozen=True)
class Splits:
    """The three windows of one horizon."""

    horizon: int
    train: Window
    calibration: Window
    test: Window

    def describe(self) -> dict[str, str]:
        """Flat `YYYY-MM` strings, e.g. for MLflow parameters and the report."""
        out = {}
        for name, window in asdict(self).items():
            if isinstance(window, dict):
                out[f"{name}_start"] = window["first"].strftime("%Y-%m")
                out[f"{name}_end"] = window["last"].strftime("%Y-%m")
        return out


def choose_splits(horizon: int, first_month: dt.date, last_labelled: dt.date, settings: SplitSettings) -> Splits:
    """Windows of one horizon from the panel's first month and its last month with a known label.

    The test window ends at `settings.test_end` or the last labelled month; calibration and
    training windows go back from it, each separated from the next by `horizon` months. Training
    starts at `settings.train_start` or, by default, `warm_up_months` after the panel's first month,
    or earlier where that would leave fewer than `min_train_months` of training.
    """
    test_end = parse_month(settings.test_end) if settings.test_end else last_labelled
    if month_number(test_end) > month_number(last_labelled):
        raise SplitError(f"h={horizon}: test window ends {test_end:%Y-%m}, after the last labelled month "
                         f"{last_labelled:%Y-%m}")  # fmt: skip
    test_first = month_number(test_end) - settings.test_months + 1
    calibration_last = test_first - horizon - 1
    calibration_first = calibration_last - settings.calibration_months + 1
    train_last = calibration_first - horizon - 1
    if settings.train_start:
        train_first = max(month_number(parse_month(settings.train_start)), month_number(first_month))
    else:  # after the warm-up, unless that would leave fewer than min_train_months of training
        warmed = month_number(first_month) + settings.warm_up_months
        train_first = max(min(warmed, train_last - settings.min_train_months + 1), month_number(first_month))
    if train_last - train_first + 1 < settings.min_train_months:
        raise SplitError(
            f"h={horizon}: the panel ({first_month:%Y-%m} .. labels until {last_labelled:%Y-%m}) leaves "
            f"{max(train_last - train_first + 1, 0)} training months, fewer than min_train_months="
            f"{settings.min_train_months}; shorten models.splits.test_months / calibration_months or extend the data"
        )
    return Splits(
        horizon,
        Window(month_of(train_first), month_of(train_last)),
        Window(month_of(calibration_first), month_of(calibration_last)),
        Window(month_of(test_first), month_of(month_number(test_end))),
    )
