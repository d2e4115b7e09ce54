"""Months the training procedure learns from, and the origins of its rolling backtests.

A row of month m carries the label window m+1 .. m+h; that label is known at the end of month `known`
when m + h <= known. The procedure at `known` (`fit_windows`) trains horizon h on the months
first + warm-up .. known - h, and calibrates every horizon on one window, the `calibration_months`
ending at known - max(h), taken from firms that never train. A backtest origin o applies the same
procedure with `known = o` and scores the months o+1 .. o+step, whose outcomes were unknown at o.
Months are handled as `datetime.date` first days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sf_spark.models import tags as TAG
from sf_spark.models.settings import BacktestSettings, SplitSettings
from sf_spark.months import add_months, month_number, month_of, months_between, parse_month


class SplitError(ValueError):
    """The data's extent cannot hold the requested windows."""


@dataclass(frozen=True)
class Window:
    """Months [first, last], both first days of months."""

    first: dt.date
    last: dt.date

    @property
    def months(self) -> int:
        return months_between(self.first, self.last)

    def contains(self, month: dt.date) -> bool:
        return self.first <= month <= self.last

    def label_end(self, horizon: int) -> dt.date:
        """The last month any label of this window looks at."""
        return add_months(self.last, horizon)


@dataclass(frozen=True)
class FitWindows:
    """The procedure's windows at `known`, the last month whose outcomes it may use."""

    known: dt.date
    train: dict[int, Window]
    calibration: Window

    def describe(self, horizon: int) -> dict[str, str]:
        """Flat `YYYY-MM` strings of one horizon's windows, e.g. for MLflow and the registry's tags."""
        return {
            TAG.TRAIN_START: f"{self.train[horizon].first:%Y-%m}",
            TAG.TRAIN_END: f"{self.train[horizon].last:%Y-%m}",
            TAG.CALIBRATION_START: f"{self.calibration.first:%Y-%m}",
            TAG.CALIBRATION_END: f"{self.calibration.last:%Y-%m}",
            TAG.OUTCOMES_KNOWN_UNTIL: f"{self.known:%Y-%m}",
        }


def months_needed(horizons: list[int], settings: SplitSettings) -> int:
    """Months of data (first panel month to the last month of known outcomes) the procedure needs."""
    return max(horizons) + settings.warm_up_months + max(settings.min_train_months, settings.calibration_months)


def fit_windows(horizons: list[int], first_month: dt.date, known: dt.date, settings: SplitSettings) -> FitWindows:
    """The procedure's windows when outcomes are known until `known` and the panel starts at `first_month`.

    SplitError, naming the months needed, when a horizon would train on fewer than `min_train_months` or
    the calibration window would reach into the warm-up.
    """
    longest = max(horizons)
    start = month_number(first_month) + settings.warm_up_months
    if settings.train_start:
        start = max(start, month_number(parse_month(settings.train_start)))
    calibration_last = month_number(known) - longest
    calibration = Window(month_of(calibration_last - settings.calibration_months + 1), month_of(calibration_last))
    train = {h: Window(month_of(start), month_of(month_number(known) - h)) for h in sorted(horizons)}
    short = [h for h, w in train.items() if month_number(w.last) - start + 1 < settings.min_train_months]
    if short or month_number(calibration.first) < start:
        have = months_between(first_month, known)
        raise SplitError(
            f"h={short[-1] if short else longest}: outcomes known {first_month:%Y-%m} .. {known:%Y-%m} "
            f"({have} months) leave too few months to learn from; horizons up to {longest} need at least "
            f"{months_needed(horizons, settings)} months (max horizon {longest} + warm_up_months "
            f"{settings.warm_up_months} + max(min_train_months {settings.min_train_months}, calibration_months "
            f"{settings.calibration_months})){'' if not settings.train_start else ' from train_start'}"
        )
    return FitWindows(known, train, calibration)


@dataclass(frozen=True)
class Origin:
    """One backtest origin: the procedure fitted with outcomes known until `known`, scoring `test`."""

    known: dt.date
    test: Window
    windows: FitWindows


def backtest_origins(
    horizons: list[int], first_month: dt.date, known: dt.date, splits: SplitSettings, backtest: BacktestSettings
) -> list[Origin]:
    """Up to `backtest.origins` origins, in time order, on a fixed calendar grid (the last month of every
    block of `step_months`: June and December for 6), so that trainings a month apart share their origins;
    the last origin's scored months end by the last month labelled at every horizon (known - max h).
    Origins too early to fit the procedure are left out; the list may be empty."""
    step = backtest.step_months
    last_scored = month_number(known) - max(horizons)
    latest = last_scored - step
    latest -= (latest - (step - 1)) % step
    origins = []
    for at in range(latest - step * (backtest.origins - 1), latest + 1, step):
        try:
            windows = fit_windows(horizons, first_month, month_of(at), splits)
        except SplitError:
            continue
        origins.append(Origin(month_of(at), Window(month_of(at + 1), month_of(at + step)), windows))
    return origins
