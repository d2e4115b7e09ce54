"""The procedure's windows and the backtest origins: no label unknown at a date is ever used (no Spark)."""

from __future__ import annotations

import datetime as dt

import pytest

from sf_spark.models.settings import BacktestSettings, SplitSettings
from sf_spark.models.splits import (
    SplitError,
    add_months,
    backtest_origins,
    fit_windows,
    month_number,
    months_needed,
)

D = dt.date
HORIZONS = [12, 18, 24]


def test_the_procedure_trains_each_horizon_up_to_its_last_known_label_and_calibrates_once():
    w = fit_windows(HORIZONS, D(2014, 1, 1), D(2023, 12, 1), SplitSettings())
    assert {h: (w.train[h].first, w.train[h].last) for h in HORIZONS} == {
        12: (D(2015, 1, 1), D(2022, 12, 1)),
        18: (D(2015, 1, 1), D(2022, 6, 1)),
        24: (D(2015, 1, 1), D(2021, 12, 1)),
    }
    assert (w.calibration.first, w.calibration.last) == (D(2021, 1, 1), D(2021, 12, 1))  # labelled at every horizon
    assert w.describe(18) == {
        "train_start": "2015-01",
        "train_end": "2022-06",
        "calibration_start": "2021-01",
        "calibration_end": "2021-12",
        "outcomes_known_until": "2023-12",
    }


@pytest.mark.parametrize("known", [D(2018, 12, 1), D(2021, 6, 1), D(2023, 12, 1)])
def test_no_window_uses_a_label_unknown_at_its_date(known):
    w = fit_windows(HORIZONS, D(2014, 1, 1), known, SplitSettings())
    for h in HORIZONS:
        assert w.train[h].label_end(h) <= known
        assert w.calibration.label_end(h) <= known


def test_five_years_of_history_are_enough_for_every_horizon_by_default():
    w = fit_windows(HORIZONS, D(2019, 1, 1), D(2023, 12, 1), SplitSettings())
    assert w.train[24].months == 24 and w.train[12].months == 36
    assert months_needed(HORIZONS, SplitSettings()) == 48


def test_too_short_a_history_names_the_months_needed():
    with pytest.raises(SplitError, match=r"need at least 48 months.*max horizon 24"):
        fit_windows(HORIZONS, D(2020, 1, 1), D(2023, 10, 1), SplitSettings())
    with pytest.raises(SplitError, match=r"at least 61 months.*min_train_months 25"):
        fit_windows(HORIZONS, D(2019, 1, 1), D(2023, 12, 1), SplitSettings(min_train_months=25))


def test_backtest_origins_sit_on_a_calendar_grid_and_score_only_labelled_months():
    origins = backtest_origins(HORIZONS, D(2014, 1, 1), D(2023, 12, 1), SplitSettings(), BacktestSettings())
    assert [o.known for o in origins] == [
        D(2018, 12, 1),
        D(2019, 6, 1),
        D(2019, 12, 1),
        D(2020, 6, 1),
        D(2020, 12, 1),
        D(2021, 6, 1),
    ]
    assert origins[-1].test.last == D(2021, 12, 1)  # the last month labelled at 24 months
    for o in origins:
        assert o.test.first == add_months(o.known, 1) and o.test.months == 6
        assert o.windows.known == o.known
        assert all(o.windows.train[h].label_end(h) <= o.known for h in HORIZONS)
    # a month later the grid is the same: successive trainings share their origins
    later = backtest_origins(HORIZONS, D(2014, 1, 1), D(2024, 1, 1), SplitSettings(), BacktestSettings())
    assert [o.known for o in later] == [o.known for o in origins]


def test_origins_too_early_for_the_procedure_are_left_out():
    origins = backtest_origins(HORIZONS, D(2019, 1, 1), D(2023, 12, 1), SplitSettings(), BacktestSettings())
    assert origins == []  # 5 years: the production fit works, a backtest at 24 months does not
    short = backtest_origins([12], D(2019, 1, 1), D(2023, 12, 1), SplitSettings(), BacktestSettings())
    assert [o.known for o in short] == [D(2021, 12, 1), D(2022, 6, 1)]
    assert month_number(short[0].windows.train[12].last) - month_number(D(2020, 1, 1)) + 1 == 12
