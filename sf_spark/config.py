"""Project configuration: strict models loaded from YAML (`conf/local.yaml` by default).

Every section refuses unknown keys and wrong types, so a typo in a YAML file stops the run
with a message naming the key and the file. Command-line options override the file through
`load_config(path, overrides={"lake.root": ...})`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError

from sf_spark.features.settings import FeatureSettings
from sf_spark.generate import GeneratorParams
from sf_spark.ingest.settings import IngestSettings
from sf_spark.lake import tables
from sf_spark.models.settings import ModelSettings
from sf_spark.scoring.settings import ScoringSettings
from sf_spark.strict import StrictModel

DEFAULT_CONF_PATH = Path("conf/local.yaml")


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and the key."""


class SparkSettings(StrictModel):
    """How the Spark session is built when the process starts its own (not under spark-submit)."""

    master: str = "local[*]"
    app_name: str = "sf-spark"
    driver_memory: str = "6g"
    shuffle_partitions: int = Field(default=8, ge=1)
    ui_enabled: bool = True
    log_level: str = "WARN"
    quiet: bool = Field(
        default=True,
        description="Spark's start-up notices silenced (sf_spark/log4j2-quiet.properties) and its console "
        "progress bar shown when stderr is a terminal; `--verbose` sets it false (Spark's own logging)",
    )
    extra: dict[str, str] = Field(
        default_factory=dict,
        description="Any further Spark properties, e.g. the Delta extensions on a cluster.",
    )
    delta_jars: str = Field(
        default="auto",
        description="folder of the delta-spark JARs for a session this process starts: 'auto' (the "
        "project's .cache/jars from `make jars`, if there), 'none', or a path",
    )


class MaintenanceSettings(StrictModel):
    """`sf-spark maintain`: compaction, clustering and removal of files no version needs any more."""

    zorder: dict[str, list[str]] = Field(
        default_factory=lambda: {tables.FEATURES: ["siren"], tables.SCORES: ["siren"]},
        description="tables whose files are rewritten clustered by these columns (Z-order), so that one "
        "firm's history reads few files; every other table is compacted",
    )
    target_file_mb: int = Field(default=128, ge=1, description="size of the files compaction writes")
    retention_hours: int = Field(
        default=168,
        ge=168,
        description="VACUUM keeps every file a version of the last N hours needs (time travel, restore after a "
        "failed run); at least 7 days, Delta's own safety limit",
    )


class LakeSettings(StrictModel):
    """Where the Delta lake lives and which writer commits to it."""

    root: str = "work/lake"
    writer: Literal["auto", "native", "delta-rs"] = "delta-rs"  # native: lake-level tests only so far
    lock_stale_after_hours: float = Field(
        default=12.0, gt=0, description="a lake lock older than this is stale and taken over (runs last less)"
    )
    maintenance: MaintenanceSettings = Field(default_factory=MaintenanceSettings)


class TrackingSettings(StrictModel):
    """MLflow tracking store and experiment."""

    tracking_uri: str = "sqlite:///work/mlflow.db"
    artifact_location: str | None = "work/mlruns"
    experiment: str = "signaux_faibles"
    dfs_tmpdir: str | None = Field(
        default=None,
        description="Where the executors write a Spark model before MLflow logs it, and read a registered "
        "model back: a folder of Spark's default filesystem that every node sees. Unset: MLflow's /tmp/mlflow "
        "in local mode or when the default filesystem is distributed (HDFS), else <lake.root>/_tmp/mlflow.",
    )


class PathSettings(StrictModel):
    """Folders of the embedded demo: raw deliveries, generator truth, reports."""

    work_dir: str = "work"
    raw: str = "work/raw"
    truth: str = "work/truth"
    reports: str = "work/reports"


class ScopeSettings(StrictModel):
    """Which firms are scored (domain.md, 'Unit, calendar, scope')."""

    min_headcount: int = Field(default=10, ge=0)
    headcount_lookback_months: int = Field(default=36, ge=1)
    excluded_naf_sections: list[str] = Field(default_factory=lambda: ["O", "P"])
    excluded_legal_category_prefixes: list[str] = Field(default_factory=lambda: ["7"])


class Settings(StrictModel):
    """The whole configuration of one run."""

    spark: SparkSettings = Field(default_factory=SparkSettings)
    lake: LakeSettings = Field(default_factory=LakeSettings)
    tracking: TrackingSettings = Field(default_factory=TrackingSettings)
    paths: PathSettings = Field(default_factory=PathSettings)
    scope: ScopeSettings = Field(default_factory=ScopeSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    features: FeatureSettings = Field(default_factory=FeatureSettings)
    models: ModelSettings = Field(default_factory=ModelSettings)
    scoring: ScoringSettings = Field(default_factory=ScoringSettings)
    generator: GeneratorParams = Field(default_factory=GeneratorParams)
    seed: int = 42


def _set_dotted(tree: dict[str, Any], dotted: str, value: Any) -> None:
    node = tree
    *parents, leaf = dotted.split(".")
    for key in parents:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(f"cannot override {dotted!r}: {key!r} is not a section")
    node[leaf] = value


def _describe(error: ValidationError, source: str) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            lines.append(f"unknown key '{key}'")
        else:
            lines.append(f"key '{key}': {item['msg']} (got {item.get('input')!r})")
    return f"invalid configuration in {source}: " + "; ".join(lines)


def folder_settings(folder: str | Path, raw: str | Path | None = None, truth: str | Path | None = None) -> dict:
    """The sections that put every output of a run under one folder: the lake (`FOLDER/lake`), MLflow
    (`FOLDER/mlflow.db`, `FOLDER/mlruns`), the work folder (the lists under `FOLDER/exports`) and the
    reports; the raw deliveries and the generator's truth there too unless given (`--dir`, tests, benchmarks)."""
    root = str(folder).rstrip("/")
    return {
        "lake": {"root": f"{root}/lake"},
        "tracking": {"tracking_uri": f"sqlite:///{root}/mlflow.db", "artifact_location": f"{root}/mlruns"},
        "paths": {
            "work_dir": root,
            "raw": str(raw) if raw is not None else f"{root}/raw",
            "truth": str(truth) if truth is not None else f"{root}/truth",
            "reports": f"{root}/reports",
        },
    }


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Read a YAML configuration, apply dotted-key overrides, validate strictly.

    Without a path, `conf/local.yaml` of the working folder is read when present, else the
    built-in defaults (which are the embedded local set-up) are used.
    """
    if path is None and DEFAULT_CONF_PATH.exists():
        path = DEFAULT_CONF_PATH
    source = str(path) if path is not None else "built-in defaults"
    tree: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"configuration file not found: {path}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"configuration file {path} is not valid YAML: {exc}") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"configuration file {path} must hold a mapping at top level")
        tree = loaded or {}
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set_dotted(tree, dotted, value)
    try:
        return Settings.model_validate(tree)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None
