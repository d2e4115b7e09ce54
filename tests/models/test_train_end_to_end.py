"""`train_models` on the generated world: windows, figures against the oracle, report, registry, champion."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from sf_spark.models import registry
from sf_spark.models.training import train_models

pytestmark = pytest.mark.slow


def test_train_registers_evaluates_and_promotes(spark, world_features, world_settings):
    registry.connect(world_settings.tracking)  # the world's store, whatever store an earlier test pointed MLflow at
    before = registry.champion_version(world_settings.models, 12)  # the scoring tests may have trained first
    first = train_models(spark, world_features, world_settings)
    h12 = first["horizons"][12]
    if before is None:
        assert h12["champion"] and h12["reason"] == "no champion yet"
    else:
        assert h12["reason"].startswith("test AUCPR") and f"champion v{before}" in h12["reason"]
    assert h12["windows"]["calibration_start"] > h12["windows"]["train_end"]
    run = MlflowClient().get_run(first["run_id"])
    metrics = run.data.metrics
    for name in ("test_roc_auc_h12", "test_aucpr_h12", "test_brier_h12", "test_ece_h12", "oracle_aucpr_h12"):
        assert name in metrics
    assert metrics["monotone_violations_h12"] == 0
    assert 0.5 < metrics["test_roc_auc_h12"] <= 1.0
    assert run.data.params["data_version_gold_features"] == str(world_features.version("gold/features"))
    report = Path(first["report"]).read_text(encoding="utf-8")
    assert "data:image/png;base64" in report
    artifacts = {a.path for a in MlflowClient().list_artifacts(first["run_id"], "report")}
    assert any(p.endswith(".html") for p in artifacts)
    evaluation = json.loads(mlflow.artifacts.load_text(f"runs:/{first['run_id']}/report/evaluation.json"))
    assert set(evaluation) == {"12"}

    # a second, identical training is as good as the champion on the same window: it takes the alias
    second = train_models(spark, world_features, world_settings)
    assert second["horizons"][12]["version"] == str(int(h12["version"]) + 1)
    assert second["horizons"][12]["champion"]
    assert registry.champion_version(world_settings.models, 12) == second["horizons"][12]["version"]
    skipped = train_models(spark, world_features, world_settings, only_without_champion=True)
    assert skipped == {"skipped": "champions exist"}
