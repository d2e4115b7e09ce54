"""`train_models` on the generated world: backtest, production fit, figures against the oracle, report, registry,
champion."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient
from pyspark.sql import functions as F

from sf_spark.models import registry
from sf_spark.models.run import train_models
from sf_spark.months import add_months, months_between, parse_month

pytestmark = pytest.mark.slow


def test_train_backtests_fits_fresh_registers_and_promotes(spark, world_training, world_features, world_settings):
    registry.connect(world_settings.tracking)  # the world's store, whatever store an earlier test pointed MLflow at
    first = world_training  # the session's first training
    h12 = first["horizons"][12]
    assert h12["champion"] and h12["reason"] == "no champion yet"
    # the production fit: trained up to the last labelled month, calibrated on other firms' latest 6 of them
    known = parse_month(first["outcomes_known_until"])  # the world's last judgment, in its last month or so
    assert known >= dt.date(2021, 10, 1)
    newest = f"{add_months(known, -12):%Y-%m}"
    assert h12["windows"] == {
        "train_start": "2018-01",
        "train_end": newest,
        "calibration_start": f"{add_months(known, -17):%Y-%m}",
        "calibration_end": newest,
        "outcomes_known_until": f"{known:%Y-%m}",
    }
    staleness = months_between(add_months(known, -12), dt.date(2021, 12, 1)) - 1
    assert h12["staleness_months"] == staleness
    run = MlflowClient().get_run(first["run_id"])
    metrics = run.data.metrics
    for name in (
        "test_roc_auc_h12",
        "test_aucpr_h12",
        "test_brier_h12",
        "test_ece_h12",
        "oracle_aucpr_h12",
        "test_aucpr_low_h12",
        "test_aucpr_high_h12",
        "test_sum_p_to_failures_h12",
        "test_calibration_slope_h12",
        "test_log_loss_h12",
        "test_top_decile_ece_h12",
    ):
        assert name in metrics, name
    assert metrics["test_aucpr_low_h12"] <= metrics["test_aucpr_h12"] <= metrics["test_aucpr_high_h12"]
    assert metrics["backtest_origins_h12"] == 1 and metrics["staleness_months_h12"] == staleness
    assert 0.5 < metrics["test_roc_auc_h12"] <= 1.0
    assert run.data.params["data_version_gold_features"] == str(world_features.version("gold/features"))
    report = Path(first["report"]).read_text(encoding="utf-8")
    assert "data:image/png;base64" in report and "Backtest by origin" in report
    # the generated world's agents rated lists of the backtest's months: their judgement is reported
    assert "As the agents judged it" in report and any(k.startswith("agents_rated_") for k in metrics)
    artifacts = {a.path for a in MlflowClient().list_artifacts(first["run_id"], "report")}
    assert any(p.endswith(".html") for p in artifacts)
    evaluation = json.loads(mlflow.artifacts.load_text(f"runs:/{first['run_id']}/report/evaluation.json"))
    assert set(evaluation) == {"12"}
    origins = [o["origin"] for o in evaluation["12"]["by_origin"]]
    assert len(origins) == 1 and all(o < f"{add_months(known, -12):%Y-%m}" for o in origins)
    tags = MlflowClient().get_model_version("signaux_faibles_h12", h12["version"]).tags
    assert tags["newest_training_month"] == newest and tags["staleness_months"] == str(staleness)
    assert sorted(json.loads(tags["backtest_aucpr_by_origin"])) == origins

    # a second, identical training is as good as the champion on the same origins: it takes the alias
    second = train_models(world_features, world_settings)
    assert second["horizons"][12]["version"] == str(int(h12["version"]) + 1)
    assert second["horizons"][12]["champion"]
    assert "over 1 shared origins" in second["horizons"][12]["reason"]
    assert registry.champion_version(world_settings.models, 12) == second["horizons"][12]["version"]
    skipped = train_models(world_features, world_settings, only_without_champion=True)
    assert skipped == {"skipped": "champions exist"}


def test_no_published_probability_is_0_or_1_and_horizons_are_ordered(spark, world_champions, world_settings):
    from sf_spark.models import load_champions
    from sf_spark.models.engine import predict

    models = {h: m for h, (_, m) in load_champions(world_settings.models, [12]).items()}
    scored = predict(models, world_champions.read("gold/features"))
    extremes = scored.where((F.col("probability_12") <= 0) | (F.col("probability_12") >= 1)).count()
    assert extremes == 0


def test_too_short_a_history_stops_before_anything_is_registered(spark, world_features, world_settings):
    registry.connect(world_settings.tracking)
    short = world_settings.model_copy(
        update={
            "models": world_settings.models.model_copy(
                update={"splits": world_settings.models.splits.model_copy(update={"min_train_months": 40})}
            )
        }
    )
    versions = len(MlflowClient().search_model_versions("name='signaux_faibles_h12'"))
    with pytest.raises(ValueError, match="need at least 52 months"):
        train_models(world_features, short)
    assert len(MlflowClient().search_model_versions("name='signaux_faibles_h12'")) == versions
