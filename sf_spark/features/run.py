"""The feature step, `build_features`: bronze -> silver -> `gold/features` (one row per siren and month)."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sf_spark.features.build import Calendar, assemble_panel, silver_tables
from sf_spark.features.inputs import CANONICAL, from_bronze
from sf_spark.features.panel import HORIZONS
from sf_spark.lake import Lake, tables
from sf_spark.months import end_of_month
from sf_spark.progress import say

if TYPE_CHECKING:
    from sf_spark.config import Settings

PARTITION = ["periode"]


def _month(text: str) -> str:
    return f"{text}-01"


def infer_calendar(src: dict[str, DataFrame], settings: Settings) -> Calendar:
    """Panel months from the data (or the configuration) and the end of known judgments."""
    months = (
        src["headcount_siren"]
        .select(F.col("periode").alias("m"))
        .unionByName(src["headcount_siret"].select(F.col("periode").alias("m")))
        .agg(F.min("m"), F.max("m"))
        .first()
    )
    judged = (
        src["procol"]
        .select(F.col("effective_on").alias("d"))
        .unionByName(src["judgments"].select(F.col("judged_on").alias("d")))
        .agg(F.max("d"))
        .first()[0]
    )
    if months[0] is None:
        raise ValueError("no headcount data in bronze: ingest the URSSAF headcount files before building features")
    first = _month(settings.features.first_month) if settings.features.first_month else months[0].isoformat()
    last = _month(settings.features.last_month) if settings.features.last_month else months[1].isoformat()
    # judgments are trusted up to the end of the panel's last month: a stray later date must not label
    # months whose outcome window has not been delivered yet
    end_of_last = end_of_month(dt.date.fromisoformat(last))
    known = min(judged, end_of_last) if judged else end_of_last
    return Calendar(first, last, known.isoformat())


def build_features(lake: Lake, settings: Settings) -> dict[str, Any]:
    """Rebuild every silver table, `gold/features` and `gold/firms` from bronze; say the base rates."""
    src = {name: from_bronze(lake, name) for name in CANONICAL}
    calendar = infer_calendar(src, settings)
    say(
        f"features: months {calendar.first_month[:7]} .. {calendar.last_month[:7]} rebuilt from bronze, "
        f"judgments known until {calendar.judgments_known_until}"
    )
    versions = {}
    built = silver_tables(src, calendar, settings.features)
    for i, (name, df) in enumerate(built.items(), 1):
        started = time.perf_counter()
        versions[tables.silver(name)] = lake.overwrite(df, tables.silver(name))
        say(
            f"  silver {i} of {len(built)}, {name}: version {versions[tables.silver(name)]} "
            f"in {time.perf_counter() - started:.1f} s"
        )
    started = time.perf_counter()
    silver = {name: lake.read(tables.silver(name)) for name in built}
    gold = assemble_panel(silver, calendar, settings.scope)
    # One file per month, rows in siren order: the same panel always gives the same files, so that a
    # model fitted with row sampling (GBT subsample) is the same whatever the cluster's shuffle order.
    versions[tables.FEATURES] = lake.overwrite(
        gold.repartition("periode").sortWithinPartitions("periode", "siren"),
        tables.FEATURES,
        PARTITION,
        metadata={"first_month": calendar.first_month, "last_month": calendar.last_month},
    )
    say(f"  {tables.FEATURES}: version {versions[tables.FEATURES]} in {time.perf_counter() - started:.1f} s")
    # The firms' names, for the agents' lists: scoring reads gold only.
    versions[tables.FIRMS] = lake.overwrite(firm_names(silver["firms"]), tables.FIRMS)
    # The agents' ratings and follow-ups, for the lists' columns and news and the reports.
    versions[tables.AGENTS_RATINGS] = lake.overwrite(silver["agents_ratings"], tables.AGENTS_RATINGS)
    versions[tables.AGENTS_FOLLOWUPS] = lake.overwrite(silver["agents_followups"], tables.AGENTS_FOLLOWUPS)
    stats = panel_statistics(lake.read(tables.FEATURES))
    stats["registered_firms"] = silver["firms"].count()
    say(
        f"features: {stats['rows']} firm-months in scope, {stats['firms']} of {stats['registered_firms']} "
        f"registered firms ever in scope"
    )
    for h in HORIZONS:
        say(
            f"  failure_{h}: base rate {stats[f'base_rate_{h}']:.2%} of labelled rows outside proceedings "
            f"({stats[f'labelled_{h}']} labelled)"
        )
    return {"calendar": calendar.__dict__, "versions": versions, **stats}


def firm_names(firms: DataFrame) -> DataFrame:
    """`gold/firms`: one row per siren of silver/firms with its name as Sirene last gave it."""
    return firms.select("siren", "name")


def panel_statistics(features: DataFrame) -> dict[str, Any]:
    """Rows, firms and label base rates (rows outside proceedings, labelled) of a panel."""
    eligible = ~F.col("in_proceedings")
    row = features.agg(
        F.count(F.lit(1)).alias("rows"),
        F.countDistinct("siren").alias("firms"),
        F.sum(F.col("in_proceedings").cast("int")).alias("in_proceedings_rows"),
        *[F.count(F.when(eligible, F.col(f"failure_{h}"))).alias(f"labelled_{h}") for h in HORIZONS],
        *[F.avg(F.when(eligible, F.col(f"failure_{h}"))).alias(f"base_rate_{h}") for h in HORIZONS],
    ).first()
    return {k: (v if v is not None else 0) for k, v in row.asDict().items()}
