"""The champion models registered in MLflow: their versions, thresholds and windows, and their evaluation.

`evaluate_champions` scores a window of `gold/features` with every horizon's champion (probabilities made
monotone across horizons, as in scoring) and computes the training step's own figures on it
(`sf_spark.models.evaluation.evaluate`), with the classifier's importance and a sample's contributions. By
default it reads the months after the champion's training whose outcomes are now known (how the champion
does in production), or, while there are none, the calibration rows it never learnt from, where it gives
back the calibration figures logged when it was trained. Only aggregates reach the driver. `explain_firm`
scores and explains one firm-month with today's champions, whatever its alert level.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import mlflow
import pandas as pd
from mlflow import MlflowClient
from pyspark import StorageLevel
from pyspark.sql import functions as F

from sf_spark.explain import BIAS, LOG_ODDS
from sf_spark.explore.firms import plain
from sf_spark.features import feature_topics
from sf_spark.lake import tables
from sf_spark.models import tags as TAG
from sf_spark.models.engine import LABEL, PROBABILITY, SCORE, alert_stage, predict
from sf_spark.models.evaluation import Evaluation, evaluate
from sf_spark.models.importance import contribution_summary, importance
from sf_spark.models.registry import NoChampionError, champion_version, load_champions, model_name, model_tmpdir
from sf_spark.models.rows import accounting_for_help, calibration_firm, evaluation_rows, in_window, labelled
from sf_spark.models.run import load_truth
from sf_spark.models.splits import Window
from sf_spark.months import add_months, parse_month
from sf_spark.scoring.explanations import TOP_FEATURES, TOPIC_CONTRIBUTIONS, explained

if TYPE_CHECKING:
    from pyspark.ml import PipelineModel
    from pyspark.sql import SparkSession

    from sf_spark.config import Settings
    from sf_spark.lake import Lake

FEATURES = tables.FEATURES
WINDOW_TAGS = TAG.WINDOWS


@dataclass(frozen=True)
class ChampionEvaluation:
    """One horizon's champion on one window: the evaluation's figures, the classifier's importance per feature
    (feature, topic, importance; sums to 1), and, over a sample of the window's rows, the mean absolute
    contribution per feature (log-odds) and the points of a beeswarm (`contribution_summary`)."""

    horizon: int
    model_version: str
    window: Window
    rows: str
    thresholds: dict[str, float]
    evaluation: Evaluation
    importance: pd.DataFrame
    contributions: pd.DataFrame | None
    contribution_points: pd.DataFrame | None


def champion_table(settings: Settings, horizons: list[int] | None = None) -> pd.DataFrame:
    """One row per horizon (of `horizons`, default `models.horizons`) that has a champion: horizon,
    `model_version` (`<registered model>/<version>`, as in `gold/scores`), the red and orange thresholds and
    the windows (YYYY-MM) it was trained and calibrated on, the last month of outcomes it knew and the months
    its procedure was backtested on (`test_start`, `test_end`), from the registry's version tags."""
    mlflow.set_tracking_uri(settings.tracking.tracking_uri)
    rows = []
    for h in sorted(horizons or settings.models.horizons):
        version = champion_version(settings.models, h)
        if version is None:
            continue
        tags = MlflowClient().get_model_version(model_name(settings.models, h), version).tags
        rows.append(
            {
                "horizon": h,
                "model_version": f"{model_name(settings.models, h)}/{version}",
                "red": float(tags[TAG.threshold("red")]),
                "orange": float(tags[TAG.threshold("orange")]),
                **{k: tags.get(k) for k in WINDOW_TAGS},
            }
        )
    return pd.DataFrame(rows, columns=["horizon", "model_version", "red", "orange", *WINDOW_TAGS])


def _champions(lake: Lake, settings: Settings, horizons: list[int]) -> dict[int, PipelineModel]:
    tmpdir = model_tmpdir(lake.spark, settings.tracking, lake.root)
    return {h: model for h, (_, model) in load_champions(settings.models, horizons, tmpdir).items()}


def evaluate_champions(
    spark: SparkSession,
    lake: Lake,
    settings: Settings,
    horizons: list[int] | None = None,
    window: tuple[str, str] | None = None,
    sample_rows: int | None = None,
) -> dict[int, ChampionEvaluation]:
    """Evaluate every champion (of `horizons`, default all that have one) on labelled rows outside proceedings.

    `window` is (first, last) month as YYYY-MM, both included, every firm's rows. By default, the months after
    the champion's `outcomes_known_until` whose outcomes are known now (`rows` 'after training'), or while
    there are none its calibration rows (`rows` 'calibration': firms it never learnt, the window its
    thresholds were chosen on). With the generator's truth at `paths.truth`, the true probabilities are
    compared too. `sample_rows` (default `models.explain_sample_rows`) rows are explained for the contributions.
    """
    ms = settings.models
    table = champion_table(settings, horizons)
    if table.empty:
        raise NoChampionError(
            f"no '{ms.champion_alias}' model for horizons {horizons or ms.horizons}: run `sf-spark train`"
        )
    models = _champions(lake, settings, table["horizon"].tolist())
    features = lake.read(FEATURES)
    truth = load_truth(spark, settings.paths.truth)
    topics = feature_topics()
    betas = {"red": ms.red_beta, "orange": ms.orange_beta}
    out = {}
    for champion in table.itertuples():
        h = champion.horizon
        if window:
            span, kind = Window(parse_month(window[0]), parse_month(window[1])), "window"
            rows = evaluation_rows(features, h, span)
        else:
            after = add_months(parse_month(champion.outcomes_known_until), 1)
            last = labelled(features, h).agg(F.max("periode")).first()[0]
            span, kind = Window(after, last or after), "after training"
            rows = evaluation_rows(features, h, span)
            if last is None or last < after:
                span = Window(parse_month(champion.calibration_start), parse_month(champion.calibration_end))
                kind = "calibration"
                rows = in_window(labelled(features, h), span).where(
                    calibration_firm(ms.splits.calibration_firms, settings.seed)
                )
                rows = accounting_for_help(rows, h, ms)  # the calibration rows as the training selected them
        scored = predict(models, rows).select(
            "siren",
            "periode",
            LABEL,
            "region",
            "naf_section",
            F.col(f"{PROBABILITY}_{h}").alias(PROBABILITY),
            F.col(f"{SCORE}_{h}").alias(SCORE),
            F.col(f"alert_level_{h}").alias("alert_level"),
        )
        if truth is not None:
            scored = scored.join(
                truth.select("siren", "periode", F.col(f"p_{h}").alias("oracle")), ["siren", "periode"], "left"
            )
        scored = scored.persist(StorageLevel.MEMORY_AND_DISK)
        thresholds = alert_stage(models[h]).thresholds()
        evaluation = evaluate(scored, betas, "oracle" if truth is not None else None)
        scored.unpersist()
        weights = pd.DataFrame(
            [
                {"feature": k, "topic": topics.get(k, "identity"), "importance": v}
                for k, v in importance(models[h]).items()
            ]
        )
        summary, points = contribution_summary(
            models[h], rows, ms.explain_sample_rows if sample_rows is None else sample_rows, settings.seed
        )
        out[h] = ChampionEvaluation(
            h,
            champion.model_version,
            span,
            kind,
            thresholds,
            evaluation,
            weights.sort_values("importance", ascending=False, ignore_index=True),
            summary,
            points,
        )
    return out


def explain_firm(
    lake: Lake, settings: Settings, siren: str, month: dt.date, horizons: list[int] | None = None
) -> pd.DataFrame:
    """One firm-month of `gold/features` scored and explained by today's champions, one row per horizon:
    horizon, model_version, probability (calibrated, monotone across horizons), alert_level, `log_odds`,
    `contribution_bias`, `top_features` (`scoring.top_features` of them) and `topic_contributions`, as for an
    alerted row of `gold/scores`; also `in_proceedings` (such a month is listed apart, not scored, by the
    pipeline). ValueError when the firm has no row that month (out of scope)."""
    table = champion_table(settings, horizons)
    if table.empty:
        raise NoChampionError(f"no '{settings.models.champion_alias}' model: run `sf-spark train`")
    models = _champions(lake, settings, table["horizon"].tolist())
    row = lake.read(FEATURES).where((F.col("siren") == F.lit(siren)) & (F.col("periode") == F.lit(month)))
    row = row.persist(StorageLevel.MEMORY_AND_DISK)
    scored = predict(models, row).first()
    if scored is None:
        row.unpersist()
        raise ValueError(f"siren {siren} has no row of gold/features in {month:%Y-%m} (not in scope that month)")
    topics = feature_topics()
    out = []
    for champion in table.itertuples():
        h = champion.horizon
        why = explained(models[h], row, topics, settings.scoring.top_features).first()
        out.append(
            {
                "horizon": h,
                "model_version": champion.model_version,
                "probability": scored[f"{PROBABILITY}_{h}"],
                "alert_level": scored[f"alert_level_{h}"],
                LOG_ODDS: why[LOG_ODDS],
                BIAS: why[BIAS],
                TOP_FEATURES: plain(why[TOP_FEATURES]),
                TOPIC_CONTRIBUTIONS: dict(why[TOPIC_CONTRIBUTIONS]),
                "in_proceedings": scored["in_proceedings"],
            }
        )
    row.unpersist()
    return pd.DataFrame(out)
