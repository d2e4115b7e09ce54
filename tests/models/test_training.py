"""The training procedure on a synthetic panel: rows and weights, calibration, thresholds on published
probabilities, what a fit at a date may read, monotone horizons, early stopping, both engines."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from chispa import assert_approx_df_equality, assert_df_equality
from pyspark.ml.regression import IsotonicRegression
from pyspark.sql import functions as F

from sf_spark.models.calibration import calibrate, pooled_blocks
from sf_spark.models.engine import SCORE, VALIDATION, WEIGHT, horizon_disorder, predict, trees_kept
from sf_spark.models.fitting import fit_procedure, with_validation
from sf_spark.models.metrics import best_threshold, expected_calibration_error, histogram_of, score_histogram
from sf_spark.models.rows import calibration_rows, evaluation_rows, training_rows, with_weights
from sf_spark.models.settings import EarlyStoppingSettings, ModelSettings
from sf_spark.models.splits import Window, fit_windows

from .conftest import INPUTS

FIRST, KNOWN = dt.date(2015, 1, 1), dt.date(2017, 12, 1)  # the synthetic panel runs to 2018-06


def _windows(settings: ModelSettings, known: dt.date = KNOWN):
    return fit_windows(settings.horizons, FIRST, known, settings.splits)


def _fit(panel, settings: ModelSettings, known: dt.date = KNOWN, trials: int = 0):
    fitted, _ = fit_procedure(panel, INPUTS, _windows(settings, known), settings, seed=1, trials=trials)
    return fitted[12]


def test_balanced_weights_and_crisis_policies(spark):
    rows = spark.createDataFrame(
        [
            ("1", dt.date(2019, 1, 1), 1.0),
            ("2", dt.date(2019, 1, 1), 0.0),
            ("3", dt.date(2020, 4, 1), 0.0),
            ("4", dt.date(2020, 5, 1), 0.0),
        ],
        "siren string, periode date, label double",
    )
    weighted, counts = with_weights(
        rows, ModelSettings(crisis={"policy": "weight", "weight": 0.25}, positive_weight="balanced")
    )
    assert counts == {"rows": 4, "positives": 1, "positive_weight": 3.0, "base_rate": 0.5}  # 3 x 1 / (3 x 1 + 3)
    assert [r.weight for r in weighted.orderBy("siren").collect()] == [3.0, 1.0, 0.25, 0.25]
    kept, _ = with_weights(rows, ModelSettings(crisis={"policy": "keep"}, positive_weight=2.0))
    assert [r.weight for r in kept.orderBy("siren").collect()] == [2.0, 1.0, 1.0, 1.0]
    _, counts = with_weights(rows, ModelSettings(positive_weight="sqrt_balanced"))
    assert counts["positive_weight"] == pytest.approx(3.0**0.5)


def test_training_and_calibration_rows_are_other_firms_and_known_labels(spark, panel, model_settings):
    windows = _windows(model_settings)
    train = training_rows(panel, 12, windows, model_settings, seed=1)
    calibration = calibration_rows(panel, 12, windows, model_settings, seed=1)
    assert train.select("siren").intersect(calibration.select("siren")).count() == 0
    firms = panel.select("siren").distinct().count()
    assert 0.2 < calibration.select("siren").distinct().count() / firms < 0.4  # calibration_firms = 0.3
    span = train.agg(F.min("periode"), F.max("periode")).first()
    assert (span[0], span[1]) == (FIRST, dt.date(2016, 12, 1))  # label window ends by KNOWN
    span = calibration.agg(F.min("periode"), F.max("periode")).first()
    assert (span[0], span[1]) == (dt.date(2016, 7, 1), dt.date(2016, 12, 1))
    excluded = model_settings.model_copy(
        update={
            "crisis": model_settings.crisis.model_copy(
                update={"policy": "exclude", "start": "2016-01", "end": "2016-03"}
            )
        }
    )
    months = {r.periode for r in training_rows(panel, 12, windows, excluded, 1).select("periode").distinct().collect()}
    assert not months & {dt.date(2016, m, 1) for m in (1, 2, 3)} and dt.date(2016, 4, 1) in months


def test_a_fit_at_a_date_reads_no_label_unknown_then(spark, panel, model_settings):
    fitted = _fit(panel, model_settings)
    # flipping every label whose window ends after KNOWN changes nothing that was fitted or chosen
    unknown = F.add_months(F.col("periode"), 12) > F.lit(KNOWN)
    altered = panel.withColumn("failure_12", F.when(unknown, 1 - F.col("failure_12")).otherwise(F.col("failure_12")))
    refitted = _fit(altered, model_settings)
    assert refitted.thresholds == fitted.thresholds
    assert refitted.calibration == fitted.calibration
    assert refitted.trees_kept == fitted.trees_kept


def test_thresholds_are_chosen_on_published_calibration_probabilities(spark, panel, model_settings):
    fitted = _fit(panel, model_settings)
    rows = calibration_rows(panel, 12, fitted.windows, model_settings, seed=1)
    hist = score_histogram(predict({12: fitted.model}, rows), "probability_12", "label")
    assert fitted.thresholds == {
        "red": best_threshold(hist, model_settings.red_beta)["threshold"] - 0.5e-7,
        "orange": best_threshold(hist, model_settings.orange_beta)["threshold"] - 0.5e-7,
    }  # the lowest probability the histogram rounds to the chosen score: the rows counted are the rows alerted


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
    calibrated = calibrate(fit_part, 10).transform(check_part)
    after = expected_calibration_error(score_histogram(calibrated, "probability", "label"))
    assert before > 0.1
    assert after < 0.01


def test_blocks_pool_until_each_has_enough_failures_and_rates_are_never_0_or_1():
    blocks = pd.DataFrame({"rows": [100, 50, 30, 5], "positives": [0, 2, 9, 5], "score_sum": [1.0, 1.5, 3.0, 2.5]})
    out = pooled_blocks(blocks, min_positives=2)
    expected = pd.DataFrame(
        {
            "score": [2.5 / 150, 5.5 / 35],
            "rate": [2.5 / 151, 14.5 / 36],
            "rows": [150.0, 35.0],
            "positives": [2.0, 14.0],
        }
    )
    pd.testing.assert_frame_equal(out, expected)


def test_calibration_centres_each_pooled_block_and_interpolates_between_centres(spark):
    # isotonic blocks {0.1}: 0/1, {0.2, 0.3, 0.4}: 1/3, {0.6, 0.7}: 1/2, {0.8, 0.9}: 2/2; with at least one failure
    # and one non-failure each: {0.1 .. 0.4} 1 of 4 at 0.25, rate (1 + 1/2) / (4 + 1) = 0.3, and {0.6 .. 0.9}
    # (the top block has no non-failure: it joins the one before) 3 of 4 at 0.75, rate 3.5 / 5 = 0.7
    fit_rows = spark.createDataFrame(
        [(0.1, 0.0), (0.2, 1.0), (0.3, 0.0), (0.4, 0.0), (0.6, 1.0), (0.7, 0.0), (0.8, 1.0), (0.9, 1.0)],
        f"{SCORE} double, label double",
    )
    model = calibrate(fit_rows, 1)
    assert list(model.boundaries) == pytest.approx([0.25, 0.75])
    assert list(model.predictions) == pytest.approx([0.3, 0.7])
    checked = spark.createDataFrame([(0.05,), (0.25,), (0.5,), (0.75,), (0.95,)], f"{SCORE} double")
    expected = spark.createDataFrame(
        [(0.05, 0.3), (0.25, 0.3), (0.5, 0.5), (0.75, 0.7), (0.95, 0.7)], f"{SCORE} double, probability double"
    )
    # rebuilt without the column metadata Spark ML attaches
    calibrated = spark.createDataFrame(model.transform(checked).collect(), f"{SCORE} double, probability double")
    assert_approx_df_equality(calibrated, expected, precision=1e-12)


def test_calibration_keeps_the_ranking_that_plain_isotonic_ties(spark):
    _, _, df = _mis_scaled(spark, 20_000, seed=11)
    fit_part, check_part = df.randomSplit([0.5, 0.5], seed=3)
    model = calibrate(fit_part, 10)
    centres = list(model.boundaries)
    inside = check_part.where(F.col(SCORE).between(centres[0], centres[-1]))
    out = (
        model.transform(inside)
        .agg(F.countDistinct(SCORE).alias("scores"), F.countDistinct("probability").alias("probabilities"))
        .first()
    )
    assert out["probabilities"] == out["scores"] > 5_000
    plain = IsotonicRegression(featuresCol=SCORE, labelCol="label", predictionCol="probability").fit(fit_part)
    assert plain.transform(inside).select("probability").distinct().count() < out["scores"] / 50


@pytest.mark.parametrize("engine", ["gbt", "xgboost"])
def test_both_engines_learn_the_synthetic_signal(spark, panel, model_settings, engine):
    settings = model_settings.model_copy(update={"engine": engine})
    fitted = _fit(panel, settings)
    assert fitted.calibration["calibration_roc_auc"] > 0.75
    assert fitted.thresholds["red"] >= fitted.thresholds["orange"]
    out = fitted.model.transform(evaluation_rows(panel, 12, Window(dt.date(2018, 1, 1), dt.date(2018, 6, 1))))
    assert {"model_score", "probability", "alert_level"} <= set(out.columns)
    assert (
        out.where(F.col("probability").isNull() | (F.col("probability") <= 0) | (F.col("probability") >= 1)).count()
        == 0
    )


def test_horizon_disorder_is_measured_before_the_fix(spark):
    rows = spark.createDataFrame(
        [(0.1, 0.2, 0.3), (0.3, 0.2, 0.25), (0.2, 0.2, 0.1)],
        "probability_12 double, probability_18 double, probability_24 double",
    )
    bad, size = horizon_disorder([12, 18, 24])
    out = rows.select("*", bad.alias("bad"), size.alias("size"))
    expected = spark.createDataFrame(
        [(0.1, 0.2, 0.3, False, 0.0), (0.3, 0.2, 0.25, True, 0.1), (0.2, 0.2, 0.1, True, 0.1)],
        "probability_12 double, probability_18 double, probability_24 double, bad boolean, size double",
    )
    assert_approx_df_equality(out, expected, precision=1e-12, ignore_nullable=True)


def test_predict_makes_horizons_monotone(spark, panel, model_settings):
    fitted = _fit(panel, model_settings)
    other = _fit(
        panel, model_settings.model_copy(update={"params": model_settings.params.model_copy(update={"trees": 3})})
    )
    # the same label used as two "horizons": their raw probabilities cross on some rows
    scored = predict({12: fitted.model, 18: other.model}, panel)
    raw = predict({12: fitted.model}, panel).select("siren", "periode", F.col("probability_12").alias("raw_12"))
    rows = scored.join(raw, ["siren", "periode"])
    assert rows.where("probability_12 > probability_18").count() == 0
    assert rows.where("probability_12 != raw_12").count() == 0  # the shortest horizon is left as it is
    assert {"alert_level_12", "alert_level_18", "model_score_12"} <= set(scored.columns)
    assert not [c for c in scored.columns if c.startswith("_m_")]


def test_tuning_keeps_the_best_trial(spark, panel, model_settings):
    settings = model_settings.model_copy(
        update={"tune": model_settings.tune.model_copy(update={"trees": (5, 20), "max_depth": (2, 3)})}
    )
    fitted = _fit(panel, settings, trials=3)
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
    """Training firms' labels made pure noise: every tree after the first few only fits noise, the calibration
    firms' loss stops falling and the model keeps few trees; without early stopping it keeps them all."""
    settings = model_settings.model_copy(
        update={
            "engine": engine,
            "early_stopping": EarlyStoppingSettings(rounds=3),
            "params": model_settings.params.model_copy(update={"trees": 30, "max_depth": 4, "learning_rate": 0.3}),
        }
    )
    windows = _windows(settings)
    calibration_firms = calibration_rows(panel, 12, windows, settings, seed=1).select("siren").distinct()
    noisy = (
        panel.join(calibration_firms.withColumn("_kept", F.lit(True)), "siren", "left")
        .withColumn(
            "failure_12",
            F.when(F.col("_kept").isNull(), (F.rand(seed=3) < 0.1).cast("int")).otherwise(F.col("failure_12")),
        )
        .drop("_kept")
    )
    stopped = _fit(noisy, settings)
    assert 1 <= stopped.trees_kept <= 10
    assert trees_kept(stopped.model) == stopped.trees_kept
    grown = settings.model_copy(update={"early_stopping": EarlyStoppingSettings(window="none")})
    assert _fit(noisy, grown).trees_kept == 30
