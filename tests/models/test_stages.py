"""The custom pipeline stages: exact outputs on hand-written rows, and persistence."""

from __future__ import annotations

import pytest
from chispa import assert_df_equality
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.linalg import Vectors

from sf_spark.models.stages import SENTINEL, AlertLevel, MissingToSentinel, VectorElement


def test_missing_to_sentinel_replaces_null_and_nan_only(spark):
    df = spark.createDataFrame([(1, 2.5), (None, float("nan")), (0, None)], "a int, b double")
    out = MissingToSentinel(inputCols=["a", "b"], outputCols=["a_f", "b_f"]).transform(df)
    expected = spark.createDataFrame(
        [(1, 2.5, 1.0, 2.5), (None, float("nan"), SENTINEL, SENTINEL), (0, None, 0.0, SENTINEL)],
        "a int, b double, a_f double, b_f double",
    )
    assert_df_equality(out, expected, allow_nan_equality=True)


def test_vector_element_takes_the_failure_class(spark):
    df = spark.createDataFrame([(Vectors.dense([0.9, 0.1]),), (Vectors.dense([0.25, 0.75]),)], ["p"])
    out = VectorElement(inputCol="p", outputCol="score").transform(df).select("score")
    assert [r.score for r in out.collect()] == [0.1, 0.75]


def test_alert_levels_at_the_thresholds(spark):
    df = spark.createDataFrame([(0.30,), (0.20,), (0.10,), (0.05,), (None,)], "probability double")
    out = AlertLevel(inputCol="probability", outputCol="level", red=0.2, orange=0.1).transform(df)
    expected = spark.createDataFrame(
        [(0.30, "red"), (0.20, "red"), (0.10, "orange"), (0.05, "green"), (None, None)],
        "probability double, level string",
    )
    assert_df_equality(out, expected)


def test_stages_round_trip_inside_a_saved_pipeline(spark, tmp_path):
    df = spark.createDataFrame([(None, 0.3), (2, 0.01)], "a int, probability double")
    model = Pipeline(
        stages=[
            MissingToSentinel(inputCols=["a"], outputCols=["a_f"], value=-5.0),
            AlertLevel(inputCol="probability", outputCol="level", red=0.2, orange=0.1),
        ]
    ).fit(df)
    model.write().overwrite().save(str(tmp_path / "model"))
    loaded = PipelineModel.load(str(tmp_path / "model"))
    assert loaded.stages[-1].thresholds() == {"red": 0.2, "orange": 0.1}
    assert_df_equality(loaded.transform(df), model.transform(df))


def test_min_instances_means_rows_for_both_engines():
    from sf_spark.models.engine import classifier
    from sf_spark.models.settings import BoostingParams

    params = BoostingParams(min_instances=100)
    gbt = classifier("gbt", params, seed=1, xgboost_workers=1, base_rate=0.02)
    assert gbt.getOrDefault("minInstancesPerNode") == 100
    # XGBoost bounds hessian sums: 100 rows at a 2 % base rate weigh 100 x 0.02 x 0.98
    xgb = classifier("xgboost", params, seed=1, xgboost_workers=1, base_rate=0.02)
    assert xgb.getOrDefault("min_child_weight") == pytest.approx(1.96)
