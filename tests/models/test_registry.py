"""MLflow: a horizon model round-trips through the registry and scores the same; the champion alias."""

from __future__ import annotations

import datetime as dt

import pytest
from chispa import assert_df_equality

from sf_spark.config import TrackingSettings
from sf_spark.models import registry
from sf_spark.models.splits import choose_splits
from sf_spark.models.training import fit_horizon

from .conftest import INPUTS


@pytest.fixture
def tracking(tmp_path):
    settings = TrackingSettings(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db",
                                artifact_location=str(tmp_path / "mlruns"), experiment="tests")  # fmt: skip
    registry.connect(settings)
    return settings


def test_a_registered_model_scores_the_same_after_loading(spark, panel, model_settings, tracking):
    import mlflow

    splits = choose_splits(12, dt.date(2015, 1, 1), dt.date(2018, 6, 1), model_settings.splits)
    fitted = fit_horizon(panel, INPUTS, splits, model_settings, seed=1, trials=0)
    assert registry.champion_version(model_settings, 12) is None
    with mlflow.start_run():
        version = registry.register(fitted.model, model_settings, 12, {"threshold_red": "0.1"})
    registry.promote(model_settings, 12, version)
    champions = registry.load_champions(model_settings, [12])
    assert champions[12][0] == version == "1"
    loaded = champions[12][1]
    columns = ["siren", "periode", "model_score", "probability", "alert_level"]
    assert_df_equality(loaded.transform(panel).select(columns), fitted.model.transform(panel).select(columns),
                       ignore_row_order=True)  # fmt: skip
    assert loaded.stages[-1].thresholds() == fitted.thresholds


def test_no_champion_names_the_missing_models(model_settings, tracking):
    with pytest.raises(registry.NoChampionError, match="signaux_faibles_h18"):
        registry.load_champions(model_settings, [18])
