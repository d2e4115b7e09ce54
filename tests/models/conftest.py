"""A synthetic panel with a known failure probability, small enough for exact, fast model tests."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sf_spark.models.engine import ModelInputs
from sf_spark.models.settings import ModelSettings, SplitSettings

INPUTS = ModelInputs(numeric=("debt_ratio", "margin"), categorical=("naf_section",))


def synthetic_panel(spark, firms: int = 400, months: int = 42, seed: int = 1, first: str = "2015-01-01"):
    """Rows (siren, periode) with two numeric features (margin sometimes missing), a sector, and labels
    failure_12 drawn from a logistic model of the features; returns the DataFrame and the true probability."""
    rng = np.random.default_rng(seed)
    start = dt.date.fromisoformat(first)
    periods = [
        dt.date(start.year + (start.month - 1 + m) // 12, (start.month - 1 + m) % 12 + 1, 1) for m in range(months)
    ]
    frame = pd.DataFrame([(f"{i:09d}", p) for i in range(firms) for p in periods], columns=["siren", "periode"])
    n = len(frame)
    frame["debt_ratio"] = rng.gamma(1.0, 1.0, n)
    frame["margin"] = rng.normal(0.05, 0.1, n)
    frame.loc[rng.random(n) < 0.2, "margin"] = np.nan
    frame["naf_section"] = rng.choice(["C", "F", "G", "I"], n)
    logit = -4.0 + 1.1 * frame["debt_ratio"] - 8.0 * frame["margin"].fillna(-0.1) + (frame["naf_section"] == "F")
    frame["true_probability"] = 1 / (1 + np.exp(-logit))
    frame["failure_12"] = (rng.random(n) < frame["true_probability"]).astype("int32")
    frame["in_proceedings"] = False
    frame["region"] = "11"
    return spark.createDataFrame(frame.astype({"margin": "float64"}))


@pytest.fixture(scope="module")
def panel(spark):
    return synthetic_panel(spark).cache()


@pytest.fixture
def model_settings() -> ModelSettings:
    """Few, shallow trees; windows that fit the 42 months of the synthetic panel with a 12-month horizon."""
    return ModelSettings(
        horizons=[12],
        params={"max_depth": 3, "trees": 15, "learning_rate": 0.2, "subsample": 1.0, "min_instances": 5},
        splits=SplitSettings(calibration_months=6, min_train_months=3, warm_up_months=0, calibration_firms=0.3),
        calibration={"min_block_positives": 5},
        crisis={"policy": "keep"},
        categorical_features=["naf_section"],
        xgboost_workers=1,
    )
