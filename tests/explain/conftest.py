"""Small synthetic pipelines of both engines, fitted once per test session."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

FEATURES = ["debt_ratio", "margin", "sector_index"]


def synthetic_rows(spark, rows: int = 300, seed: int = 3, missing_share: float = 0.0):
    """Firms with two numeric features, a sector and a label drawn from a logistic model; `margin` is NaN
    for about `missing_share` of them."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "firm": np.arange(rows),
            "debt_ratio": rng.gamma(1.0, 1.0, rows),
            "margin": rng.normal(0.0, 1.0, rows),
            "sector": rng.choice(["C", "F", "G", "I"], rows),
            "weight": rng.uniform(0.5, 2.0, rows),
        }
    )
    logit = -1.0 + 1.2 * frame["debt_ratio"] - frame["margin"] + 2.0 * (frame["sector"] == "F")
    frame["label"] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(float)
    frame.loc[rng.random(rows) < missing_share, "margin"] = np.nan
    return spark.createDataFrame(frame)


def feature_stages(handle_invalid: str = "error") -> list:
    from pyspark.ml.feature import StringIndexer, VectorAssembler

    return [
        StringIndexer(inputCol="sector", outputCol="sector_index", stringOrderType="alphabetAsc"),
        VectorAssembler(inputCols=FEATURES, outputCol="features", handleInvalid=handle_invalid),
    ]


def calibration():
    """A stage after the classifier, which explanations must ignore."""
    from pyspark.ml.regression import IsotonicRegression

    return IsotonicRegression(featuresCol="probability", featureIndex=1, labelCol="label", predictionCol="calibrated")


@pytest.fixture(scope="session")
def gbt_model(spark):
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import GBTClassifier

    gbt = GBTClassifier(
        featuresCol="features",
        labelCol="label",
        weightCol="weight",
        maxDepth=3,
        maxIter=4,
        subsamplingRate=0.8,
        seed=11,
    )
    rows = synthetic_rows(spark)
    return Pipeline(stages=[*feature_stages(), gbt, calibration()]).fit(rows), rows


@pytest.fixture(scope="session")
def xgboost_model(spark):
    from pyspark.ml import Pipeline
    from xgboost.spark import SparkXGBClassifier

    xgb = SparkXGBClassifier(
        features_col="features", label_col="label", num_workers=1, n_estimators=4, max_depth=3, random_state=11
    )
    rows = synthetic_rows(spark, missing_share=0.3)
    return Pipeline(stages=[*feature_stages(handle_invalid="keep"), xgb, calibration()]).fit(rows), rows
