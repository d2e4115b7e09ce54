"""Which rows of `gold/features` the procedure learns from, calibrates on and is tested on, and their weights.

Every selection goes through these functions: `labelled` (outside proceedings, label known), `in_window`,
`calibration_firm` (the firms kept out of training), `training_rows`, `calibration_rows` and `evaluation_rows`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sf_spark.models.engine import LABEL, WEIGHT

if TYPE_CHECKING:
    from sf_spark.models.settings import ModelSettings
    from sf_spark.models.splits import FitWindows, Window


class OneClassError(ValueError):
    """A training window without failing rows (or without any other): nothing to learn."""


def labelled(features: DataFrame, horizon: int) -> DataFrame:
    """Rows usable for learning or evaluating horizon h: outside proceedings, label known; `label` as double."""
    return features.where(~F.col("in_proceedings") & F.col(f"failure_{horizon}").isNotNull()).withColumn(
        LABEL, F.col(f"failure_{horizon}").cast("double")
    )


def in_window(df: DataFrame, window: Window) -> DataFrame:
    return df.where(F.col("periode").between(F.lit(window.first), F.lit(window.last)))


def calibration_firm(share: float, seed: int) -> F.Column:
    """True for the share of firms kept out of training (stable hash of siren and seed)."""
    return (F.abs(F.xxhash64(F.col("siren"), F.lit(seed))) % 10_000) < round(share * 10_000)


def training_rows(
    features: DataFrame, horizon: int, windows: FitWindows, settings: ModelSettings, seed: int
) -> DataFrame:
    """Horizon h's training window, firms that train only, crisis months excluded under policy 'exclude'."""
    rows = in_window(labelled(features, horizon), windows.train[horizon])
    rows = rows.where(~calibration_firm(settings.splits.calibration_firms, seed))
    rows = accounting_for_help(rows, horizon, settings)
    return rows.where(~in_crisis(settings)) if settings.crisis.policy == "exclude" else rows


def calibration_rows(
    features: DataFrame, horizon: int, windows: FitWindows, settings: ModelSettings, seed: int
) -> DataFrame:
    """The calibration window's rows of the calibration firms, labelled for horizon h."""
    rows = in_window(labelled(features, horizon), windows.calibration)
    rows = rows.where(calibration_firm(settings.splits.calibration_firms, seed))
    return accounting_for_help(rows, horizon, settings)


HELP_WEIGHT = "_help_weight"


def accounting_for_help(rows: DataFrame, horizon: int, settings: ModelSettings) -> DataFrame:
    """Rows whose outcome window the agents' help may have changed, under `models.followup.policy`:
    kept (`naive`), left out (`censor`: the help-censored ones; `exclude`: every window a follow-up
    meets), or given the weight `HELP_WEIGHT` (`weight`). A panel without the columns is unchanged."""
    policy, censored = settings.followup.policy, f"help_censored_{horizon}"
    if policy == "naive" or censored not in rows.columns:
        return rows
    if policy == "censor":
        return rows.where(~F.col(censored))
    if policy == "exclude":
        window_end = F.date_sub(F.add_months("periode", horizon + 1), 1)
        return rows.where(F.col("followup_from").isNull() | (F.col("followup_from") > window_end))
    return rows.withColumn(HELP_WEIGHT, F.when(F.col(censored), F.lit(settings.followup.weight)).otherwise(F.lit(1.0)))


def evaluation_rows(features: DataFrame, horizon: int, window: Window) -> DataFrame:
    """Rows a model is tested on: every firm's labelled months of `window`, a window after its outcomes."""
    return in_window(labelled(features, horizon), window)


def in_crisis(settings: ModelSettings) -> F.Column:
    crisis = settings.crisis
    return F.col("periode").between(F.lit(f"{crisis.start}-01").cast("date"), F.lit(f"{crisis.end}-01").cast("date"))


def class_weight(positive_weight: float) -> F.Column:
    """Instance weight by class: `positive_weight` for failing rows, 1 for the others."""
    return F.when(F.col(LABEL) == 1.0, F.lit(float(positive_weight))).otherwise(F.lit(1.0))


def with_weights(train: DataFrame, settings: ModelSettings) -> tuple[DataFrame, dict[str, float]]:
    """Instance weights: failing rows weighted for class balance, crisis months by the crisis policy; and
    the training window's rows, positives, positive weight and weighted base rate."""
    counts = train.agg(F.sum(LABEL).alias("positives"), F.count(F.lit(1)).alias("rows")).first()
    positives, rows = int(counts["positives"] or 0), int(counts["rows"])
    if positives == 0 or positives == rows:
        raise OneClassError(f"training window has {positives} failing rows of {rows}: both classes are needed")
    balance = (rows - positives) / positives
    positive_weight = {"balanced": balance, "sqrt_balanced": balance**0.5}.get(settings.positive_weight)
    positive_weight = float(settings.positive_weight) if positive_weight is None else positive_weight
    weight = class_weight(positive_weight)
    if settings.crisis.policy == "weight":
        weight = weight * F.when(in_crisis(settings), F.lit(settings.crisis.weight)).otherwise(F.lit(1.0))
    if HELP_WEIGHT in train.columns:
        weight = weight * F.col(HELP_WEIGHT)
    base_rate = positive_weight * positives / (positive_weight * positives + rows - positives)
    return train.withColumn(WEIGHT, weight), {
        "rows": rows,
        "positives": positives,
        "positive_weight": positive_weight,
        "base_rate": base_rate,
    }
