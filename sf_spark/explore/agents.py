"""The agents' ratings and follow-ups over time, their precision, and where they contest the scope.

What the fourth notebook builds on, for the programme's team; aggregates only (counts per month, level,
reason, sector): no firm-level row reaches the driver.

- `rating_history`: per list month, the ratings (the latest per firm, list and profile) by rating and reason;
- `followup_history`: per month, the follow-ups started, ended and in force, and the measures of those started;
- `judged_by_agents`: the champions' alerts of the rated list months as the agents judged them, next to the
  failures (`sf_spark.models.agents.agents_judgement`): precision by level, region, NAF section and month;
- `contested_scope`: the `hors_perimetre` ratings by NAF section, size band and legal category, with their
  share of the group's ratings, for the review of the scope rules.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sf_spark.lake import tables
from sf_spark.models.agents import agents_judgement
from sf_spark.models.engine import ALERT, LABEL, predict
from sf_spark.models.registry import connect, load_champions, model_tmpdir
from sf_spark.models.rows import labelled
from sf_spark.months import add_months
from sf_spark.scoring.feedback import latest_rating_per_profile, scope_size_band

if TYPE_CHECKING:
    from sf_spark.config import Settings
    from sf_spark.lake import Lake


def latest_ratings(lake: Lake) -> DataFrame:
    """`gold/agents_ratings`, the latest version per (siren, list month, profile)."""
    return lake.read(tables.AGENTS_RATINGS).transform(latest_rating_per_profile)


def rating_history(lake: Lake) -> pd.DataFrame:
    """Per list month (YYYY-MM): ratings by `rating` and `reason` (reason `none` when not given)."""
    rows = (
        latest_ratings(lake)
        .groupBy(
            F.date_format("list_month", "yyyy-MM").alias("list"),
            "rating",
            F.coalesce("reason", F.lit("none")).alias("reason"),
        )
        .agg(F.count(F.lit(1)).alias("ratings"))
        .orderBy("list", "rating", "reason")
        .toPandas()
    )
    return rows


def followup_history(lake: Lake) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per month (YYYY-MM): follow-ups `started`, `ended` and `in_force` at the month's end; and per month of
    start, the follow-ups by measure (a follow-up with two measures counts for both)."""
    followups = lake.read(tables.AGENTS_FOLLOWUPS)
    bounds = followups.agg(
        F.min("started_on"), F.max(F.greatest("started_on", F.coalesce("ended_on", "started_on")))
    ).first()
    if bounds[0] is None:
        empty = pd.DataFrame(columns=["month", "started", "ended", "in_force"])
        return empty, pd.DataFrame(columns=["month", "measure", "followups"])
    first, last = bounds[0].replace(day=1), bounds[1].replace(day=1)
    months = lake.spark.sql(f"SELECT explode(sequence(DATE'{first}', DATE'{last}', INTERVAL 1 MONTH)) AS month")
    end = F.last_day("month")
    per_month = (
        months.crossJoin(followups.select("started_on", "ended_on"))
        .groupBy("month")
        .agg(
            F.sum((F.trunc("started_on", "month") == F.col("month")).cast("int")).alias("started"),
            F.sum((F.trunc("ended_on", "month") == F.col("month")).cast("int")).alias("ended"),
            F.sum(
                ((F.col("started_on") <= end) & (F.col("ended_on").isNull() | (F.col("ended_on") > end))).cast("int")
            ).alias("in_force"),
        )
        .orderBy("month")
        .toPandas()
    )
    per_month["month"] = [f"{m:%Y-%m}" for m in per_month["month"]]
    measures = (
        followups.select(
            F.date_format("started_on", "yyyy-MM").alias("month"), F.explode(F.split("measures", ",")).alias("measure")
        )
        .groupBy("month", "measure")
        .agg(F.count(F.lit(1)).alias("followups"))
        .orderBy("month", "measure")
        .toPandas()
    )
    return per_month, measures


def judged_by_agents(
    lake: Lake, settings: Settings, horizon: int | None = None, months: int = 12
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rated list months of the last `months` (up to the last rated one), scored by today's champions:
    every firm's row of those months with its published level and its label where known, judged by the
    agents' ratings (`agents_judgement`: precision by level, region, NAF section, month; reasons of `inutile`).
    The champions stand in for the lists the agents received: lists in `gold/scores` are not needed."""
    h = horizon or settings.scoring.export_horizon
    ratings = lake.read(tables.AGENTS_RATINGS)
    last = ratings.agg(F.max("list_month")).first()[0]
    if last is None:
        raise ValueError(f"{tables.AGENTS_RATINGS} is empty: no rating has been ingested")
    first = add_months(last, 1 - months)
    connect(settings.tracking)
    models = {
        k: m
        for k, (_, m) in load_champions(
            settings.models, settings.models.horizons, model_tmpdir(lake.spark, settings.tracking, lake.root)
        ).items()
    }
    features = lake.read(tables.FEATURES).where(F.col("periode").between(F.lit(first), F.lit(last)))
    rows = features.where(~F.col("in_proceedings"))
    known = labelled(features, h).select("siren", "periode", LABEL)
    scored = (
        predict(models, rows)
        .select("siren", "periode", "region", "naf_section", F.col(f"{ALERT}_{h}").alias("alert_level"))
        .join(known, ["siren", "periode"], "left")
        .withColumnRenamed(LABEL, "label")
    )
    return agents_judgement(scored, ratings)


def contested_scope(lake: Lake, since: dt.date | None = None) -> pd.DataFrame:
    """The `hors_perimetre` ratings (latest per firm, list and profile; lists from `since`) by NAF section,
    size band and legal category (its first digit), with the group's ratings and the contested share."""
    ratings = latest_ratings(lake)
    if since is not None:
        ratings = ratings.where(F.col("list_month") >= F.lit(since))
    features = lake.read(tables.FEATURES).select(
        "siren",
        F.col("periode").alias("list_month"),
        "naf_section",
        scope_size_band().alias("size_band"),
        F.substring("legal_category", 1, 1).alias("legal_category"),
    )
    table = (
        ratings.join(features, ["siren", "list_month"], "left")
        .groupBy(*[F.coalesce(c, F.lit("unknown")).alias(c) for c in ("naf_section", "size_band", "legal_category")])
        .agg(
            F.count(F.lit(1)).alias("ratings"),
            F.sum((F.col("reason") == "hors_perimetre").cast("int")).alias("out_of_scope"),
        )
        .toPandas()
    )
    table["share"] = table["out_of_scope"] / table["ratings"]
    return table.sort_values(["out_of_scope", "share"], ascending=False, ignore_index=True)
