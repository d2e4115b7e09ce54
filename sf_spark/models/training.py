"""The train step: out-of-time fit, tuning, calibration, thresholds, evaluation and registration per horizon.

For each horizon h: rows outside proceedings with a known label are split in time
(`splits.choose_splits`); the classifier is fitted on the training window with instance weights
(class balance, crisis policy), tuned with hyperopt on the calibration window's average
precision when asked, calibrated by centred isotonic regression on the calibration window, given its
red (max F0.5) and orange (max F2) thresholds on the calibrated calibration window, then
evaluated on the test window with every trained horizon's probability made monotone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import pandas as pd
from pyspark import StorageLevel
from pyspark.ml import PipelineModel
from pyspark.ml.regression import IsotonicRegression, IsotonicRegressionModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sf_spark.features import feature_catalogue
from sf_spark.features.catalogue import catalogue_markdown
from sf_spark.lake import local_uri
from sf_spark.models import registry
from sf_spark.models.engine import (
    LABEL,
    PROBABILITY,
    SCORE,
    VALIDATION,
    WEIGHT,
    ModelInputs,
    classifier_stage,
    model_inputs,
    predict,
    scoring_pipeline,
    slot_names,
    trees_kept,
)  # fmt: skip
from sf_spark.models.evaluation import Evaluation, evaluate
from sf_spark.models.metrics import average_precision, best_threshold, binary_metrics, score_histogram
from sf_spark.models.settings import BoostingParams, EarlyStoppingSettings, ModelSettings
from sf_spark.models.splits import Splits, Window, choose_splits
from sf_spark.models.stages import AlertLevel
from sf_spark.models.tuning import tune

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from sf_spark.config import Settings
    from sf_spark.lake import Lake

FEATURES_TABLE = "gold/features"


def say(message: str) -> None:
    print(message, flush=True)


@dataclass
class FittedHorizon:
    """One horizon's calibrated model and what was decided on the way."""

    horizon: int
    splits: Splits
    model: PipelineModel
    params: BoostingParams
    thresholds: dict[str, float]
    calibration: dict[str, float]
    rows: dict[str, int]
    trials: list[dict[str, Any]] = field(default_factory=list)
    fit_seconds: float = 0.0
    trees_kept: int = 0


def labelled(features: DataFrame, horizon: int) -> DataFrame:
    """Rows usable for learning or evaluating horizon h: outside proceedings, label known; `label` as double."""
    return features.where(~F.col("in_proceedings") & F.col(f"failure_{horizon}").isNotNull()).withColumn(
        LABEL, F.col(f"failure_{horizon}").cast("double")
    )


def in_window(df: DataFrame, window: Window) -> DataFrame:
    return df.where(F.col("periode").between(F.lit(window.first), F.lit(window.last)))


def held_out(share: float, seed: int) -> F.Column:
    """True for the share of firms kept out of training (stable hash of siren and seed)."""
    return (F.abs(F.xxhash64(F.col("siren"), F.lit(seed))) % 10_000) < round(share * 10_000)


def class_weight(positive_weight: float) -> F.Column:
    """Instance weight by class: `positive_weight` for failing rows, 1 for the others."""
    return F.when(F.col(LABEL) == 1.0, F.lit(float(positive_weight))).otherwise(F.lit(1.0))


def with_weights(train: DataFrame, settings: ModelSettings) -> tuple[DataFrame, dict[str, float]]:
    """Instance weights: failing rows weighted for class balance, crisis months by the crisis policy."""
    crisis = settings.crisis
    in_crisis = F.col("periode").between(F.lit(f"{crisis.start}-01").cast("date"),
                                         F.lit(f"{crisis.end}-01").cast("date"))  # fmt: skip
    if crisis.policy == "exclude":
        train = train.where(~in_crisis)
    counts = train.agg(F.sum(LABEL).alias("positives"), F.count(F.lit(1)).alias("rows")).first()
    positives, rows = int(counts["positives"] or 0), int(counts["rows"])
    if positives == 0 or positives == rows:
        raise ValueError(f"training window has {positives} failing rows of {rows}: both classes are needed")
    balance = (rows - positives) / positives
    positive_weight = {"balanced": balance, "sqrt_balanced": balance**0.5}.get(settings.positive_weight)
    positive_weight = float(settings.positive_weight) if positive_weight is None else positive_weight
    weight = class_weight(positive_weight)
    if crisis.policy == "weight":
        weight = weight * F.when(in_crisis, F.lit(crisis.weight)).otherwise(F.lit(1.0))
    base_rate = positive_weight * positives / (positive_weight * positives + rows - positives)
    return train.withColumn(WEIGHT, weight), {"rows": rows, "positives": positives,
                                                "positive_weight": positive_weight,
                                                "base_rate": base_rate}  # fmt: skip


def calibrate(scored: DataFrame) -> IsotonicRegressionModel:
    """Centred isotonic regression of the label on the uncalibrated `model_score` (calibration window rows).

    Plain isotonic regression is a step function: every score within one pooled block gets the block's
    rate, so the thousands of distinct scores of a window collapse to a few dozen probabilities and the
    model's ranking inside each block is lost (on the demo world at 18 months, centring lifts XGBoost's
    test average precision from 0.391 to 0.408). Centring keeps each block's rate but places it at the
    block's mean score, and Spark's isotonic model interpolates linearly between those points: the map
    is strictly increasing between the lowest and highest centres, so the ranking is kept, and every
    block's rows keep, on average, the rate observed on them. The second fit, on points already in
    increasing order, pools nothing: it only makes those points a Spark `IsotonicRegressionModel`.
    """
    steps = IsotonicRegression(featuresCol=SCORE, labelCol=LABEL, predictionCol=PROBABILITY).fit(scored)
    centres = (steps.transform(scored).groupBy(PROBABILITY)
               .agg(F.avg(SCORE).alias(SCORE)).select(SCORE, F.col(PROBABILITY).alias(LABEL)))  # fmt: skip
    return IsotonicRegression(featuresCol=SCORE, labelCol=LABEL, predictionCol=PROBABILITY).fit(centres)


def alert_thresholds(calibrated: pd.DataFrame, settings: ModelSettings) -> tuple[dict[str, float], dict[str, float]]:
    """Red (max F-red_beta) and orange (max F-orange_beta) thresholds from a calibrated histogram of the
    calibration window, and their precision, recall and alerts there."""
    choice = {"red": best_threshold(calibrated, settings.red_beta),
              "orange": best_threshold(calibrated, settings.orange_beta)}  # fmt: skip
    figures = {f"calibration_{level}_{k}": v for level, found in choice.items() for k, v in found.items()}
    return {level: found["threshold"] for level, found in choice.items()}, figures


def training_set(rows: DataFrame, splits: Splits, settings: ModelSettings, seed: int,
                 ) -> tuple[DataFrame, dict[str, float]]:  # fmt: skip
    """The training window of `labelled` rows, without held-out firms, with instance weights; and its counts."""
    train = in_window(rows, splits.train)
    if settings.splits.hold_out_firms:
        train = train.where(~held_out(settings.splits.hold_out_firms, seed))
    return with_weights(train, settings)


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
    context.setCheckpointDir(tempfile.mkdtemp(prefix="sf-spark-checkpoints-") if local
                             else lake_root.rstrip("/") + "/_tmp/checkpoints")  # fmt: skip


def with_validation(train: DataFrame, calibration: DataFrame, early_stopping: EarlyStoppingSettings,
                    positive_weight: float) -> DataFrame:  # fmt: skip
    """What the classifier is fitted on: the weighted training rows, and under early stopping the
    calibration window's rows flagged `_m_validation`, scored after each tree, never learnt. They carry
    the training rows' class weight, so that the loss watched is the loss the trees minimise."""
    if early_stopping.window == "none":
        return train
    return train.withColumn(VALIDATION, F.lit(False)).unionByName(
        calibration.withColumns({WEIGHT: class_weight(positive_weight), VALIDATION: F.lit(True)})
    )


def fit_horizon(features: DataFrame, inputs: ModelInputs, splits: Splits, settings: ModelSettings, seed: int,
                trials: int) -> FittedHorizon:  # fmt: skip
    """Fit, tune (trials > 0), calibrate and threshold one horizon's model."""
    h = splits.horizon
    rows = labelled(features, h).select("siren", "periode", LABEL, *inputs.columns)
    train, counts = training_set(rows, splits, settings, seed)
    train = train.persist(StorageLevel.MEMORY_AND_DISK)
    calibration = in_window(rows, splits.calibration).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        learn = with_validation(train, calibration, settings.early_stopping, counts["positive_weight"])

        def fit(params: BoostingParams) -> PipelineModel:
            return scoring_pipeline(inputs, settings.engine, params, seed, settings.xgboost_workers,
                                    counts["base_rate"], settings.early_stopping).fit(learn)  # fmt: skip

        def calibration_aucpr(params: BoostingParams) -> float:
            return average_precision(score_histogram(fit(params).transform(calibration), SCORE, LABEL))

        history: list[dict[str, Any]] = []
        params = settings.params
        if trials:
            say(f"  h={h}: tuning over {trials} trials (objective: calibration average precision)")
            params, history = tune(calibration_aucpr, settings.tune, trials, seed)
        fit_started = time.perf_counter()
        scorer = fit(params)
        fit_seconds = time.perf_counter() - fit_started
        scored = scorer.transform(calibration).select(LABEL, SCORE).persist(StorageLevel.MEMORY_AND_DISK)
        raw_hist = score_histogram(scored, SCORE, LABEL)
        isotonic = calibrate(scored)
        calibrated_hist = score_histogram(isotonic.transform(scored), PROBABILITY, LABEL)
        thresholds, choice = alert_thresholds(calibrated_hist, settings)
        alert = AlertLevel(inputCol=PROBABILITY, outputCol="alert_level", **thresholds)
        model = PipelineModel(stages=[*scorer.stages, isotonic, alert])
        calibration_figures = {
            **{f"calibration_raw_{k}": v for k, v in binary_metrics(raw_hist).items()},
            **{f"calibration_{k}": v for k, v in binary_metrics(calibrated_hist).items()},
            **choice,
        }
        scored.unpersist()
    finally:
        train.unpersist()
        calibration.unpersist()
    return FittedHorizon(h, splits, model, params, thresholds, calibration_figures,
                         {"train_rows": counts["rows"], "train_positives": counts["positives"]}, history,
                         round(fit_seconds, 2), trees_kept(scorer))  # fmt: skip


def panel_extent(features: DataFrame, horizons: list[int]) -> tuple[dt.date, dict[int, dt.date]]:
    """First month of the panel and, per horizon, the last month with a known label."""
    row = features.agg(
        F.min("periode").alias("first"),
        *[F.max(F.when(F.col(f"failure_{h}").isNotNull(), F.col("periode"))).alias(f"last_{h}") for h in horizons],
    ).first()
    if row["first"] is None:
        raise ValueError("gold/features is empty: run `sf-spark features` first")
    missing = [h for h in horizons if row[f"last_{h}"] is None]
    if missing:
        raise ValueError(f"no labelled month for horizons {missing}: judgments do not reach far enough")
    return row["first"], {h: row[f"last_{h}"] for h in horizons}


def load_truth(spark: SparkSession, truth_dir: str | None) -> DataFrame | None:
    """The generator's true probabilities (siren, periode, p_12, p_18, p_24), when that folder exists."""
    if not truth_dir:
        return None
    path = Path(truth_dir) / "probabilities"
    if not path.is_dir():
        return None
    return spark.read.parquet(local_uri(path)).select("siren", "periode", "p_12", "p_18", "p_24")


def catalogue_version() -> tuple[str, str]:
    """The feature catalogue as Markdown and the first 12 hex digits of its SHA-256."""
    text = catalogue_markdown(feature_catalogue())
    return text, hashlib.sha256(text.encode()).hexdigest()[:12]


def test_scores(features: DataFrame, fitted: dict[int, FittedHorizon], horizon: int, settings: ModelSettings,
                seed: int, truth: DataFrame | None) -> DataFrame:  # fmt: skip
    """The test window of one horizon scored by every fitted horizon (monotone), with that horizon's
    figures under the generic names `probability`, `model_score`, `alert_level` (and `oracle`)."""
    rows = in_window(labelled(features, horizon), fitted[horizon].splits.test)
    if settings.splits.hold_out_firms:
        rows = rows.where(held_out(settings.splits.hold_out_firms, seed))
    scored = predict({h: f.model for h, f in fitted.items()}, rows).select(
        "siren", "periode", LABEL, "region", "naf_section",
        F.col(f"{PROBABILITY}_{horizon}").alias(PROBABILITY), F.col(f"{SCORE}_{horizon}").alias(SCORE),
        F.col(f"alert_level_{horizon}").alias("alert_level"),
        *[F.col(f"{PROBABILITY}_{h}") for h in fitted],
    )  # fmt: skip
    if truth is not None:
        scored = scored.join(truth.select("siren", "periode", F.col(f"p_{horizon}").alias("oracle")),
                             ["siren", "periode"], "left")  # fmt: skip
    return scored


def monotone_violations(scored: DataFrame, horizons: list[int]) -> int:
    """Rows where some shorter horizon has a higher probability than a longer one (must be 0)."""
    ordered = sorted(horizons)
    bad = F.lit(False)
    for short, long in itertools.pairwise(ordered):
        bad = bad | (F.col(f"{PROBABILITY}_{short}") > F.col(f"{PROBABILITY}_{long}"))
    return scored.where(bad).count()


def importance(model: PipelineModel) -> dict[str, float]:
    """The classifier's own feature importance per gold feature (sums to 1)."""
    stage = classifier_stage(model)
    names = slot_names(model)
    if hasattr(stage, "featureImportances"):
        values = list(stage.featureImportances.toArray())
    else:
        gains = stage.get_booster().get_score(importance_type="total_gain")
        values = [gains.get(f"f{i}", 0.0) for i in range(len(names))]
    total = sum(values) or 1.0
    return {name: value / total for name, value in zip(names, values, strict=True)}


def _log_metrics(horizon: int, values: dict[str, Any]) -> None:
    numeric = {f"{k}_h{horizon}": float(v) for k, v in values.items()
               if isinstance(v, (int, float)) and v == v}  # fmt: skip
    mlflow.log_metrics(numeric)


def train_models(spark: SparkSession, lake: Lake, settings: Settings, horizons: list[int] | None = None,
                 tune: int | None = None, promote: bool = False, only_without_champion: bool = False,
                 ) -> dict[str, Any]:  # fmt: skip
    """Train, calibrate, evaluate and register one model per horizon; set `champion` where it earns it.

    `tune` overrides the configured number of hyperopt trials; `promote` sets the champion alias
    whatever the comparison; `only_without_champion` (used by `run`) trains nothing when every
    horizon already has a champion.
    """
    from sf_spark.models.report import write_report

    ms = settings.models
    horizons = sorted(horizons or ms.horizons)
    trials = ms.tune.trials if tune is None else tune
    registry.connect(settings.tracking)
    tmpdir = registry.model_tmpdir(spark, settings.tracking, lake.root)
    if only_without_champion and all(registry.champion_version(ms, h) for h in horizons):
        say("train: every horizon has a champion model, nothing to train (use `sf-spark train` to retrain)")
        return {"skipped": "champions exist"}
    ensure_checkpoint_dir(spark, lake.root)
    features = lake.read(FEATURES_TABLE)
    data_version = lake.version(FEATURES_TABLE)
    features = features.persist(StorageLevel.MEMORY_AND_DISK)
    catalogue_text, catalogue_sha = catalogue_version()
    inputs = model_inputs(features.columns, [f.name for f in feature_catalogue()], ms)
    first, last_labelled = panel_extent(features, horizons)
    truth = load_truth(spark, settings.paths.truth)
    summary: dict[str, Any] = {"engine": ms.engine, "data_version": data_version, "horizons": {}}
    started = dt.datetime.now(dt.UTC)
    with mlflow.start_run(run_name=f"train-{ms.engine}-{started:%Y%m%d-%H%M%S}") as run:
        mlflow.log_params({
            "engine": ms.engine, "horizons": ",".join(map(str, horizons)), "tune_trials": trials,
            "seed": settings.seed, "crisis_policy": ms.crisis.policy, "crisis_weight": ms.crisis.weight,
            "positive_weight": ms.positive_weight, "hold_out_firms": ms.splits.hold_out_firms,
            "early_stopping": ms.early_stopping.window, "early_stopping_tolerance": ms.early_stopping.tolerance,
            "early_stopping_rounds": ms.early_stopping.rounds,
            "features": len(inputs.columns), "feature_catalogue_version": catalogue_sha,
            "data_version_gold_features": data_version,
        })  # fmt: skip
        mlflow.log_text(catalogue_text, "feature-catalogue.md")
        fitted: dict[int, FittedHorizon] = {}
        for h in horizons:
            splits = choose_splits(h, first, last_labelled[h], ms.splits)
            say(f"train h={h}: train {splits.train.first:%Y-%m}..{splits.train.last:%Y-%m}, calibration "
                f"{splits.calibration.first:%Y-%m}..{splits.calibration.last:%Y-%m}, test "
                f"{splits.test.first:%Y-%m}..{splits.test.last:%Y-%m} ({ms.engine})")  # fmt: skip
            fitted[h] = fit_horizon(features, inputs, splits, ms, settings.seed, trials)
            mlflow.log_params({f"h{h}_{k}": v for k, v in {**splits.describe(), **fitted[h].params.model_dump(),
                                                           **fitted[h].thresholds}.items()})  # fmt: skip
        results, evaluations = [], {}
        for h in horizons:
            scored = test_scores(features, fitted, h, ms, settings.seed, truth).persist(StorageLevel.MEMORY_AND_DISK)
            oracle = "oracle" if truth is not None else None
            betas = {"red": ms.red_beta, "orange": ms.orange_beta}
            evaluation = evaluate(scored, fitted[h].thresholds, betas, oracle)
            violations = monotone_violations(scored, horizons)
            scored.unpersist()
            values = {**evaluation.metrics, **fitted[h].calibration, **fitted[h].rows,
                      "fit_seconds": fitted[h].fit_seconds, "trees_kept": fitted[h].trees_kept,
                      "monotone_violations": violations}  # fmt: skip
            _log_metrics(h, values)
            evaluations[h] = evaluation
            test_rows = in_window(labelled(features, h), fitted[h].splits.test)
            results.append(_horizon_result(h, fitted[h], evaluation, test_rows, ms, settings.seed))
            say(_headline(h, evaluation.metrics))
        report_dir = Path(settings.paths.reports)
        report_dir.mkdir(parents=True, exist_ok=True)
        header = {"run id": run.info.run_id, "engine": ms.engine, "created": f"{started:%Y-%m-%d %H:%M} UTC",
                  "gold/features version": str(data_version), "feature catalogue": catalogue_sha,
                  "tuning trials": str(trials)}  # fmt: skip
        report = write_report(report_dir / f"training-{run.info.run_id}.html", results, header)
        mlflow.log_artifact(str(report), "report")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "evaluation.json"
            path.write_text(json.dumps({h: e.metrics for h, e in evaluations.items()}, indent=2, default=float))
            mlflow.log_artifact(str(path), "report")
        for h in horizons:
            summary["horizons"][h] = _register(fitted[h], evaluations[h], features, ms, settings.seed, promote,
                                               run.info.run_id, data_version, catalogue_sha, tmpdir)  # fmt: skip
            summary["horizons"][h].update(fit_seconds=fitted[h].fit_seconds, trees_kept=fitted[h].trees_kept,
                                          **fitted[h].rows,
                                          metrics=headline_metrics(evaluations[h].metrics))  # fmt: skip
        summary.update({"run_id": run.info.run_id, "report": str(report)})
    features.unpersist()
    say(f"train: report {report}")
    return summary


def headline_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """The test window's model and oracle figures, without the per-group and alert detail."""
    return {k: v for k, v in metrics.items() if k.startswith(("test_", "oracle_", "model_to_oracle_"))}


def _headline(h: int, m: dict[str, float]) -> str:
    line = (f"  h={h}: test ROC AUC {m['test_roc_auc']:.3f}, AUCPR {m['test_aucpr']:.3f}, Brier {m['test_brier']:.4f}, "
            f"ECE {m['test_ece']:.4f}; red {m['red_alerts']} alerts (precision {m['red_precision']:.2f}, recall "
            f"{m['red_recall']:.2f}), orange {m['orange_alerts']} (precision {m['orange_precision']:.2f}, recall "
            f"{m['orange_recall']:.2f})")  # fmt: skip
    if "oracle_aucpr" in m:
        line += (f"; oracle ROC AUC {m['oracle_roc_auc']:.3f}, AUCPR {m['oracle_aucpr']:.3f} "
                 f"(model/oracle AUCPR {m['model_to_oracle_aucpr']:.2f})")  # fmt: skip
    return line


def contribution_summary(model: PipelineModel, rows: DataFrame, sample_rows: int, seed: int,
                         top: int = 15) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:  # fmt: skip
    """Mean |contribution| per feature over a sample of rows, and the points of a beeswarm of the `top`
    features (contribution in log-odds, the feature's value as a quantile within the sample). No identifiers."""
    from sf_spark.explain import CONTRIBUTIONS, explain

    if sample_rows == 0:
        return None, None
    names = slot_names(model)
    total = rows.count()
    sample = rows.sample(fraction=min(1.0, 1.2 * sample_rows / max(total, 1)), seed=seed).limit(sample_rows)
    topics = {f.name: f.topic for f in feature_catalogue()}
    values = explain(model, sample).select(CONTRIBUTIONS, *dict.fromkeys(names)).toPandas()
    if values.empty:
        return None, None
    contributions = pd.DataFrame(values[CONTRIBUTIONS].tolist(), columns=names)
    summary = pd.DataFrame({"feature": names, "topic": [topics.get(n, "identity") for n in names],
                            "mean_abs_contribution": contributions.abs().mean().to_numpy()})  # fmt: skip
    summary = summary.sort_values("mean_abs_contribution", ascending=False, ignore_index=True)
    points = []
    for name in summary["feature"].head(top):
        raw = values[name]
        numeric = pd.to_numeric(raw, errors="coerce") if raw.dtype == object else raw.astype(float)
        quantile = numeric.rank(pct=True) if numeric.notna().any() else pd.Series(float("nan"), index=raw.index)
        points.append(pd.DataFrame({"feature": name, "contribution": contributions[name], "value_quantile": quantile}))
    return summary, pd.concat(points, ignore_index=True)


def _horizon_result(h: int, fitted: FittedHorizon, evaluation: Evaluation, test_rows: DataFrame,
                    settings: ModelSettings, seed: int):  # fmt: skip
    from sf_spark.models.report import HorizonResult

    topics = {f.name: f.topic for f in feature_catalogue()}
    weights = importance(fitted.model)
    table = [{"feature": k, "topic": topics.get(k, "identity"), "importance": v} for k, v in weights.items()]
    shap_summary, shap_points = contribution_summary(fitted.model, test_rows, settings.explain_sample_rows, seed)
    return HorizonResult(
        horizon=h, windows=fitted.splits.describe(), metrics=evaluation.metrics, thresholds=fitted.thresholds,
        test_histogram=evaluation.test_histogram, oracle_histogram=evaluation.oracle_histogram,
        raw_histogram=evaluation.raw_histogram, alerts_by_month=evaluation.alerts_by_month,
        by_group=evaluation.by_group,
        importance=pd.DataFrame(table).sort_values("importance", ascending=False, ignore_index=True),
        shap_summary=shap_summary, shap_points=shap_points,
    )  # fmt: skip


def _register(fitted: FittedHorizon, evaluation: Evaluation, features: DataFrame, settings: ModelSettings,
              seed: int, force: bool, run_id: str, data_version: int, catalogue_sha: str,
              tmpdir: str | None) -> dict[str, Any]:  # fmt: skip
    """Register the new version; make it champion if forced, if none exists, or if at least as good as the
    champion on the same test window (average precision)."""
    h = fitted.horizon
    tags = {"run_id": run_id, "threshold_red": str(fitted.thresholds["red"]),
            "threshold_orange": str(fitted.thresholds["orange"]), "data_version_gold_features": str(data_version),
            "feature_catalogue_version": catalogue_sha, "test_aucpr": str(evaluation.metrics["test_aucpr"]),
            **{k: v for k, v in fitted.splits.describe().items()}}  # fmt: skip
    version = registry.register(fitted.model, settings, h, tags, tmpdir)
    current = registry.champion_version(settings, h)
    reason = "forced (--promote)" if force else "no champion yet"
    promote = force or current is None
    if not promote:
        rows = in_window(labelled(features, h), fitted.splits.test)
        if settings.splits.hold_out_firms:
            rows = rows.where(held_out(settings.splits.hold_out_firms, seed))
        new_aucpr = average_precision(score_histogram(fitted.model.transform(rows), PROBABILITY, LABEL))
        try:
            champion = registry.load_version(settings, h, current, tmpdir)
            champion_aucpr = average_precision(score_histogram(champion.transform(rows), PROBABILITY, LABEL))
        except Exception as exc:  # an older champion that cannot read today's features loses its place
            promote, reason = True, f"champion v{current} cannot score the current features ({type(exc).__name__})"
        else:
            promote = new_aucpr >= champion_aucpr
            reason = f"test AUCPR {new_aucpr:.4f} vs champion v{current} {champion_aucpr:.4f} on the same test window"
    if promote:
        registry.promote(settings, h, version)
    say(f"  {registry.model_name(settings, h)} v{version}: {'champion' if promote else 'not promoted'} ({reason})")
    return {"version": version, "champion": promote, "reason": reason, "thresholds": fitted.thresholds,
            "windows": fitted.splits.describe(), "test_aucpr": evaluation.metrics["test_aucpr"]}  # fmt: skip
