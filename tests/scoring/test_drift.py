"""Population stability: the index by hand, and the Spark binning against it."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from sf_spark.scoring.drift import EPSILON, population_stability, psi, status


def test_psi_by_hand():
    reference = pd.Series({"a": 50, "b": 50})
    current = pd.Series({"a": 80, "b": 20})
    expected = (0.8 - 0.5) * math.log(0.8 / 0.5) + (0.2 - 0.5) * math.log(0.2 / 0.5)
    assert psi(reference, current) == pytest.approx(expected, abs=1e-12)
    assert psi(reference, reference * 3) == pytest.approx(0.0, abs=1e-12)


def test_an_empty_bin_is_floored_not_infinite():
    value = psi(pd.Series({"a": 100}), pd.Series({"a": 50, "missing": 50}))
    expected = (0.5 - 1.0) * math.log(0.5 / 1.0) + (0.5 - EPSILON) * math.log(0.5 / EPSILON)
    assert value == pytest.approx(expected, abs=1e-12)


def test_status_bands():
    assert [status(v, 0.25) for v in (0.05, 0.1, 0.3, math.nan)] == ["stable", "moderate", "shift", "unknown"]


def test_spark_binning_sees_a_shift_a_new_missing_share_and_a_new_category(spark):
    reference = spark.createDataFrame([(float(i), "C") for i in range(100)], "x double, s string")
    same = spark.createDataFrame([(float(i), "C") for i in range(0, 100, 2)], "x double, s string")
    shifted = spark.createDataFrame(
        [(float(i) + 50, "F") for i in range(50)] + [(None, "C")] * 50, "x double, s string"
    )
    stable = population_stability(reference, same, ["x"], ["s"]).set_index("feature")["psi"]
    assert stable["x"] < 0.05 and stable["s"] == pytest.approx(0.0, abs=1e-12)
    moved = population_stability(reference, shifted, ["x"], ["s"]).set_index("feature")
    assert moved.loc["x", "psi"] > 1.0 and moved.loc["s", "psi"] > 1.0
    assert (moved.loc["x", "reference_rows"], moved.loc["x", "current_rows"]) == (100, 100)
