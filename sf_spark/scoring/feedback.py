"""The agents' word in the month's scores: their last rating and follow-up per firm, and news that
respects what they said.

For the list of month m, a rating or follow-up counts when it is dated before the first day of month
m + 1 + `scoring.feedback.known_after_months` (by default m + 2, when the list of m is published), and
a rating only when it rates an earlier list: re-scoring m gives the same answer whenever it runs.

News (`news`, with `news_reason`) for an alerted firm:
- a firm whose last rating has a quiet reason (`quiet_reasons`: by default `deja_connue`,
  `situation_saine`) is news only when its level is above the level of the list it was rated on
  (`rating_level_up`), or its probability at least `news_probability_factor` times that list's
  (`rating_probability_up`); when that list is not in `gold/scores`, its level is taken as orange
  (the least level on a list) and the probability rule does not apply;
- any other firm is news on its first alert (`first_alert`) or when its level rose since the
  previous month (`level_up`).
A firm the agents rated, whatever the rating, has been on a list: it is never a first alert again.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sf_spark.features.silver import latest_per
from sf_spark.months import add_months
from sf_spark.scoring.history import LEVEL_RANK, alerted

if TYPE_CHECKING:
    from sf_spark.scoring.settings import FeedbackSettings

RATING_COLUMNS = {
    "last_rating": "string",
    "last_rating_reason": "string",
    "last_rating_list": "date",
    "last_rated_on": "date",
}
FOLLOWUP_COLUMNS = {"followed_since": "date", "followup_stage": "string", "followup_measures": "string"}
NEWS_COLUMNS = {"news": "boolean", "news_reason": "string"}


def latest_rating_per_profile(ratings: DataFrame) -> DataFrame:
    """The latest version of each rating: one row per (siren, list month, profile)."""
    return ratings.transform(latest_per(["siren", "list_month", "profile"], F.col("rated_on").desc()))


def scope_size_band() -> Column:
    """The size bands the scope's review counts ratings by: 10-49, 50-249, 250+ employees."""
    headcount = F.col("headcount")
    return F.when(headcount < 50, "10-49").when(headcount < 250, "50-249").otherwise("250+")


def known_before(month: dt.date, settings: FeedbackSettings) -> dt.date:
    """The first day after what the list of `month` may know of the agents' ratings and follow-ups."""
    return add_months(month, 1 + settings.known_after_months)


def last_ratings(ratings: DataFrame, month: dt.date, settings: FeedbackSettings) -> DataFrame:
    """Per siren, the latest rating known for the list of `month` (of an earlier list)."""
    known = ratings.where(
        (F.col("rated_on") < F.lit(known_before(month, settings))) & (F.col("list_month") < F.lit(month))
    )
    latest = latest_per(["siren"], F.col("rated_on").desc(), F.col("list_month").desc(), F.col("profile"))
    return known.transform(latest).select(
        "siren",
        F.col("rating").alias("last_rating"),
        F.col("reason").alias("last_rating_reason"),
        F.col("list_month").alias("last_rating_list"),
        F.col("rated_on").alias("last_rated_on"),
    )


def followups_in_force(followups: DataFrame, month: dt.date, settings: FeedbackSettings) -> DataFrame:
    """Per siren, the follow-up in force for the list of `month`: started before the limit and not
    ended before it (the latest started when several)."""
    limit = F.lit(known_before(month, settings))
    running = followups.where(
        (F.col("started_on") < limit) & (F.col("ended_on").isNull() | (F.col("ended_on") >= limit))
    )
    return running.transform(latest_per(["siren"], F.col("started_on").desc())).select(
        "siren",
        F.col("started_on").alias("followed_since"),
        F.col("stage").alias("followup_stage"),
        F.col("measures").alias("followup_measures"),
    )


def _rank(level: Column) -> Column:
    return F.coalesce(*[F.when(level == name, F.lit(rank)) for name, rank in LEVEL_RANK.items()])


def with_feedback(
    scored: DataFrame,
    ratings: DataFrame | None,
    followups: DataFrame | None,
    earlier: DataFrame | None,
    month: dt.date,
    settings: FeedbackSettings,
) -> DataFrame:
    """The month's scored rows (with `with_history`'s columns) plus the last rating, the follow-up in
    force, `news` and `news_reason`; `first_alert` false for a firm the agents have rated."""
    spark = scored.sparkSession
    if ratings is None:
        ratings = spark.createDataFrame(
            [], "siren string, list_month date, profile string, rated_on date, rating string, reason string"
        )
    if followups is None:
        followups = spark.createDataFrame(
            [], "siren string, started_on date, ended_on date, stage string, measures string"
        )
    rated = last_ratings(ratings, month, settings)
    followed = followups_in_force(followups, month, settings)
    out = scored.join(rated, "siren", "left").join(followed, "siren", "left")
    if earlier is not None:
        at_rating = earlier.select(
            "siren",
            "horizon",
            F.col("periode").alias("last_rating_list"),
            F.col("alert_level").alias("_rated_level"),
            F.col("probability").alias("_rated_probability"),
        )
        out = out.join(at_rating, ["siren", "horizon", "last_rating_list"], "left")
    else:
        out = out.withColumns(
            {"_rated_level": F.lit(None).cast("string"), "_rated_probability": F.lit(None).cast("double")}
        )
    level = F.col("alert_level")
    quiet = F.col("last_rating_reason").isin(*settings.quiet_reasons)
    rated_level = F.coalesce(F.col("_rated_level"), F.lit("orange"))
    first = F.col("first_alert") & F.col("last_rating").isNull()
    reason = (
        F.when(~alerted(level), F.lit(None))
        .when(quiet & (_rank(level) > _rank(rated_level)), F.lit("rating_level_up"))
        .when(
            quiet & (F.col("probability") >= F.lit(settings.news_probability_factor) * F.col("_rated_probability")),
            F.lit("rating_probability_up"),
        )
        .when(quiet, F.lit(None))
        .when(first, F.lit("first_alert"))
        .when(F.col("level_change") == "up", F.lit("level_up"))
    ).cast("string")
    return (
        out.withColumn("first_alert", first)
        .withColumns({"news": reason.isNotNull(), "news_reason": reason})
        .drop("_rated_level", "_rated_probability")
    )


def feedback_summary(
    ratings: DataFrame,
    scores: DataFrame | None,
    features: DataFrame,
    month: dt.date,
    horizon: int,
    settings: FeedbackSettings,
) -> dict:
    """What the agents said of the lists of the last `summary_months` months, as known for the list of
    `month`: ratings, share useful (by level where the list is in `gold/scores`), the reasons of
    `inutile`, and the `hors_perimetre` ratings by NAF section and size band, for the scope's review."""
    first = add_months(month, -settings.summary_months)
    known = ratings.where(
        (F.col("rated_on") < F.lit(known_before(month, settings)))
        & (F.col("list_month") >= F.lit(first))
        & (F.col("list_month") < F.lit(month))
    )
    known = known.transform(latest_rating_per_profile)
    useful = (F.col("rating") == "utile").cast("int")
    if scores is not None:
        levels = scores.where(F.col("horizon") == horizon).select(
            "siren", F.col("periode").alias("list_month"), "alert_level"
        )
        known = known.join(levels, ["siren", "list_month"], "left")
    else:
        known = known.withColumn("alert_level", F.lit(None).cast("string"))
    by_level = {
        (r["alert_level"] or "unknown"): {"rated": r["rated"], "useful": r["useful"]}
        for r in known.groupBy("alert_level")
        .agg(F.count(F.lit(1)).alias("rated"), F.sum(useful).alias("useful"))
        .collect()
    }
    reasons = {
        r["reason"]: r["n"]
        for r in known.where(F.col("rating") == "inutile").groupBy("reason").agg(F.count(F.lit(1)).alias("n")).collect()
    }
    attributes = features.where(F.col("periode").between(F.lit(first), F.lit(month))).select(
        "siren", F.col("periode").alias("list_month"), "naf_section", scope_size_band().alias("size_band")
    )
    scope = (
        known.join(attributes, ["siren", "list_month"], "left")
        .groupBy("naf_section", "size_band")
        .agg(
            F.count(F.lit(1)).alias("rated"),
            F.sum((F.col("reason") == "hors_perimetre").cast("int")).alias("out_of_scope"),
        )
        .where(F.col("out_of_scope") > 0)
        .orderBy(F.col("out_of_scope").desc(), "naf_section", "size_band")
        .toPandas()
    )
    rated = sum(v["rated"] for v in by_level.values())
    return {
        "lists": f"{first:%Y-%m}..{add_months(month, -1):%Y-%m}",
        "rated": rated,
        "useful_share": (sum(v["useful"] for v in by_level.values()) / rated) if rated else None,
        "by_level": by_level,
        "useless_reasons": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
        "out_of_scope": scope,
    }
