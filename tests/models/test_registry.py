"""MLflow: a horizon model round-trips through the registry and scores the same; the champion alias."""

from __future__ import annotations

import datetime as dt

import pytest
from chispa import assert_df_equality

from sf_spark.config import TrackingSettings
from sf_spark.models import registry
from sf_spark.models.fitting import fit_procedure
from sf_spark.models.run import _decide
from sf_spark.models.splits import fit_windows

from .conftest import INPUTS


@pytest.fixture
def tracking(tmp_path):
    settings = TrackingSettings(
        tracking_uri=f"sqlite:///{tmp_path}/mlflow.db", artifact_location=str(tmp_path / "mlruns"), experiment="tests"
    )
    registry.connect(settings)
    return settings


def test_a_registered_model_scores_the_same_after_loading(spark, panel, model_settings, tracking, tmp_path):
    import mlflow

    windows = fit_windows([12], dt.date(2015, 1, 1), dt.date(2018, 6, 1), model_settings.splits)
    fitted = fit_procedure(panel, INPUTS, windows, model_settings, seed=1)[0][12]
    assert registry.champion_version(model_settings, 12) is None
    shared = tmp_path / "shared_tmp"  # stands for a folder every node of a cluster sees
    with mlflow.start_run():
        version = registry.register(fitted.model, model_settings, 12, {"threshold_red": "0.1"}, str(shared))
    registry.promote(model_settings, 12, version)
    columns = ["siren", "periode", "model_score", "probability", "alert_level"]
    expected = fitted.model.transform(panel).select(columns)
    for tmpdir in (None, str(shared)):
        champions = registry.load_champions(model_settings, [12], tmpdir)
        assert champions[12][0] == version == "1"
        loaded = champions[12][1]
        assert_df_equality(loaded.transform(panel).select(columns), expected, ignore_row_order=True)
        assert loaded.stages[-1].thresholds() == fitted.thresholds
    assert not any(shared.iterdir()), "model files left in the shared folder"


@pytest.mark.parametrize(
    ("configured", "master", "default_fs", "lake_root", "expected"),
    [
        ("hdfs:///tmp/sf", "yarn", "hdfs", "/mnt/lake", "hdfs:///tmp/sf"),  # configured: always that
        (None, "local[2]", "file", "s3a://bucket/lake", None),  # local mode: MLflow's /tmp/mlflow
        (None, "yarn", "hdfs", "/mnt/lake", None),  # distributed default filesystem: MLflow's /tmp/mlflow there
        (None, "spark://h:7077", "file", "/mnt/lake/", "/mnt/lake/_tmp/mlflow"),  # the shared lake mount
        (None, "k8s://h", "file", "file:///mnt/lake", "/mnt/lake/_tmp/mlflow"),
    ],
)
def test_spark_model_files_go_through_a_folder_every_node_sees(configured, master, default_fs, lake_root, expected):
    assert registry.choose_model_tmpdir(configured, master, default_fs, lake_root) == expected


def test_a_cluster_without_a_shared_folder_for_models_is_refused():
    with pytest.raises(ValueError, match=r"tracking\.dfs_tmpdir"):
        registry.choose_model_tmpdir(None, "spark://h:7077", "file", "abfss://c@a.dfs.core.windows.net/lake")


def test_no_champion_names_the_missing_models(model_settings, tracking):
    with pytest.raises(registry.NoChampionError, match="signaux_faibles_h18"):
        registry.load_champions(model_settings, [18])


def test_a_registry_error_fails_the_step_instead_of_promoting(model_settings, tracking, monkeypatch):
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    assert _decide(model_settings, 12, None, force=False) == (True, "no champion yet")

    def unreachable(*args, **kwargs):
        raise MlflowException("connection refused", error_code="INTERNAL_ERROR")

    monkeypatch.setattr(MlflowClient, "get_model_version_by_alias", unreachable)
    with pytest.raises(MlflowException, match="connection refused"):
        registry.champion_version(model_settings, 12)
    with pytest.raises(MlflowException, match="connection refused"):
        _decide(model_settings, 12, None, force=False)
