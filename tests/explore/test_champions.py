"""Champions read back from MLflow: their table, their evaluation (the training's own figures) and one firm."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from mlflow import MlflowClient

from sf_spark.explore import champion_table, evaluate_champions, explain_firm
from sf_spark.models import load_champions
from sf_spark.models.engine import alert_stage

pytestmark = pytest.mark.slow


def test_the_champion_table_has_the_trained_horizons_only(world_champions, world_settings):
    table = champion_table(world_settings, [12, 18])
    assert table["horizon"].tolist() == [12]
    version, model = load_champions(world_settings.models, [12])[12]
    row = table.iloc[0]
    assert row["model_version"] == f"signaux_faibles_h12/{version}"
    assert {"red": row["red"], "orange": row["orange"]} == pytest.approx(alert_stage(model).thresholds())
    assert row["test_start"] <= row["test_end"] and row["calibration_end"] <= row["train_end"]
    assert row["calibration_end"] < row["outcomes_known_until"] <= "2021-12"


def test_before_new_outcomes_a_champion_gives_back_its_calibration_figures(spark, world_champions, world_settings):
    evaluated = evaluate_champions(spark, world_champions, world_settings, sample_rows=50)
    assert list(evaluated) == [12]
    found = evaluated[12]
    assert found.rows == "calibration"  # the world ends where the champion's outcomes end
    version = found.model_version.rsplit("/", 1)[1]
    tags = MlflowClient().get_model_version("signaux_faibles_h12", version).tags
    logged = MlflowClient().get_run(tags["run_id"]).data.metrics
    assert found.evaluation.metrics["test_aucpr"] == pytest.approx(logged["calibration_aucpr_h12"], abs=1e-12)
    assert f"{found.window.first:%Y-%m}" == tags["calibration_start"]
    assert found.importance["importance"].sum() == pytest.approx(1.0)
    assert 0 < len(found.contributions) == found.importance.shape[0]
    other = evaluate_champions(spark, world_champions, world_settings, window=("2020-01", "2020-03"), sample_rows=0)
    assert other[12].window.months == 3 and other[12].contributions is None and other[12].rows == "window"
    assert other[12].evaluation.metrics["test_rows"] != found.evaluation.metrics["test_rows"]


def test_one_firm_is_explained_exactly_whatever_its_level(world_champions, world_settings):
    month = dt.date(2021, 3, 1)
    siren = world_champions.read("gold/features").where(f"periode = '{month}' AND NOT in_proceedings").first()["siren"]
    why = explain_firm(world_champions, world_settings, siren, month)
    row = why.iloc[0]
    assert why["horizon"].tolist() == [12] and row["alert_level"] in ("red", "orange", "green")
    assert math.isclose(
        sum(row["topic_contributions"].values()) + row["contribution_bias"], row["log_odds"], abs_tol=1e-6
    )  # XGBoost's margins are float32
    assert len(row["top_features"]) == world_settings.scoring.top_features
    with pytest.raises(ValueError, match="no row of gold/features"):
        explain_firm(world_champions, world_settings, "000000000", month)
