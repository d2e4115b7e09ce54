"""The train step: rolling-origin backtests of the procedure, the production fit, the report, registration.

For the horizons asked, on `gold/features`:
1. the procedure's windows at the last month of known outcomes (`splits.fit_windows`): a clear error,
   naming the months needed, before anything is fitted or registered, when the data are too short;
2. the rolling-origin backtest (`backtest.run_backtest`): at each origin the procedure is fitted on what
   was known then and scores the months after it; pooled and per-origin figures with firm-clustered
   intervals (`backtest.evaluate_backtest`), logged under the `test_*` metric names;
3. the production fit (`fitting.fit_procedure`) on the freshest labelled months: the models `score` uses;
4. the report, then every horizon's version registered, and the `champion` alias moved where the
   backtests say the new procedure is at least as good as the champion's on the origins both share.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import pandas as pd
from mlflow import MlflowClient
from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sf_spark.features import feature_catalogue, feature_topics
from sf_spark.features.catalogue import catalogue_markdown
from sf_spark.lake import local_uri, tables
from sf_spark.models import registry
from sf_spark.models import tags as TAG
from sf_spark.models.agents import agents_judgement, agents_metrics
from sf_spark.models.backtest import BacktestEvaluation, evaluate_backtest, horizon_rows, run_backtest
from sf_spark.models.engine import model_inputs
from sf_spark.models.fitting import FittedHorizon, ensure_checkpoint_dir, fit_procedure
from sf_spark.models.importance import contribution_summary, importance
from sf_spark.models.rows import OneClassError, calibration_rows
from sf_spark.models.splits import backtest_origins, fit_windows, months_needed
from sf_spark.months import add_months, month_number
from sf_spark.progress import say

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from sf_spark.config import Settings
    from sf_spark.lake import Lake
    from sf_spark.models.settings import ModelSettings
    from sf_spark.models.splits import FitWindows, Origin


def panel_extent(features: DataFrame, horizons: list[int], settings: ModelSettings) -> tuple[dt.date, dt.date, dt.date]:
    """First and last month of the panel, and the last month whose outcomes are known (the last labelled
    month of each horizon plus the horizon; the earliest of them)."""
    row = features.agg(
        F.min("periode").alias("first"),
        F.max("periode").alias("last"),
        *[F.max(F.when(F.col(f"failure_{h}").isNotNull(), F.col("periode"))).alias(f"last_{h}") for h in horizons],
    ).first()
    if row["first"] is None:
        raise ValueError("gold/features is empty: run `sf-spark features` first")
    missing = [h for h in horizons if row[f"last_{h}"] is None]
    if missing:
        raise ValueError(
            f"no labelled month for horizons {missing} in {row['first']:%Y-%m} .. {row['last']:%Y-%m}: horizons up "
            f"to {max(horizons)} need at least {months_needed(horizons, settings.splits)} months of data with judgments"
        )
    known = min(add_months(row[f"last_{h}"], h) for h in horizons)
    return row["first"], row["last"], known


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


def _log_metrics(horizon: int, values: dict[str, Any]) -> None:
    numeric = {f"{k}_h{horizon}": float(v) for k, v in values.items() if isinstance(v, (int, float)) and v == v}
    mlflow.log_metrics(numeric)


def train_models(
    lake: Lake,
    settings: Settings,
    horizons: list[int] | None = None,
    tune: int | None = None,
    promote: bool = False,
    only_without_champion: bool = False,
) -> dict[str, Any]:
    """Backtest the procedure, fit it on the freshest months, report, register; move `champion` where earned.

    `tune` overrides the configured number of hyperopt trials (production fit); `promote` sets the champion
    alias whatever the comparison; `only_without_champion` (used by `run`) trains nothing when every horizon
    already has a champion. Nothing is registered unless every horizon was fitted and evaluated.
    """
    from sf_spark.models.report import write_report

    spark = lake.spark
    horizons = sorted(horizons or settings.models.horizons)
    ms = settings.models.model_copy(update={"horizons": horizons})
    trials = ms.tune.trials if tune is None else tune
    registry.connect(settings.tracking)
    tmpdir = registry.model_tmpdir(spark, settings.tracking, lake.root)
    if only_without_champion and all(registry.champion_version(ms, h) for h in horizons):
        say("train: every horizon has a champion model, nothing to train (use `sf-spark train` to retrain)")
        return {"skipped": "champions exist"}
    features = lake.read(tables.FEATURES)
    data_version = lake.version(tables.FEATURES)
    features = features.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        first, last, known = panel_extent(features, horizons, ms)
        windows = fit_windows(horizons, first, known, ms.splits)  # too short: stops before any fit
        origins = backtest_origins(horizons, first, known, ms.splits, ms.backtest)
        ensure_checkpoint_dir(spark, lake.root)
        ratings = lake.read(tables.AGENTS_RATINGS) if lake.exists(tables.AGENTS_RATINGS) else None
        plan = Plan(settings, ms, trials, promote, windows, origins, first, last, data_version, tmpdir, ratings)
        return _train(spark, features, plan, write_report)
    finally:
        features.unpersist()


@dataclass(frozen=True)
class Plan:
    """One training: its settings (horizons included), trials, windows, backtest origins and data."""

    settings: Settings
    ms: ModelSettings
    trials: int
    promote: bool
    windows: FitWindows
    origins: list[Origin]
    first: dt.date
    last: dt.date
    data_version: int
    tmpdir: str | None
    ratings: DataFrame | None = None  # the agents' ratings (gold), to judge the backtest's alerts as they did


def _train(spark: SparkSession, features: DataFrame, plan: Plan, write_report) -> dict[str, Any]:
    settings, ms, windows, origins = plan.settings, plan.ms, plan.windows, plan.origins
    first, last, horizons, trials = plan.first, plan.last, plan.ms.horizons, plan.trials
    promote, data_version, tmpdir = plan.promote, plan.data_version, plan.tmpdir
    catalogue_text, catalogue_sha = catalogue_version()
    inputs = model_inputs(features.columns, [f.name for f in feature_catalogue()], ms)
    truth = load_truth(spark, settings.paths.truth)
    seed = settings.seed
    started = dt.datetime.now(dt.UTC)
    summary: dict[str, Any] = {
        "engine": ms.engine,
        "data_version": data_version,
        "horizons": {},
        "outcomes_known_until": f"{windows.known:%Y-%m}",
        "backtest_origins": len(origins),
    }
    with mlflow.start_run(run_name=f"train-{ms.engine}-{started:%Y%m%d-%H%M%S}") as run:
        mlflow.log_params(
            {
                "engine": ms.engine,
                "horizons": ",".join(map(str, horizons)),
                "tune_trials": trials,
                "seed": seed,
                "crisis_policy": ms.crisis.policy,
                "crisis_weight": ms.crisis.weight,
                "positive_weight": ms.positive_weight,
                "calibration_firms": ms.splits.calibration_firms,
                "early_stopping": ms.early_stopping.window,
                "early_stopping_tolerance": ms.early_stopping.tolerance,
                "early_stopping_rounds": ms.early_stopping.rounds,
                "min_block_positives": ms.calibration.min_block_positives,
                "backtest_origins": len(origins),
                "backtest_step_months": ms.backtest.step_months,
                "bootstrap_replicates": ms.backtest.bootstrap,
                "features": len(inputs.columns),
                "feature_catalogue_version": catalogue_sha,
                "data_version_gold_features": data_version,
                "outcomes_known_until": f"{windows.known:%Y-%m}",
            }
        )
        mlflow.log_text(catalogue_text, "feature-catalogue.md")
        evaluations: dict[int, BacktestEvaluation] = {}
        judged: dict[int, tuple[pd.DataFrame, pd.DataFrame]] = {}
        if origins:
            say(
                f"train: backtest of the procedure at {len(origins)} origins ({ms.engine}), "
                f"{origins[0].known:%Y-%m} .. {origins[-1].known:%Y-%m}"
            )
            try:
                backtest = run_backtest(features, inputs, origins, ms, seed, truth, say)
            except OneClassError as exc:
                say(f"train: no backtest ({exc})")
            else:
                try:
                    evaluations = {h: evaluate_backtest(backtest, h, ms, seed) for h in horizons}
                    if plan.ratings is not None:
                        judged = {h: agents_judgement(horizon_rows(backtest, h), plan.ratings) for h in horizons}
                finally:
                    backtest.unpersist()
                origins = backtest.origins
                for h in horizons:
                    say(_headline(h, evaluations[h]))
                    if h in judged:
                        say(_agents_line(judged[h][0]))
        if not evaluations:
            why = (
                "models.backtest.origins is 0"
                if not ms.backtest.origins
                else f"no backtest origin fits {first:%Y-%m} .. {windows.known:%Y-%m}"
            )
            say(
                f"train: no backtest ({why}): the procedure is fitted without being measured, and promotion "
                "needs --promote when a champion exists"
            )
        say(f"train: production fit with outcomes known until {windows.known:%Y-%m} ({ms.engine})")
        fitted, disorder = fit_procedure(features, inputs, windows, ms, seed, trials, say)
        results = []
        for h in horizons:
            f = fitted[h]
            staleness = month_number(last) - month_number(f.windows.train[h].last)
            values = {
                **f.calibration,
                **f.rows,
                "fit_seconds": f.fit_seconds,
                "trees_kept": f.trees_kept,
                "staleness_months": staleness,
                **{f"calibration_{k}": v for k, v in disorder.items()},
            }
            if h in evaluations:
                values.update(evaluations[h].evaluation.metrics)
            if h in judged:
                values.update(agents_metrics(judged[h][0]))
            _log_metrics(h, values)
            mlflow.log_params(
                {f"h{h}_{k}": v for k, v in {**f.windows.describe(h), **f.params.model_dump(), **f.thresholds}.items()}
            )
            say(
                f"  h={h}: trained {f.windows.train[h].first:%Y-%m}..{f.windows.train[h].last:%Y-%m} "
                f"({f.trees_kept} trees), calibrated {f.windows.calibration.first:%Y-%m}.."
                f"{f.windows.calibration.last:%Y-%m} on other firms; newest training month {staleness} months "
                f"before {last:%Y-%m}"
            )
            if h in evaluations:
                result = _horizon_result(h, f, evaluations[h], features, ms, seed, staleness, last)
                if h in judged:
                    result = replace(result, agents=judged[h][0], agents_reasons=judged[h][1])
                results.append(result)
        report = None
        if results:
            report_dir = Path(settings.paths.reports)
            header = {
                "run id": run.info.run_id,
                "engine": ms.engine,
                "created": f"{started:%Y-%m-%d %H:%M} UTC",
                "gold/features version": str(data_version),
                "feature catalogue": catalogue_sha,
                "tuning trials": str(trials),
                "outcomes known until": f"{windows.known:%Y-%m}",
                "backtest origins": ", ".join(f"{o.known:%Y-%m}" for o in origins),
            }
            report = write_report(report_dir / f"training-{run.info.run_id}.html", results, header)
            mlflow.log_artifact(str(report), "report")
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "evaluation.json"
                path.write_text(
                    json.dumps(
                        {
                            h: {
                                "metrics": e.evaluation.metrics,
                                "by_origin": e.by_origin.to_dict("records"),
                                "by_year": e.by_year.to_dict("records"),
                            }
                            for h, e in evaluations.items()
                        },
                        indent=2,
                        default=float,
                    )
                )
                mlflow.log_artifact(str(path), "report")
        decisions = {h: _decide(ms, h, evaluations.get(h), promote) for h in horizons}  # registry errors stop here
        versions = {
            h: registry.register(
                fitted[h].model,
                ms,
                h,
                _tags(fitted[h], evaluations.get(h), run.info.run_id, data_version, catalogue_sha, last),
                tmpdir,
            )
            for h in horizons
        }
        for h in horizons:
            chosen, reason = decisions[h]
            if chosen:
                registry.promote(ms, h, versions[h])
            say(f"  {registry.model_name(ms, h)} v{versions[h]}: {'champion' if chosen else 'not promoted'} ({reason})")
            summary["horizons"][h] = {
                "version": versions[h],
                "champion": chosen,
                "reason": reason,
                "thresholds": fitted[h].thresholds,
                "windows": fitted[h].windows.describe(h),
                "fit_seconds": fitted[h].fit_seconds,
                "trees_kept": fitted[h].trees_kept,
                **fitted[h].rows,
                "staleness_months": month_number(last) - month_number(fitted[h].windows.train[h].last),
                "metrics": headline_metrics(evaluations[h].evaluation.metrics) if h in evaluations else {},
            }
        summary.update({"run_id": run.info.run_id, "report": str(report) if report else None})
    if report:
        say(f"train: report {report}")
    return summary


def headline_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """The pooled backtest's model and oracle figures, without the per-group and alert detail."""
    return {k: v for k, v in metrics.items() if k.startswith(("test_", "oracle_", "model_to_oracle_"))}


def _interval(e: BacktestEvaluation, name: str) -> str:
    low, high = e.intervals.get(name, (float("nan"), float("nan")))
    return f"[{low:.3f}, {high:.3f}]"


def _agents_line(table: pd.DataFrame) -> str:
    """The backtest's alerts as the agents judged them, next to the failures, per level."""
    parts = []
    for r in table[table["dimension"] == "all"].itertuples():
        judged = f"{r.agents_precision:.0%} of {r.rated} rated useful" if r.rated else "none rated"
        parts.append(f"{r.alert_level} {r.alerts} alerts: {r.failure_precision:.0%} failed, {judged}")
    return "    agents: " + ("; ".join(parts) if parts else "no alert")


def _headline(h: int, e: BacktestEvaluation) -> str:
    m = e.evaluation.metrics
    line = (
        f"  h={h}: backtest ROC AUC {m['test_roc_auc']:.3f} {_interval(e, 'roc_auc')}, AUCPR {m['test_aucpr']:.3f} "
        f"{_interval(e, 'aucpr')}, sum p / failures {m['test_sum_p_to_failures']:.2f} "
        f"{_interval(e, 'sum_p_to_failures')}, ECE {m['test_ece']:.4f}; red {m['red_alerts']} alerts (precision "
        f"{m['red_precision']:.2f}, recall {m['red_recall']:.2f}), orange {m['orange_alerts']} (precision "
        f"{m['orange_precision']:.2f}, recall {m['orange_recall']:.2f})"
    )
    if "model_to_oracle_aucpr" in m:
        line += (
            f"; model/oracle AUCPR {m['model_to_oracle_aucpr']:.3f} {_interval(e, 'model_to_oracle_aucpr')}, "
            f"oracle - model ROC AUC {m['oracle_minus_model_roc_auc']:.3f}"
        )
    return line


def _tags(
    fitted: FittedHorizon,
    evaluation: BacktestEvaluation | None,
    run_id: str,
    data_version: int,
    catalogue_sha: str,
    last: dt.date,
) -> dict[str, str]:
    h = fitted.horizon
    tags = {
        TAG.RUN_ID: run_id,
        **{TAG.threshold(level): str(value) for level, value in fitted.thresholds.items()},
        TAG.DATA_VERSION: str(data_version),
        TAG.CATALOGUE_VERSION: catalogue_sha,
        **fitted.windows.describe(h),
        TAG.NEWEST_TRAINING_MONTH: f"{fitted.windows.train[h].last:%Y-%m}",
        TAG.LAST_DATA_MONTH: f"{last:%Y-%m}",
        TAG.STALENESS_MONTHS: str(month_number(last) - month_number(fitted.windows.train[h].last)),
        TAG.TREES_KEPT: str(fitted.trees_kept),
    }
    if evaluation is not None:
        table = evaluation.by_origin
        tags.update(
            {
                TAG.BACKTEST_AUCPR: str(evaluation.evaluation.metrics["test_aucpr"]),
                TAG.TEST_AUCPR: str(evaluation.evaluation.metrics["test_aucpr"]),
                TAG.TEST_START: table["test_start"].iloc[0],
                TAG.TEST_END: table["test_end"].iloc[-1],
                TAG.BACKTEST_AUCPR_BY_ORIGIN: json.dumps(
                    dict(zip(table["origin"], map(float, table["aucpr"]), strict=True))
                ),
            }
        )
    return tags


def _decide(settings: ModelSettings, h: int, evaluation: BacktestEvaluation | None, force: bool) -> tuple[bool, str]:
    """Whether the new version becomes champion, and why: forced; no champion yet; or its backtest average
    precision, averaged over the origins it shares with the champion's backtest, is at least the champion's.
    A registry error raises (nothing is promoted by default)."""
    if force:
        return True, "forced (--promote)"
    current = registry.champion_version(settings, h)
    if current is None:
        return True, "no champion yet"
    if evaluation is None:
        return False, f"no backtest to compare with champion v{current}: use --promote"
    tags = MlflowClient().get_model_version(registry.model_name(settings, h), current).tags
    theirs = json.loads(tags.get(TAG.BACKTEST_AUCPR_BY_ORIGIN, "{}"))
    ours = dict(zip(evaluation.by_origin["origin"], evaluation.by_origin["aucpr"], strict=True))
    common = sorted(set(theirs) & set(ours))
    if not common:
        return True, f"champion v{current} shares no backtest origin with this training: the fresher fit wins"
    new, old = (sum(float(d[o]) for o in common) / len(common) for d in (ours, theirs))
    return new >= old, (
        f"backtest AUCPR {new:.4f} vs champion v{current} {old:.4f} over {len(common)} shared "
        f"origins {common[0]}..{common[-1]}"
    )


def _horizon_result(
    h: int,
    fitted: FittedHorizon,
    backtest: BacktestEvaluation,
    features: DataFrame,
    settings: ModelSettings,
    seed: int,
    staleness: int,
    last: dt.date,
):
    from sf_spark.models.report import HorizonResult

    topics = feature_topics()
    weights = importance(fitted.model)
    table = [{"feature": k, "topic": topics.get(k, "identity"), "importance": v} for k, v in weights.items()]
    unseen = calibration_rows(features, h, fitted.windows, settings, seed)  # rows the production model never learnt
    shap_summary, shap_points = contribution_summary(fitted.model, unseen, settings.explain_sample_rows, seed)
    e = backtest.evaluation
    windows = {
        "backtest_start": backtest.by_origin["test_start"].iloc[0],
        "backtest_end": backtest.by_origin["test_end"].iloc[-1],
        **fitted.windows.describe(h),
        "staleness": f"{staleness} months (newest training month to {last:%Y-%m})",
    }
    return HorizonResult(
        horizon=h,
        windows=windows,
        metrics=e.metrics,
        thresholds=fitted.thresholds,
        test_histogram=e.test_histogram,
        oracle_histogram=e.oracle_histogram,
        raw_histogram=e.raw_histogram,
        alerts_by_month=e.alerts_by_month,
        by_group=e.by_group,
        importance=pd.DataFrame(table).sort_values("importance", ascending=False, ignore_index=True),
        shap_summary=shap_summary,
        shap_points=shap_points,
        backtest=backtest.by_origin,
        calibration_by_year=backtest.by_year,
        intervals=backtest.intervals,
    )
