"""Month to month: first alert ever, level up or down since last month, consecutive months alerted.

Computed for the scored month m from the rows of `gold/scores` strictly before m, so re-scoring
m gives the same answer however often it runs.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

LEVEL_RANK = {"green": 0, "orange": 1, "red": 2}
KEYS = ["siren", "horizon"]


def _rank(level: Column) -> Column:
    return F.coalesce(*[F.when(level == name, F.lit(rank)) for name, rank in LEVEL_RANK.items()])


def alerted(level: Column) -> Column:
    return level.isin("red", "orange")


def with_history(current: DataFrame, earlier: DataFrame | None) -> DataFrame:
    """Add `previous_level`, `level_change` (new, up, down, same), `first_alert` and `months_alerted` to
    the scored rows of one month (siren, periode, horizon, alert_level), from earlier months' rows."""
    if earlier is None:
        earlier = current.sparkSession.createDataFrame(
            [], "siren string, periode date, horizon int, alert_level string, months_alerted int"
        )
    month = current.select(F.max("periode")).first()[0]
    before = earlier.where(F.col("periode") < F.lit(month))
    last_alert = (
        before.where(alerted(F.col("alert_level"))).groupBy(*KEYS).agg(F.max("periode").alias("last_alerted_month"))
    )
    previous = before.where(F.col("periode") == F.add_months(F.lit(month), -1)).select(
        *KEYS, F.col("alert_level").alias("previous_level"), F.col("months_alerted").alias("_previous_streak")
    )
    joined = current.join(previous, KEYS, "left").join(last_alert, KEYS, "left")
    level, before_level = F.col("alert_level"), F.col("previous_level")
    change = (
        F.when(before_level.isNull(), F.lit("new"))
        .when(_rank(level) > _rank(before_level), F.lit("up"))
        .when(_rank(level) < _rank(before_level), F.lit("down"))
        .otherwise(F.lit("same"))
    )
    streak = F.when(
        alerted(level),
        F.when(alerted(F.coalesce(before_level, F.lit("green"))), F.col("_previous_streak")).otherwise(F.lit(0)) + 1,
    ).otherwise(F.lit(0))
    return joined.select(
        *current.columns,
        "previous_level",
        change.alias("level_change"),
        (alerted(level) & F.col("last_alerted_month").isNull()).alias("first_alert"),
        streak.cast("int").alias("months_alerted"),
    )
