"""Fitting one horizon on a synthetic panel: weights, calibration, thresholds from calibration only,
monotone horizons, both engines."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from chispa import assert_approx_df_equality, assert_df_equality
from pyspark.ml.regression import IsotonicRegression
from pyspark.sql import functions as F

from sf_spark.models.engine import SCORE, VALIDATION, WEIGHT, predict, trees_kept
from sf_spark.models.metrics import best_threshold, expected_calibration_error, histogram_of, score_histogram
from sf_spark.models.settings import EarlyStoppingSettings, ModelSettings
from sf_spark.models.splits import choose_splits
from sf_spark.models.training import calibrate, fit_horizon, in_window, labelled, with_validation, with_weights

from .conftest import INPUTS

FIRST, LAST = dt.date(2015, 1, 1), dt.date(2018, 6, 1)


def _splits(settings: ModelSettings):
    return choose_splits(12, FIRST, LAST, settings.splits)


def test_balanced_weights_and_crisis_policies(spark):
    rows = spark.createDataFrame(
        [("1", dt.date(2019, 1, 1), 1.0), ("2", dt.date(2019, 1, 1), 0.0), ("3", dt.date(2020, 4, 1), 0.0),
         ("4", dt.date(2020, 5, 1), 0.0)],
        "siren string, periode date, label double",
    )  # fmt: skip
    weighted, counts = with_weights(rows, ModelSettings(crisis={"policy": "weight", "weight": 0.25},
                                                        positive_weight="balanced"))  # fmt: skip
    assert counts == {"rows": 4, "positives": 1, "positive_weight": 3.0, "base_rate": 0.5}  # 3 x 1 / (3 x 1 + 3)
    assert [r.weight for r in weighted.orderBy("siren").collect()] == [3.0, 1.0, 0.25, 0.25]
    excluded, counts = with_weights(rows, ModelSettings(crisis={"policy": "exclude"}))
    assert counts["rows"] == 2 and sorted(r.siren for r in excluded.collect()) == ["1", "2"]
    kept, _ = with_weights(rows, ModelSettings(crisis={"policy": "keep"}, positive_weight=2.0))
    assert [r.weight for r in kept.orderBy("siren").collect()] == [2.0, 1.0, 1.0, 1.0]
    _, counts = with_weights(rows, ModelSettings(positive_weight="sqrt_balanced"))
    assert counts["positive_weight"] == pytest.approx(3.0**0.5)


def _mis_scaled(spark, rows: int, seed: int):
    """Labels drawn from true probabilities p, scored sqrt(p): the right ranking, probabilities far too high."""
    rng = np.random.default_rng(seed)
    p = rng.beta(0.5, 12, rows)
    y = (rng.random(rows) < p).astype(float)
    mis_scaled = np.sqrt(p)
    df = spark.createDataFrame(
        [(float(s), float(label)) for s, label in zip(mis_scaled, y, strict=True)], f"{SCORE} double, label double"
    )
    return mis_scaled, y, df


def test_isotonic_calibration_fixes_a_mis_scaled_score(spark):
    mis_scaled, y, df = _mis_scaled(spark, 40_000, seed=5)
    fit_part, check_part = df.randomSplit([0.5, 0.5], seed=3)
    before = expected_calibration_error(histogram_of(mis_scaled, y))
    calibrated = calibrate(fit_part).transform(check_part)
    after = expected_calibration_error(score_histogram(calibrated, "probability", "label"))
    assert before > 0.1
    assert after < 0.01


def test_calibration_centres_each_block_and_interpolates_between_centres(spark):
    # pooled blocks: {0.1} rate 0, {0.2, 0.3} rate 1/2 centred at 0.25, {0.4} rate 1
    fit_rows = spark.createDataFrame([(0.1, 0.0), (0.2, 1.0), (0.3, 0.0), (0.4, 1.0)], f"{SCORE} double, label double")
    model = calibrate(fit_rows)
    assert list(model.boundaries) == pytest.approx([0.1, 0.25, 0.4])
    assert list(model.predictions) == [0.0, 0.5, 1.0]
    checked = spark.createDataFrame([(0.05,), (0.1,), (0.2,), (0.25,), (0.3,), (0.4,), (0.9,)], f"{SCORE} double")
    expected = spark.createDataFrame(
        [(0.05, 0.0), (0.1, 0.0), (0.2, 1 / 3), (0.25, 0.5), (0.3, 2 / 3), (0.4, 1.0), (0.9, 1.0)],
        f"{SCORE} double, probability double",
    )  # fmt: skip
    # rebuilt without the column metadata Spark ML attaches
    calibrated = spark.createDataFrame(model.transform(checked).collect(), f"{SCORE} double, probability double")
    assert_approx_df_equality(calibrated, expected, precision=1e-12)


def test_calibration_keeps_the_ranking_that_plain_isotonic_ties(spark):
    _, _, df = _mis_scaled(spark, 20_000, seed=11)
    fit_part, check_part = df.randomSplit([0.5, 0.5], seed=3)
    model = calibrate(fit_part)
    centres = list(model.boundaries)
    inside = check_part.where(F.col(SCORE).between(centres[0], centres[-1]))
    out = model.transform(inside).agg(F.countDistinct(SCORE).alias("scores"),
                                      F.countDistinct("probability").alias("probabilities")).first()  # fmt: skip
    assert out["probabilities"] == out["scores"] > 5_000
    plain = IsotonicRegression(featuresCol=SCORE, labelCol="label", predictionCol="probability").fit(fit_part)
    assert plain.transform(inside).select("probability").distinct().count() < out["scores"] / 50


def test_thresholds_come_from_the_calibration_window_only(spark, panel, model_settings):
    splits = _splits(model_settings)
    fitted = fit_horizon(panel, INPUTS, splits, model_settings, seed=1, trials=0)
    calibration_rows = in_window(labelled(panel, 12), splits.calibration)
    probability = fitted.model.transform(calibration_rows)
    hist = score_histogram(probability, "probability", "label")
    assert fitted.thresholds == {
        "red": best_threshold(hist, model_settings.red_beta)["threshold"],
        "orange": best_threshold(hist, model_settings.orange_beta)["threshold"],
    }
    # flipping every label of the test window changes nothing that was fitted or chosen
    in_test = F.col("periode").between(F.lit(splits.test.first), F.lit(splits.test.last))
    altered = panel.withColumn("failure_12", F.when(in_test, 1 - F.col("failure_12")).otherwise(F.col("failure_12")))
    refitted = fit_horizon(altered, INPUTS, splits, model_settings, seed=1, trials=0)
    assert refitted.thresholds == fitted.thresholds
    assert refitted.calibration == fitted.calibration


@pytest.mark.parametrize("engine", ["gbt", "xgboost"])
def test_both_engines_learn_the_synthetic_signal(spark, panel, model_settings, engine):
    settings = model_settings.model_copy(update={"engine": engine})
    fitted = fit_horizon(panel, INPUTS, _splits(settings), settings, seed=1, trials=0)
    assert fitted.calibration["calibration_roc_auc"] > 0.75
    assert fitted.thresholds["red"] >= fitted.thresholds["orange"]
    test = in_window(labelled(panel, 12), fitted.splits.test)
    out = fitted.model.transform(test)
    assert {"model_score", "probability", "alert_level"} <= set(out.columns)
    assert out.where(F.col("probability").isNull()).count() == 0


def test_predict_makes_horizons_monotone(spark, panel, model_settings):
    fitted = fit_horizon(panel, INPUTS, _splits(model_settings), model_settings, seed=1, trials=0)
    other = fit_horizon(panel, INPUTS, _splits(model_settings),
                        model_settings.model_copy(update={"params": model_settings.params.model_copy(
                            update={"trees": 3})}), seed=2, trials=0)  # fmt: skip
    # the same label used as two "horizons": their raw probabilities cross on some rows
    scored = predict({12: fitted.model, 18: other.model}, panel)
    raw = predict({12: fitted.model}, panel).select("siren", "periode", F.col("probability_12").alias("raw_12"))
    rows = scored.join(raw, ["siren", "periode"])
    assert rows.where("probability_12 > probability_18").count() == 0
    assert rows.where("probability_12 != raw_12").count() == 0  # the shortest horizon is left as it is
    assert {"alert_level_12", "alert_level_18", "model_score_12"} <= set(scored.columns)
    assert not [c for c in scored.columns if c.startswith("_m_")]


def test_tuning_keeps_the_best_trial(spark, panel, model_settings):
    settings = model_settings.model_copy(update={"tune": model_settings.tune.model_copy(
        update={"trees": (5, 20), "max_depth": (2, 3)})})  # fmt: skip
    fitted = fit_horizon(panel, INPUTS, _splits(settings), settings, seed=1, trials=3)
    assert len(fitted.trials) == 3
    best = max(fitted.trials, key=lambda t: t["objective"])
    assert fitted.params.max_depth == best["max_depth"] and fitted.params.trees == best["trees"]


def test_early_stopping_scores_calibration_rows_without_learning_them(spark):
    train = spark.createDataFrame([("1", 1.0, 2.0), ("2", 0.0, 1.0)], f"siren string, label double, {WEIGHT} double")
    calibration = spark.createDataFrame([("3", 1.0), ("4", 0.0)], "siren string, label double")
    expected = spark.createDataFrame(
        [("1", 1.0, 2.0, False), ("2", 0.0, 1.0, False), ("3", 1.0, 2.0, True), ("4", 0.0, 1.0, True)],
        f"siren string, label double, {WEIGHT} double, {VALIDATION} boolean",
    )
    learn = with_validation(train, calibration, EarlyStoppingSettings(), positive_weight=2.0)
    assert_df_equality(learn, expected, ignore_nullable=True, ignore_row_order=True)
    assert_df_equality(with_validation(train, calibration, EarlyStoppingSettings(window="none"), 2.0), train)


@pytest.mark.parametrize("engine", ["gbt", "xgboost"])
def test_early_stopping_keeps_the_trees_the_calibration_window_vouches_for(spark, panel, model_settings, engine):
    """Training labels made pure noise: every tree after the first few only fits noise, the calibration
    window's loss stops falling and the model keeps few trees; without early stopping it keeps them all."""
    settings = model_settings.model_copy(update={
        "engine": engine, "early_stopping": EarlyStoppingSettings(rounds=3),
        "params": model_settings.params.model_copy(update={"trees": 30, "max_depth": 4, "learning_rate": 0.3}),
    })  # fmt: skip
    splits = _splits(settings)
    noisy = panel.withColumn("failure_12", F.when(
        F.col("periode") <= F.lit(splits.train.last), (F.rand(seed=3) < 0.1).cast("int")
    ).otherwise(F.col("failure_12")))  # fmt: skip
    stopped = fit_horizon(noisy, INPUTS, splits, settings, seed=1, trials=0)
    assert 1 <= stopped.trees_kept <= 10
    assert trees_kept(stopped.model) == stopped.trees_kept
    grown = settings.model_copy(update={"early_stopping": EarlyStoppingSettings(window="none")})
    assert fit_horizon(noisy, INPUTS, splits, grown, seed=1, trials=0).trees_kept == 30
