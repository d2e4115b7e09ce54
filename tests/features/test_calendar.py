"""The panel's calendar: months from the data, judgments trusted up to the end of the last month."""

from __future__ import annotations

import datetime as dt

from sf_spark.config import Settings
from sf_spark.features import infer_calendar
from sf_spark.features.inputs import CANONICAL, empty

D = dt.date


def _sources(spark, judged_on: dt.date):
    src = {name: empty(spark, name) for name in CANONICAL}
    src["headcount_siren"] = spark.createDataFrame(
        [("123456789", D(2020, 1, 1), 12, D(2021, 1, 5), 1), ("123456789", D(2021, 6, 1), 12, D(2021, 7, 5), 1)],
        CANONICAL["headcount_siren"],
    )
    src["judgments"] = spark.createDataFrame([("123456789", judged_on, "3")], CANONICAL["judgments"])
    return src


def test_a_judgment_dated_after_the_panel_does_not_extend_known_outcomes(spark):
    calendar = infer_calendar(_sources(spark, D(2024, 1, 2)), Settings())
    assert (calendar.first_month, calendar.last_month, calendar.judgments_known_until) == (
        "2020-01-01",
        "2021-06-01",
        "2021-06-30",
    )


def test_judgments_known_until_their_latest_date_inside_the_panel(spark):
    assert infer_calendar(_sources(spark, D(2021, 3, 9)), Settings()).judgments_known_until == "2021-03-09"
