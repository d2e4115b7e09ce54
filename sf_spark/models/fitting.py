"""The training procedure at one date: every horizon fitted, early-stopped, calibrated and thresholded.

`fit_procedure` is what both the backtests (at each origin) and the production fit (at the last month
of known outcomes) run. Per horizon h: the classifier learns the training firms' rows of h's training
window (instance weights for class balance and crisis months); the calibration firms' rows of the
calibration window, shared by all horizons, are scored after each tree (early stopping) and then
calibrate the score. Once every horizon is calibrated, the calibration rows are scored by all of them,
made monotone across horizons as `score` publishes them, and each horizon's red (max F0.5) and orange
(max F2) thresholds are chosen on those published probabilities.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pyspark import StorageLevel
from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sf_spark.models.calibration import alert_thresholds, calibrate
from sf_spark.models.engine import (
    LABEL,
    PROBABILITY,
    SCORE,
    VALIDATION,
    WEIGHT,
    ModelInputs,
    calibrated,
    horizon_disorder,
    monotone_horizons,
    scoring_pipeline,
    trees_kept,
)
from sf_spark.models.metrics import average_precision, binary_metrics, score_histogram
from sf_spark.models.rows import HELP_WEIGHT, calibration_rows, class_weight, training_rows, with_weights
from sf_spark.models.stages import AlertLevel
from sf_spark.models.tuning import tune

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from sf_spark.models.settings import BoostingParams, EarlyStoppingSettings, ModelSettings
    from sf_spark.models.splits import FitWindows


@dataclass
class FittedHorizon:
    """One horizon's calibrated, thresholded model and what was decided on the way."""

    horizon: int
    windows: FitWindows
    model: PipelineModel
    params: BoostingParams
    thresholds: dict[str, float]
    calibration: dict[str, float]
    rows: dict[str, int]
    trials: list[dict[str, Any]] = field(default_factory=list)
    fit_seconds: float = 0.0
    trees_kept: int = 0


def ensure_checkpoint_dir(spark: SparkSession, lake_root: str) -> None:
    """Spark's checkpoint folder, set when the session has none: a temporary folder in local mode,
    `<lake root>/_tmp/checkpoints` (seen by every node) on a cluster.

    GBT checkpoints its running predictions every `checkpointInterval` (10) trees, but only where a folder
    is set; under early stopping the calibration rows' predictions are carried from tree to tree too, and
    without checkpoints their lineage grows with each tree until the JVM's stack overflows (~150 trees).
    """
    context = spark.sparkContext
    if context.getCheckpointDir():
        return
    local = context.master.startswith("local")
    context.setCheckpointDir(
        tempfile.mkdtemp(prefix="sf-spark-checkpoints-") if local else lake_root.rstrip("/") + "/_tmp/checkpoints"
    )


def with_validation(
    train: DataFrame, calibration: DataFrame, early_stopping: EarlyStoppingSettings, positive_weight: float
) -> DataFrame:
    """What the classifier is fitted on: the weighted training rows, and under early stopping the
    calibration rows flagged `_m_validation`, scored after each tree, never learnt. They carry the
    training rows' class weight, so that the loss watched is the loss the trees minimise."""
    if early_stopping.window == "none":
        return train
    return train.withColumn(VALIDATION, F.lit(False)).unionByName(
        calibration.withColumns({WEIGHT: class_weight(positive_weight), VALIDATION: F.lit(True)})
    )


def _fit_classifier(
    features: DataFrame,
    inputs: ModelInputs,
    h: int,
    windows: FitWindows,
    settings: ModelSettings,
    seed: int,
    trials: int,
    say,
) -> dict[str, Any]:
    """Horizon h's classifier (tuned when trials > 0) and its centred isotonic calibration."""
    keep = ["siren", "periode", LABEL, *inputs.columns]
    train = training_rows(features, h, windows, settings, seed)
    train, counts = with_weights(train.select(*keep, *[c for c in (HELP_WEIGHT,) if c in train.columns]), settings)
    train = train.drop(HELP_WEIGHT)  # in the instance weight now; calibration rows are not weighted
    train = train.persist(StorageLevel.MEMORY_AND_DISK)
    calibration = calibration_rows(features, h, windows, settings, seed).select(keep)
    calibration = calibration.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        learn = with_validation(train, calibration, settings.early_stopping, counts["positive_weight"])

        def fit(params: BoostingParams) -> PipelineModel:
            return scoring_pipeline(
                inputs,
                settings.engine,
                params,
                seed,
                settings.xgboost_workers,
                counts["base_rate"],
                settings.early_stopping,
            ).fit(learn)

        def calibration_aucpr(params: BoostingParams) -> float:
            return average_precision(score_histogram(fit(params).transform(calibration), SCORE, LABEL))

        history: list[dict[str, Any]] = []
        params = settings.params
        if trials:
            say(f"  h={h}: tuning over {trials} trials (objective: calibration average precision)")
            params, history = tune(calibration_aucpr, settings.tune, trials, seed)
        started = time.perf_counter()
        scorer = fit(params)
        fit_seconds = time.perf_counter() - started
        scored = scorer.transform(calibration).select(LABEL, SCORE).persist(StorageLevel.MEMORY_AND_DISK)
        raw = binary_metrics(score_histogram(scored, SCORE, LABEL))
        isotonic = calibrate(scored, settings.calibration.min_block_positives)
        scored.unpersist()
    finally:
        train.unpersist()
        calibration.unpersist()
    return {
        "scorer": PipelineModel(stages=[*scorer.stages, isotonic]),
        "params": params,
        "history": history,
        "fit_seconds": round(fit_seconds, 2),
        "trees_kept": trees_kept(scorer),
        "raw": {f"calibration_raw_{k}": v for k, v in raw.items()},
        "rows": {"train_rows": counts["rows"], "train_positives": counts["positives"]},
    }


def fit_procedure(
    features: DataFrame,
    inputs: ModelInputs,
    windows: FitWindows,
    settings: ModelSettings,
    seed: int,
    trials: int = 0,
    say=lambda _: None,
) -> tuple[dict[int, FittedHorizon], dict[str, float]]:
    """Every horizon of `windows` fitted with outcomes known until `windows.known`; also the calibration
    window's disorder between horizons before they are made monotone (`disorder_rows`, `disorder_share`,
    `disorder_max`)."""
    horizons = sorted(windows.train)
    parts = {h: _fit_classifier(features, inputs, h, windows, settings, seed, trials, say) for h in horizons}
    longest = horizons[-1]
    rows = calibration_rows(features, longest, windows, settings, seed)  # labelled at every shorter horizon too
    scored = calibrated({h: p["scorer"] for h, p in parts.items()}, rows)
    bad, size = horizon_disorder(horizons)
    scored = scored.select(
        *[F.col(f"failure_{h}").cast("double").alias(f"label_{h}") for h in horizons],
        *[F.col(f"{PROBABILITY}_{h}") for h in horizons],
        bad.alias("_disordered"),
        size.alias("_disorder"),
    )
    scored = scored.withColumns(monotone_horizons(horizons)).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        disorder = scored.agg(
            F.count(F.lit(1)).alias("rows"),
            F.sum(F.col("_disordered").cast("long")).alias("bad"),
            F.max("_disorder").alias("max"),
        ).first()
        fitted = {}
        for h in horizons:
            published = score_histogram(scored, f"{PROBABILITY}_{h}", f"label_{h}")
            thresholds, choice = alert_thresholds(published, settings)
            alert = AlertLevel(inputCol=PROBABILITY, outputCol="alert_level", **thresholds)
            part = parts[h]
            figures = {**part["raw"], **{f"calibration_{k}": v for k, v in binary_metrics(published).items()}, **choice}
            fitted[h] = FittedHorizon(
                h,
                windows,
                PipelineModel(stages=[*part["scorer"].stages, alert]),
                part["params"],
                thresholds,
                figures,
                part["rows"],
                part["history"],
                part["fit_seconds"],
                part["trees_kept"],
            )
    finally:
        scored.unpersist()
    rows_count = int(disorder["rows"])
    return fitted, {
        "disorder_rows": int(disorder["bad"] or 0),
        "disorder_share": (disorder["bad"] or 0) / rows_count if rows_count else 0.0,
        "disorder_max": float(disorder["max"] or 0.0),
    }
