"""MLflow: the project's experiment, the registered horizon models and their `champion` alias.

Registered models are named `<registry_prefix><h>` (`signaux_faibles_h12`, `_h18`, `_h24`); the
alias `champion` marks the version that `score` uses. Only aggregates and models are logged:
never firm-level rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

if TYPE_CHECKING:
    from pyspark.ml import PipelineModel

    from sf_spark.config import TrackingSettings
    from sf_spark.models.settings import ModelSettings


class NoChampionError(LookupError):
    """No model version carries the champion alias for a horizon."""


def connect(tracking: TrackingSettings) -> str:
    """Point MLflow at the configured store and experiment (created if missing); returns the experiment id."""
    uri = tracking.tracking_uri
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.get_experiment_by_name(tracking.experiment)
    if experiment is None:
        location = Path(tracking.artifact_location).resolve().as_uri() if tracking.artifact_location else None
        experiment_id = mlflow.create_experiment(tracking.experiment, artifact_location=location)
    else:
        experiment_id = experiment.experiment_id
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def model_name(settings: ModelSettings, horizon: int) -> str:
    return f"{settings.registry_prefix}{horizon}"


def champion_version(settings: ModelSettings, horizon: int) -> str | None:
    """The registered version holding the champion alias, or None."""
    try:
        found = MlflowClient().get_model_version_by_alias(model_name(settings, horizon), settings.champion_alias)
    except MlflowException:
        return None
    return str(found.version)


def load_version(settings: ModelSettings, horizon: int, version: str) -> PipelineModel:
    import mlflow.spark

    return mlflow.spark.load_model(f"models:/{model_name(settings, horizon)}/{version}")


def load_champions(settings: ModelSettings, horizons: list[int]) -> dict[int, tuple[str, PipelineModel]]:
    """Champion version and model per horizon; NoChampionError names the horizons without one."""
    versions = {h: champion_version(settings, h) for h in horizons}
    missing = [model_name(settings, h) for h, v in versions.items() if v is None]
    if missing:
        raise NoChampionError(f"no '{settings.champion_alias}' model for {', '.join(missing)}: run `sf-spark train`")
    return {h: (v, load_version(settings, h, v)) for h, v in versions.items()}


def register(model: PipelineModel, settings: ModelSettings, horizon: int, tags: dict[str, str]) -> str:
    """Log the model in the active run, register it as a new version, tag it; returns the version."""
    import mlflow.spark

    info = mlflow.spark.log_model(model, artifact_path=f"model_h{horizon}",
                                  registered_model_name=model_name(settings, horizon))  # fmt: skip
    version = str(info.registered_model_version)
    client = MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(model_name(settings, horizon), version, key, value)
    return version


def promote(settings: ModelSettings, horizon: int, version: str) -> None:
    MlflowClient().set_registered_model_alias(model_name(settings, horizon), settings.champion_alias, version)
