"""Out-of-time windows: no label window of a set reaches the next set (no Spark)."""

from __future__ import annotations

import datetime as dt

import pytest

from sf_spark.models.settings import SplitSettings
from sf_spark.models.splits import SplitError, choose_splits, month_number

FIRST = dt.date(2014, 1, 1)
LAST_LABELLED = {12: dt.date(2022, 12, 1), 18: dt.date(2022, 6, 1), 24: dt.date(2021, 12, 1)}


@pytest.mark.parametrize("horizon", [12, 18, 24])
def test_label_windows_never_overlap_the_next_set(horizon):
    s = choose_splits(horizon, FIRST, LAST_LABELLED[horizon], SplitSettings(warm_up_months=0))
    assert s.train.first == FIRST
    assert s.test.last == LAST_LABELLED[horizon]
    assert (s.train.months, s.calibration.months, s.test.months) == (s.train.months, 12, 12)
    # every label of training is known before calibration starts; likewise calibration before test
    assert s.train.label_end(horizon) < s.calibration.first
    assert s.calibration.label_end(horizon) < s.test.first
    # and the gap is exactly h months (not more: no data thrown away)
    assert month_number(s.calibration.first) - month_number(s.train.last) - 1 == horizon
    assert month_number(s.test.first) - month_number(s.calibration.last) - 1 == horizon


def test_windows_of_the_18_month_horizon_by_hand():
    s = choose_splits(18, FIRST, LAST_LABELLED[18], SplitSettings(warm_up_months=0))
    assert s.describe() == {
        "train_start": "2014-01", "train_end": "2017-06",
        "calibration_start": "2019-01", "calibration_end": "2019-12",
        "test_start": "2021-07", "test_end": "2022-06",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("horizon", "train"),
    [(12, ("2016-01", "2018-12")), (18, ("2016-01", "2017-06")), (24, ("2015-01", "2015-12"))],  # 24: 12 months kept
)
def test_training_skips_the_warm_up_but_keeps_min_train_months(horizon, train):
    s = choose_splits(horizon, FIRST, LAST_LABELLED[horizon], SplitSettings())  # warm-up 24 months, 12 at least
    assert (s.describe()["train_start"], s.describe()["train_end"]) == train
    assert s.describe()["test_end"] == f"{LAST_LABELLED[horizon]:%Y-%m}"


def test_configured_test_end_and_window_lengths():
    settings = SplitSettings(test_end="2020-12", test_months=6, calibration_months=3, train_start="2015-01")
    s = choose_splits(12, FIRST, LAST_LABELLED[12], settings)
    assert s.describe() == {
        "train_start": "2015-01", "train_end": "2018-03",
        "calibration_start": "2019-04", "calibration_end": "2019-06",
        "test_start": "2020-07", "test_end": "2020-12",
    }  # fmt: skip


def test_a_test_window_past_the_labels_is_refused():
    with pytest.raises(SplitError, match="after the last labelled month"):
        choose_splits(12, FIRST, LAST_LABELLED[12], SplitSettings(test_end="2023-06"))


def test_too_short_a_panel_says_what_to_change():
    with pytest.raises(SplitError, match="min_train_months"):
        choose_splits(24, dt.date(2018, 1, 1), dt.date(2021, 12, 1), SplitSettings())
