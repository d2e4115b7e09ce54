"""Alerts as the agents judged them, next to alerts as failures judged them.

On scored rows with their published level (the backtest's months after each origin), each alerted
(siren, month) the agents rated on that month's list takes the firm's rating of that list: the latest
rating over profiles, revisions included (hindsight is fair in an evaluation). The agents' precision
of a level is the share of its rated alerts rated `utile`; the failures' precision is the share of its
alerts (rated or not) that failed within the horizon. Both are given overall and by region, NAF
section and month; the reasons of `inutile` by level. Aggregates only: no firm leaves Spark.
"""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sf_spark.features.silver import latest_per

AGENTS_COLUMNS = [
    "dimension",
    "group",
    "alert_level",
    "alerts",
    "failures",
    "failure_precision",
    "rated",
    "useful",
    "agents_precision",
]
REASONS_COLUMNS = ["alert_level", "reason", "ratings", "share"]
DIMENSIONS = ("all", "region", "naf_section", "month")


def list_ratings(ratings: DataFrame) -> DataFrame:
    """Per (siren, list month), the latest rating over profiles: `rating`, `reason`."""
    latest = latest_per(["siren", "list_month"], F.col("rated_on").desc(), F.col("profile"))
    return ratings.transform(latest).select("siren", F.col("list_month").alias("periode"), "rating", "reason")


def agents_judgement(rows: DataFrame, ratings: DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`rows` (siren, periode, region, naf_section, label, alert_level) -> the precision table
    (`AGENTS_COLUMNS`, by dimension and month) and the reasons of `inutile` by level (`REASONS_COLUMNS`)."""
    alerts = rows.where(F.col("alert_level").isin("red", "orange")).join(
        list_ratings(ratings), ["siren", "periode"], "left"
    )
    figures = [
        F.count(F.lit(1)).alias("alerts"),
        F.sum(F.coalesce(F.col("label"), F.lit(0.0))).alias("failures"),
        F.avg("label").alias("failure_precision"),
        F.count("rating").alias("rated"),
        F.sum((F.col("rating") == "utile").cast("int")).alias("useful"),
    ]
    groups = {
        "all": F.lit("all"),
        "region": F.col("region"),
        "naf_section": F.col("naf_section"),
        "month": F.date_format("periode", "yyyy-MM"),
    }
    # every dimension in one job: each alert once per dimension, with its group in that dimension
    per_dimension = F.explode(
        F.array(
            *[
                F.struct(F.lit(n).alias("dimension"), F.coalesce(g, F.lit("unknown")).alias("group"))
                for n, g in groups.items()
            ]
        )
    )
    table = (
        alerts.select("*", per_dimension.alias("_by"))
        .groupBy(F.col("_by.dimension").alias("dimension"), F.col("_by.group").alias("group"), "alert_level")
        .agg(*figures)
        .toPandas()
    )
    table["useful"] = table["useful"].fillna(0).astype(int)
    table["agents_precision"] = table["useful"] / table["rated"].where(table["rated"] > 0)
    table = table.sort_values(["dimension", "group", "alert_level"], ignore_index=True)[AGENTS_COLUMNS]
    reasons = (
        alerts.where(F.col("rating") == "inutile")
        .groupBy("alert_level", F.coalesce("reason", F.lit("unknown")).alias("reason"))
        .agg(F.count(F.lit(1)).alias("ratings"))
        .toPandas()
    )
    if len(reasons):
        reasons["share"] = reasons["ratings"] / reasons.groupby("alert_level")["ratings"].transform("sum")
    else:
        reasons["share"] = pd.Series(dtype=float)
    return table, reasons.sort_values(["alert_level", "ratings"], ascending=[True, False], ignore_index=True)[
        REASONS_COLUMNS
    ]


def agents_metrics(table: pd.DataFrame) -> dict[str, float]:
    """The headline figures for MLflow: rated alerts and the agents' precision per level, overall."""
    out = {}
    for row in table[table["dimension"] == "all"].itertuples():
        out[f"agents_rated_{row.alert_level}"] = float(row.rated)
        if row.rated:
            out[f"agents_precision_{row.alert_level}"] = float(row.agents_precision)
    return out
