"""Rolling-origin backtests of the training procedure, and their evaluation with firm-clustered intervals.

At each origin (`splits.backtest_origins`) the procedure (`fitting.fit_procedure`) is fitted on what was
known then, and every firm's months after the origin are scored as `score` would have published them:
calibrated, monotone across horizons, alert levels from that origin's thresholds. The pooled rows of all
origins measure the procedure; per-origin figures show how it varies in time. Intervals resample firms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sf_spark.models import bootstrap
from sf_spark.models.engine import ALERT, PROBABILITY, SCORE, alert_stage, calibrated, horizon_disorder
from sf_spark.models.engine import monotone_horizons as monotone
from sf_spark.models.evaluation import Evaluation, evaluate
from sf_spark.models.fitting import FittedHorizon, fit_procedure
from sf_spark.models.metrics import average_precision, histogram, roc_auc
from sf_spark.models.rows import OneClassError, evaluation_rows

if TYPE_CHECKING:
    from sf_spark.models.engine import ModelInputs
    from sf_spark.models.settings import ModelSettings
    from sf_spark.models.splits import Origin

ORIGIN = "origin"


@dataclass
class Backtest:
    """The pooled backtest rows (persisted; `unpersist` when done) and each origin's fitted horizons."""

    origins: list[Origin]
    scored: DataFrame
    fits: dict[str, dict[int, FittedHorizon]]
    horizons: list[int]

    def unpersist(self) -> None:
        self.scored.unpersist()


def published(models: dict[int, Any], rows: DataFrame, horizons: list[int]) -> DataFrame:
    """`rows` scored as `score` publishes them, with `_disordered` / `_disorder` measured before the
    horizons are made monotone."""
    bad, size = horizon_disorder(horizons)
    out = calibrated(models, rows).withColumns({"_disordered": bad, "_disorder": size})
    out = out.withColumns(monotone(horizons))
    return out.withColumns({f"{ALERT}_{h}": alert_stage(m).level(f"{PROBABILITY}_{h}") for h, m in models.items()})


def run_backtest(
    features: DataFrame,
    inputs: ModelInputs,
    origins: list[Origin],
    settings: ModelSettings,
    seed: int,
    truth: DataFrame | None = None,
    say=lambda _: None,
) -> Backtest:
    """Fit the procedure at every origin and score the months after it; the rows of all origins pooled. An
    origin whose training window has no failure (or nothing else) is left out, and says so."""
    horizons = sorted(settings.horizons if not origins else origins[0].windows.train)
    longest = horizons[-1]
    parts, fits, kept = [], {}, []
    for i, origin in enumerate(origins, 1):
        key = f"{origin.known:%Y-%m}"
        say(
            f"  backtest origin {i}/{len(origins)}: outcomes known until {key}, scoring "
            f"{origin.test.first:%Y-%m}..{origin.test.last:%Y-%m}"
        )
        try:
            fitted, _ = fit_procedure(features, inputs, origin.windows, settings, seed)
        except OneClassError as exc:
            say(f"  backtest origin {key} left out: {exc}")
            continue
        fits[key] = fitted
        kept.append(origin)
        rows = evaluation_rows(features, longest, origin.test)  # labelled at the longest horizon: at every one
        scored = (
            published({h: f.model for h, f in fitted.items()}, rows, horizons)
            .select(
                F.lit(key).alias(ORIGIN),
                "siren",
                "periode",
                "region",
                "naf_section",
                *[F.col(f"failure_{h}") for h in horizons],
                *[F.col(f"{c}_{h}") for h in horizons for c in (PROBABILITY, SCORE, ALERT)],
                "_disordered",
                "_disorder",
            )
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        scored.count()
        parts.append(scored)
    if not parts:
        raise OneClassError("no backtest origin has failing and other rows to learn from")
    pooled = parts[0]
    for part in parts[1:]:
        pooled = pooled.unionByName(part)
    if truth is not None:
        oracle = truth.select("siren", "periode", *[F.col(f"p_{h}").alias(f"oracle_{h}") for h in horizons])
        pooled = pooled.join(oracle, ["siren", "periode"], "left")
    pooled = pooled.persist(StorageLevel.MEMORY_AND_DISK)
    pooled.count()
    for part in parts:
        part.unpersist()
    return Backtest(kept, pooled, fits, horizons)


def horizon_rows(backtest: Backtest, horizon: int) -> DataFrame:
    """The pooled rows of one horizon under the evaluation's generic names (label, probability, model_score,
    alert_level, oracle)."""
    has_oracle = f"oracle_{horizon}" in backtest.scored.columns
    return backtest.scored.select(
        ORIGIN,
        "siren",
        "periode",
        "region",
        "naf_section",
        F.col(f"failure_{horizon}").cast("double").alias("label"),
        F.col(f"{PROBABILITY}_{horizon}").alias("probability"),
        F.col(f"{SCORE}_{horizon}").alias("model_score"),
        F.col(f"{ALERT}_{horizon}").alias("alert_level"),
        "_disordered",
        "_disorder",
        *([F.col(f"oracle_{horizon}").alias("oracle")] if has_oracle else []),
    )


def _statistics(has_oracle: bool) -> dict[str, bootstrap.Statistic]:
    model = "probability"
    stats: dict[str, bootstrap.Statistic] = {
        "aucpr": lambda h: average_precision(h[model]),
        "roc_auc": lambda h: roc_auc(h[model]),
        "sum_p_to_failures": lambda h: (
            float(h[model]["p_sum"].sum() / h[model]["positives"].sum()) if h[model]["positives"].sum() else math.nan
        ),
    }
    if has_oracle:
        stats["model_to_oracle_aucpr"] = lambda h: _ratio(average_precision(h[model]), average_precision(h["oracle"]))
        stats["oracle_minus_model_roc_auc"] = lambda h: roc_auc(h["oracle"]) - roc_auc(h[model])
    return stats


def _ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(b) else math.nan


@dataclass(frozen=True)
class BacktestEvaluation:
    """One horizon's pooled backtest evaluation, its intervals, the per-origin and per-year tables."""

    evaluation: Evaluation
    intervals: dict[str, tuple[float, float]]
    by_origin: pd.DataFrame
    by_year: pd.DataFrame


def evaluate_backtest(backtest: Backtest, horizon: int, settings: ModelSettings, seed: int) -> BacktestEvaluation:
    """Pooled metrics of one horizon (`evaluate`, named `test_*` for MLflow), firm-clustered intervals of
    average precision, ROC AUC, sum p / failures and the oracle ratios, per origin and pooled, the disorder
    between horizons before the monotone fix, and sum p / failures per calendar year."""
    rows = horizon_rows(backtest, horizon).where(F.col("label").isNotNull())
    has_oracle = "oracle" in rows.columns
    betas = {"red": settings.red_beta, "orange": settings.orange_beta}
    # the oracle is compared on the rows it covers (the truth may miss a firm's last months)
    compared = rows.where(F.col("oracle").isNotNull()) if has_oracle else rows
    evaluation = evaluate(rows, betas, "oracle" if has_oracle else None)
    metrics = evaluation.metrics
    disorder = rows.agg(
        F.avg(F.col("_disordered").cast("double")).alias("share"),
        F.max("_disorder").alias("max"),
        F.avg(F.when(F.col("_disordered"), F.col("_disorder"))).alias("mean"),
    ).first()
    published_checks = backtest.scored.agg(
        F.sum(horizon_disorder(backtest.horizons)[0].cast("int")).alias("unordered"),  # after the fix: must be 0
        F.sum(((F.col(f"{PROBABILITY}_{horizon}") <= 0) | (F.col(f"{PROBABILITY}_{horizon}") >= 1)).cast("int")).alias(
            "extremes"
        ),
    ).first()
    metrics.update(
        {
            "disorder_share": float(disorder["share"] or 0.0),
            "disorder_max": float(disorder["max"] or 0.0),
            "disorder_mean_size": float(disorder["mean"] or 0.0),
            "monotone_violations": int(published_checks["unordered"] or 0),
            "probabilities_0_or_1": int(published_checks["extremes"] or 0),
        }
    )
    columns = ["probability", *(["oracle"] if has_oracle else [])]
    replicates, level = settings.backtest.bootstrap, settings.backtest.confidence
    stats = _statistics(has_oracle)
    exact = _exact(compared, has_oracle)
    hists = (
        bootstrap.replicate_histograms(compared, columns, "label", replicates, seed, by=[ORIGIN])
        if replicates
        else None
    )
    found = {}
    if hists is not None:
        pooled = hists.groupby(["column", "replicate", "score"], as_index=False)[["rows", "positives", "p_sum"]].sum()
        found = bootstrap.intervals(pooled, stats, exact["pooled"], level)
    table = []
    for origin in backtest.origins:
        key = f"{origin.known:%Y-%m}"
        ci = bootstrap.intervals(hists[hists[ORIGIN] == key], stats, exact[key], level) if hists is not None else {}
        fitted = backtest.fits[key][horizon]
        table.append(
            {
                "origin": key,
                "test_start": f"{origin.test.first:%Y-%m}",
                "test_end": f"{origin.test.last:%Y-%m}",
                "newest_training_month": f"{fitted.windows.train[horizon].last:%Y-%m}",
                "trees_kept": fitted.trees_kept,
                **exact[key],
                **{f"{k}_low": v[0] for k, v in ci.items()},
                **{f"{k}_high": v[1] for k, v in ci.items()},
            }
        )
    by_year = (
        rows.groupBy(F.year("periode").alias("year"))
        .agg(
            F.count(F.lit(1)).alias("rows"),
            F.sum("label").alias("positives"),
            F.sum("probability").alias("p_sum"),
            *([F.sum("oracle").alias("oracle_p_sum")] if has_oracle else []),
        )
        .orderBy("year")
        .toPandas()
    )
    by_year["sum_p_to_failures"] = by_year["p_sum"] / by_year["positives"].where(by_year["positives"] > 0)
    metrics.update({f"test_{k}_low": v[0] for k, v in found.items()})
    metrics.update({f"test_{k}_high": v[1] for k, v in found.items()})
    metrics.update(
        {
            "backtest_origins": len(backtest.origins),
            "test_min_year_sum_p_to_failures": float(by_year["sum_p_to_failures"].min()),
            "test_max_year_sum_p_to_failures": float(by_year["sum_p_to_failures"].max()),
        }
    )
    return BacktestEvaluation(evaluation, found, pd.DataFrame(table), by_year)


def _exact(rows: DataFrame, has_oracle: bool) -> dict[str, dict[str, float]]:
    """The statistics of `_statistics` on exact histograms (scores to 7 decimals), per origin and pooled."""
    columns = ["probability", *(["oracle"] if has_oracle else [])]
    frames = []
    for column in columns:
        frames.append(
            rows.groupBy(ORIGIN, F.round(F.col(column), 7).alias("score"))
            .agg(
                F.count(F.lit(1)).alias("rows"),
                F.sum(F.col("label").cast("long")).alias("positives"),
                F.sum(column).alias("p_sum"),
            )
            .withColumn("column", F.lit(column))
            .toPandas()
        )
    counts = pd.concat(frames, ignore_index=True)
    stats = _statistics(has_oracle)

    def figures(part: pd.DataFrame) -> dict[str, float]:
        hists = {}
        for column, h in part.groupby("column"):
            merged = h.groupby("score", as_index=False)[["rows", "positives", "p_sum"]].sum()
            hists[column] = histogram(merged).merge(merged[["score", "p_sum"]], on="score")
        return {name: statistic(hists) for name, statistic in stats.items()} | {
            "rows": int(hists["probability"]["rows"].sum()),
            "positives": int(hists["probability"]["positives"].sum()),
        }

    out = {"pooled": figures(counts)}
    for key, part in counts.groupby(ORIGIN):
        out[key] = figures(part)
    return out
