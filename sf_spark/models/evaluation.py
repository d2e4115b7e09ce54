"""Evaluation of one horizon on its test window: per firm-month, per firm, by region and sector, vs the oracle.

Input is the scored test window (one row per labelled firm-month outside proceedings) with the
calibrated probability, the uncalibrated score, the label, the alert thresholds and, when the
lake comes from the generator, the true probability of the same rows. Only aggregates reach
the driver.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sf_spark.models.metrics import at_threshold, binary_metrics, histogram, score_histogram

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


def _alert_figures(hist: pd.DataFrame, thresholds: dict[str, float], betas: dict[str, float],
                   prefix: str = "") -> dict[str, float]:  # fmt: skip
    out = {}
    for level, threshold in thresholds.items():
        for key, value in at_threshold(hist, threshold, betas[level]).items():
            out[f"{prefix}{level}_{key}"] = value
    return out


def _prefixed(values: dict[str, float], prefix: str) -> dict[str, float]:
    return {f"{prefix}{k}": v for k, v in values.items()}


def _group_table(scored: DataFrame, probability: str, thresholds: dict[str, float],
                 betas: dict[str, float]) -> pd.DataFrame:  # fmt: skip
    rows = []
    for dimension in GROUP_DIMENSIONS:
        counts = (
            scored.groupBy(F.coalesce(F.col(dimension), F.lit("unknown")).alias("group"),
                           F.round(probability, 7).alias("score"))
            .agg(F.count(F.lit(1)).alias("rows"), F.sum("label").alias("positives"))
            .toPandas()
        )  # fmt: skip
        for group, part in counts.groupby("group"):
            hist = histogram(part)
            figures = binary_metrics(hist)
            rows.append({"dimension": dimension, "group": group, "rows": figures["rows"],
                         "positives": figures["positives"], "roc_auc": figures["roc_auc"],
                         "aucpr": figures["aucpr"], **_alert_figures(hist, thresholds, betas)})  # fmt: skip
    table = pd.DataFrame(rows)
    return table.drop(columns=[c for c in table.columns if c.endswith("_f_beta")])


def evaluate(scored: DataFrame, thresholds: dict[str, float], betas: dict[str, float],
             oracle: str | None = None) -> Evaluation:  # fmt: skip
    """Metrics of a scored test window with columns siren, periode, label, probability, model_score,
    region, naf_section and, optionally, the oracle's probability column `oracle`."""
    test_hist = score_histogram(scored, "probability", "label")
    raw_hist = score_histogram(scored, "model_score", "label")
    metrics: dict[str, Any] = {
        **_prefixed(binary_metrics(test_hist), "test_"),
        **_alert_figures(test_hist, thresholds, betas),
        "raw_roc_auc": binary_metrics(raw_hist)["roc_auc"],
    }
    firm_level = scored.groupBy("siren").agg(
        F.max("probability").alias("probability"), F.max("label").alias("label"),
        *([F.max(oracle).alias("oracle")] if oracle else []),
    )  # fmt: skip
    firm_hist = score_histogram(firm_level, "probability", "label")
    firm_metrics = binary_metrics(firm_hist)
    metrics.update({"firm_roc_auc": firm_metrics["roc_auc"], "firm_aucpr": firm_metrics["aucpr"],
                    "firm_rows": firm_metrics["rows"], "firm_positives": firm_metrics["positives"],
                    **_alert_figures(firm_hist, thresholds, betas, "firm_")})  # fmt: skip
    oracle_hist = None
    if oracle:  # the oracle is compared on the rows it covers (the truth may miss a firm's last months)
        covered = scored.where(F.col(oracle).isNotNull())
        oracle_hist = score_histogram(covered, oracle, "label")
        oracle_metrics = binary_metrics(oracle_hist)
        same_rows = binary_metrics(score_histogram(covered, "probability", "label"))
        firm_oracle = binary_metrics(score_histogram(firm_level.where(F.col("oracle").isNotNull()), "oracle", "label"))
        metrics.update(_prefixed({k: oracle_metrics[k] for k in ("roc_auc", "aucpr", "brier", "ece")}, "oracle_"))
        metrics.update({"oracle_firm_roc_auc": firm_oracle["roc_auc"], "oracle_firm_aucpr": firm_oracle["aucpr"],
                        "oracle_coverage": oracle_metrics["rows"] / metrics["test_rows"]})  # fmt: skip
        metrics["model_to_oracle_aucpr"] = _ratio(same_rows["aucpr"], oracle_metrics["aucpr"])
        metrics["model_to_oracle_roc_auc"] = _ratio(same_rows["roc_auc"], oracle_metrics["roc_auc"])
        metrics["oracle_minus_model_roc_auc"] = oracle_metrics["roc_auc"] - same_rows["roc_auc"]
    red, orange = F.col("alert_level") == "red", F.col("alert_level").isin("red", "orange")
    by_month = (  # orange counts every row at or above the orange threshold (red included), like the metrics
        scored.groupBy(F.date_format("periode", "yyyy-MM").alias("periode"))
        .agg(F.count(F.lit(1)).alias("rows"), F.sum("label").alias("positives"),
             F.sum(red.cast("int")).alias("red"), F.sum(orange.cast("int")).alias("orange"),
             F.sum(F.when(red, F.col("label"))).alias("red_positives"),
             F.sum(F.when(orange, F.col("label"))).alias("orange_positives"))
        .orderBy("periode").toPandas().fillna(0)
    )  # fmt: skip
    return Evaluation(metrics, test_hist, raw_hist, oracle_hist, by_month,
                      _group_table(scored, "probability", thresholds, betas))  # fmt: skip


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator and not math.isnan(denominator) else math.nan
