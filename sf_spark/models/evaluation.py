"""Evaluation of one horizon on scored test rows: per firm-month, per firm, by region and sector, vs the oracle.

Input is the scored rows (one per labelled firm-month outside proceedings; in a backtest, the months
after each origin scored by that origin's models) with the published probability, the uncalibrated
score, the label, the alert level each row was given and, when the lake comes from the generator, the
true probability of the same rows. Alert figures count the levels as published, so rows scored by
models with different thresholds pool correctly. Only aggregates reach the driver.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sf_spark.models.metrics import binary_metrics, calibration_figures, f_beta, histogram, score_histogram

GROUP_DIMENSIONS = ("region", "naf_section")


@dataclass(frozen=True)
class Evaluation:
    """Figures of one horizon's test window (flat metrics plus the frames the report draws)."""

    metrics: dict[str, float]
    test_histogram: pd.DataFrame
    raw_histogram: pd.DataFrame
    oracle_histogram: pd.DataFrame | None
    alerts_by_month: pd.DataFrame
    by_group: pd.DataFrame


def _alert_figures(counts: pd.DataFrame, betas: dict[str, float], prefix: str = "") -> dict[str, float]:
    """Alerts, precision, recall and F-beta per level from rows and positives per `alert_level` (orange
    counts every row at or above the orange threshold, red ones included)."""
    total = float(counts["positives"].sum())
    out = {}
    for level, levels in (("red", ("red",)), ("orange", ("red", "orange"))):
        alerted = counts[counts["alert_level"].isin(levels)]
        alerts, caught = int(alerted["rows"].sum()), int(alerted["positives"].sum())
        precision = caught / alerts if alerts else 0.0
        recall = caught / total if total else math.nan
        figures = {
            "alerts": alerts,
            "precision": precision,
            "recall": recall,
            "f_beta": f_beta(precision, recall, betas[level]),
        }
        out.update({f"{prefix}{level}_{k}": v for k, v in figures.items()})
    return out


def _level_counts(scored: DataFrame, *groups: F.Column) -> pd.DataFrame:
    return (
        scored.groupBy(*groups, "alert_level")
        .agg(F.count(F.lit(1)).alias("rows"), F.sum("label").alias("positives"))
        .toPandas()
    )


def _prefixed(values: dict[str, float], prefix: str) -> dict[str, float]:
    return {f"{prefix}{k}": v for k, v in values.items()}


def _group_table(scored: DataFrame, probability: str, betas: dict[str, float]) -> pd.DataFrame:
    rows = []
    for dimension in GROUP_DIMENSIONS:
        group = F.coalesce(F.col(dimension), F.lit("unknown")).alias("group")
        counts = (
            scored.groupBy(group, F.round(probability, 7).alias("score"))
            .agg(F.count(F.lit(1)).alias("rows"), F.sum("label").alias("positives"))
            .toPandas()
        )
        levels = _level_counts(scored, group)
        for name, part in counts.groupby("group"):
            figures = binary_metrics(histogram(part))
            rows.append(
                {
                    "dimension": dimension,
                    "group": name,
                    "rows": figures["rows"],
                    "positives": figures["positives"],
                    "roc_auc": figures["roc_auc"],
                    "aucpr": figures["aucpr"],
                    **_alert_figures(levels[levels["group"] == name], betas),
                }
            )
    table = pd.DataFrame(rows)
    return table.drop(columns=[c for c in table.columns if c.endswith("_f_beta")])


def evaluate(scored: DataFrame, betas: dict[str, float], oracle: str | None = None) -> Evaluation:
    """Metrics of scored test rows with columns siren, periode, label, probability, model_score, alert_level,
    region, naf_section and, optionally, the oracle's probability column `oracle`. A firm is alerted at a
    level when one of its rows is."""
    test_hist = score_histogram(scored, "probability", "label")
    raw_hist = score_histogram(scored, "model_score", "label")
    metrics: dict[str, Any] = {
        **_prefixed(binary_metrics(test_hist), "test_"),
        **_prefixed(calibration_figures(test_hist), "test_"),
        **_alert_figures(_level_counts(scored), betas),
        "raw_roc_auc": binary_metrics(raw_hist)["roc_auc"],
    }
    rank = F.when(F.col("alert_level") == "red", 2).when(F.col("alert_level") == "orange", 1).otherwise(0)
    firm_level = (
        scored.groupBy("siren")
        .agg(
            F.max("probability").alias("probability"),
            F.max("label").alias("label"),
            F.max(rank).alias("_rank"),
            *([F.max(oracle).alias("oracle")] if oracle else []),
        )
        .withColumn(
            "alert_level", F.when(F.col("_rank") == 2, "red").when(F.col("_rank") == 1, "orange").otherwise("green")
        )
    )
    firm_hist = score_histogram(firm_level, "probability", "label")
    firm_metrics = binary_metrics(firm_hist)
    metrics.update(
        {
            "firm_roc_auc": firm_metrics["roc_auc"],
            "firm_aucpr": firm_metrics["aucpr"],
            "firm_rows": firm_metrics["rows"],
            "firm_positives": firm_metrics["positives"],
            **_alert_figures(_level_counts(firm_level), betas, "firm_"),
        }
    )
    oracle_hist = None
    if oracle:  # the oracle is compared on the rows it covers (the truth may miss a firm's last months)
        covered = scored.where(F.col(oracle).isNotNull())
        oracle_hist = score_histogram(covered, oracle, "label")
        oracle_metrics = binary_metrics(oracle_hist)
        same_rows = binary_metrics(score_histogram(covered, "probability", "label"))
        firm_oracle = binary_metrics(score_histogram(firm_level.where(F.col("oracle").isNotNull()), "oracle", "label"))
        metrics.update(_prefixed({k: oracle_metrics[k] for k in ("roc_auc", "aucpr", "brier", "ece")}, "oracle_"))
        metrics.update(
            {
                "oracle_firm_roc_auc": firm_oracle["roc_auc"],
                "oracle_firm_aucpr": firm_oracle["aucpr"],
                "oracle_coverage": oracle_metrics["rows"] / metrics["test_rows"],
            }
        )
        metrics["model_to_oracle_aucpr"] = _ratio(same_rows["aucpr"], oracle_metrics["aucpr"])
        metrics["model_to_oracle_roc_auc"] = _ratio(same_rows["roc_auc"], oracle_metrics["roc_auc"])
        metrics["oracle_minus_model_roc_auc"] = oracle_metrics["roc_auc"] - same_rows["roc_auc"]
    red, orange = F.col("alert_level") == "red", F.col("alert_level").isin("red", "orange")
    by_month = (  # orange counts every row at or above the orange threshold (red included), like the metrics
        scored.groupBy(F.date_format("periode", "yyyy-MM").alias("periode"))
        .agg(
            F.count(F.lit(1)).alias("rows"),
            F.sum("label").alias("positives"),
            F.sum(red.cast("int")).alias("red"),
            F.sum(orange.cast("int")).alias("orange"),
            F.sum(F.when(red, F.col("label"))).alias("red_positives"),
            F.sum(F.when(orange, F.col("label"))).alias("orange_positives"),
            F.sum("probability").alias("p_sum"),
        )
        .orderBy("periode")
        .toPandas()
        .fillna(0)
    )
    return Evaluation(metrics, test_hist, raw_hist, oracle_hist, by_month, _group_table(scored, "probability", betas))


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator and not math.isnan(denominator) else math.nan
