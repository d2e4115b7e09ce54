"""MLflow: the project's experiment, the registered horizon models and their `champion` alias.

Registered models are named `<registry_prefix><h>` (`signaux_faibles_h12`, `_h18`, `_h24`); the
alias `champion` marks the version that `score` uses. Only aggregates and models are logged:
never firm-level rows.

Spark ML saves and loads a model with tasks on the executors. On a cluster the model files
therefore travel through a folder every node sees (`model_tmpdir`), never the driver's disk.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from sf_spark.lake import local_uri

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from pyspark.ml import PipelineModel
    from pyspark.sql import SparkSession

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


def choose_model_tmpdir(configured: str | None, master: str, default_fs: str, lake_root: str) -> str | None:
    """The folder through which Spark model files go between the executors and MLflow (MLflow's
    `dfs_tmpdir`): on Spark's default filesystem (scheme `default_fs`) and seen by every node.

    The configured folder when set; None (MLflow's `/tmp/mlflow`) in local mode or when the default
    filesystem is distributed (HDFS under YARN); else, on a cluster whose default filesystem is the
    nodes' local disks, `<lake root>/_tmp/mlflow`: a lake on a local path is, on a cluster, a shared mount.
    """
    if configured:
        return configured
    if master.startswith("local") or default_fs not in ("", "file"):
        return None
    root = urlparse(lake_root)
    if root.scheme not in ("", "file"):
        raise ValueError(
            f"the lake is at {lake_root} and Spark's default filesystem is the nodes' local disk: set "
            "tracking.dfs_tmpdir to a folder every node sees (a shared mount), where Spark models are written"
        )
    return os.path.join(os.path.abspath(root.path if root.scheme else lake_root), "_tmp", "mlflow")


def model_tmpdir(spark: SparkSession, tracking: TrackingSettings, lake_root: str) -> str | None:
    """`choose_model_tmpdir` for this session's master and default filesystem."""
    hadoop = spark._jvm.org.apache.hadoop.fs.FileSystem
    default_fs = hadoop.getDefaultUri(spark._jsc.hadoopConfiguration()).getScheme() or ""
    return choose_model_tmpdir(tracking.dfs_tmpdir, spark.sparkContext.master, default_fs, lake_root)


def model_name(settings: ModelSettings, horizon: int) -> str:
    return f"{settings.registry_prefix}{horizon}"


def champion_version(settings: ModelSettings, horizon: int) -> str | None:
    """The registered version holding the champion alias, or None when the model or its alias does not exist.

    Any other registry error (store unreachable, permissions, ...) raises: a step that cannot read the
    champion must not act as if there were none."""
    try:
        found = MlflowClient().get_model_version_by_alias(model_name(settings, horizon), settings.champion_alias)
    except MlflowException as exc:
        missing_model = exc.error_code == "RESOURCE_DOES_NOT_EXIST"
        missing_alias = exc.error_code == "INVALID_PARAMETER_VALUE" and "alias" in str(exc) and "not found" in str(exc)
        if missing_model or missing_alias:
            return None
        raise
    return str(found.version)


def load_version(settings: ModelSettings, horizon: int, version: str, tmpdir: str | None = None) -> PipelineModel:
    """A registered version as a `PipelineModel`; with `tmpdir` (see `model_tmpdir`), its Spark files are
    copied there for the executors to read, and removed once loaded (a model is read whole at load)."""
    import mlflow.spark
    from mlflow.models import Model
    from pyspark.ml import PipelineModel
    from pyspark.sql import SparkSession

    uri = f"models:/{model_name(settings, horizon)}/{version}"
    if tmpdir is None:
        return mlflow.spark.load_model(uri)
    spark = SparkSession.active()
    jvm = spark._jvm
    with tempfile.TemporaryDirectory() as local:
        downloaded = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=local)
        sparkml = os.path.join(downloaded, Model.load(downloaded).flavors["spark"]["model_data"])
        target = jvm.org.apache.hadoop.fs.Path(f"{tmpdir.rstrip('/')}/{uuid.uuid4().hex}")
        filesystem = target.getFileSystem(spark._jsc.hadoopConfiguration())
        filesystem.copyFromLocalFile(False, True, jvm.org.apache.hadoop.fs.Path(local_uri(sparkml)), target)
    try:
        return PipelineModel.load(target.toString())
    finally:
        filesystem.delete(target, True)


def load_champions(
    settings: ModelSettings,
    horizons: list[int],
    tmpdir: str | None = None,
) -> dict[int, tuple[str, PipelineModel]]:
    """Champion version and model per horizon; NoChampionError names the horizons without one."""
    versions = {h: champion_version(settings, h) for h in horizons}
    missing = [model_name(settings, h) for h, v in versions.items() if v is None]
    if missing:
        raise NoChampionError(f"no '{settings.champion_alias}' model for {', '.join(missing)}: run `sf-spark train`")
    return {h: (v, load_version(settings, h, v, tmpdir)) for h, v in versions.items()}


def register(
    model: PipelineModel, settings: ModelSettings, horizon: int, tags: dict[str, str], tmpdir: str | None = None
) -> str:
    """Log the model in the active run, register it as a new version, tag it; returns the version.

    The executors write the model under `tmpdir` (see `model_tmpdir`; None: MLflow's default), the
    driver copies it into the run's artifacts."""
    import mlflow.spark

    with contextlib.redirect_stderr(io.StringIO()) as chatter:  # "Successfully registered ...": train says it
        info = mlflow.spark.log_model(
            model,
            artifact_path=f"model_h{horizon}",
            dfs_tmpdir=tmpdir,
            registered_model_name=model_name(settings, horizon),
        )
    if chatter.getvalue().strip():
        log.info("mlflow: %s", " / ".join(chatter.getvalue().split("\n")).strip(" /"))
    version = str(info.registered_model_version)
    client = MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(model_name(settings, horizon), version, key, value)
    return version


def promote(settings: ModelSettings, horizon: int, version: str) -> None:
    MlflowClient().set_registered_model_alias(model_name(settings, horizon), settings.champion_alias, version)
