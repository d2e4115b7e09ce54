"""Month to month: first alert, level change and consecutive months, from earlier months only."""

from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality

from sf_spark.scoring.history import with_history

D = dt.date
CURRENT = "siren string, periode date, horizon int, alert_level string"
EARLIER = "siren string, periode date, horizon int, alert_level string, months_alerted int"
OUT = f"{CURRENT}, previous_level string, level_change string, first_alert boolean, months_alerted int"


def test_news_of_the_month(spark):
    earlier = spark.createDataFrame(
        [
            ("a", D(2021, 1, 1), 18, "orange", 1),
            ("a", D(2021, 2, 1), 18, "orange", 2),  # alerted, rises
            ("b", D(2020, 6, 1), 18, "red", 1),
            ("b", D(2021, 2, 1), 18, "green", 0),  # alerted long ago
            ("c", D(2021, 2, 1), 18, "red", 5),  # falls to green
            ("d", D(2021, 1, 1), 18, "green", 0),  # no row last month
            ("a", D(2021, 3, 1), 18, "green", 0),  # the month itself: ignored
        ],
        EARLIER,
    )
    current = spark.createDataFrame(
        [
            ("a", D(2021, 3, 1), 18, "red"),
            ("b", D(2021, 3, 1), 18, "orange"),
            ("c", D(2021, 3, 1), 18, "green"),
            ("d", D(2021, 3, 1), 18, "orange"),
            ("e", D(2021, 3, 1), 18, "green"),
        ],
        CURRENT,
    )
    expected = spark.createDataFrame(
        [
            ("a", D(2021, 3, 1), 18, "red", "orange", "up", False, 3),
            ("b", D(2021, 3, 1), 18, "orange", "green", "up", False, 1),
            ("c", D(2021, 3, 1), 18, "green", "red", "down", False, 0),
            ("d", D(2021, 3, 1), 18, "orange", None, "new", True, 1),
            ("e", D(2021, 3, 1), 18, "green", None, "new", False, 0),
        ],
        OUT,
    )
    assert_df_equality(with_history(current, earlier), expected, ignore_row_order=True, ignore_nullable=True)


def test_first_month_ever_scored(spark):
    current = spark.createDataFrame([("a", D(2021, 3, 1), 12, "red")], CURRENT)
    expected = spark.createDataFrame([("a", D(2021, 3, 1), 12, "red", None, "new", True, 1)], OUT)
    assert_df_equality(with_history(current, None), expected, ignore_nullable=True)
