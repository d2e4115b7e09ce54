"""One Spark session for the whole test run: local[2], 2 shuffle partitions, UTC, UI off."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
NATIONAL_FIXTURES = SHARED / "fixtures" / "national-programme"


def pytest_configure(config):
    """Steps' progress lines on stdout, as the command line shows them (captured per test)."""
    from sf_spark.progress import show_progress

    show_progress()


@pytest.fixture(scope="session")
def spark():
    from sf_spark.config import SparkSettings
    from sf_spark.session import get_spark

    settings = SparkSettings(
        master="local[2]",
        app_name="sf-spark-tests",
        driver_memory="2g",
        shuffle_partitions=2,
        ui_enabled=False,
        log_level="ERROR",
        extra={"spark.sql.adaptive.coalescePartitions.enabled": "true", "spark.default.parallelism": "2"},
    )
    session = get_spark(settings)
    yield session
    session.stop()


@pytest.fixture
def lake(spark, tmp_path):
    """An empty lake in a fresh folder, written by delta-rs (tests/lake runs under both writers)."""
    from sf_spark.lake import Lake

    return Lake(spark, str(tmp_path / "lake"), "delta-rs")


@pytest.fixture(scope="session")
def national_fixtures() -> Path:
    """The national programme's real-format samples, read in place from ../shared."""
    if not NATIONAL_FIXTURES.is_dir():
        pytest.skip(f"national-programme samples not found at {NATIONAL_FIXTURES} (../shared is absent)")
    return NATIONAL_FIXTURES


@pytest.fixture(scope="session")
def generated_world(tmp_path_factory, spark):
    """A small generated world (raw deliveries, truth) ingested into a lake; shared by end-to-end tests."""
    from sf_spark.generate import GeneratorParams, generate_world
    from sf_spark.ingest import ingest_raw
    from sf_spark.lake import Lake

    root = tmp_path_factory.mktemp("world")
    params = GeneratorParams(firms=500, start="2018-01", end="2021-12", seed=7)
    summary = generate_world(root / "raw", root / "truth", params)
    lake = Lake(spark, str(root / "lake"), "delta-rs")
    ingest_raw(lake, str(root / "raw"))
    return {"root": root, "lake": lake, "params": params, "generated": summary}


@pytest.fixture(scope="session")
def world_settings(generated_world, tmp_path_factory):
    """Settings of the generated world: its lake, truth and a private MLflow store; short model windows
    (the world spans 48 months) and the 12-month horizon only."""
    from sf_spark.config import Settings

    root = generated_world["root"]
    work = tmp_path_factory.mktemp("world_work")
    return Settings.model_validate(
        {
            "lake": {"root": str(root / "lake"), "writer": "delta-rs"},
            "paths": {
                "work_dir": str(work),
                "raw": str(root / "raw"),
                "truth": str(root / "truth"),
                "reports": str(work / "reports"),
            },
            "tracking": {
                "tracking_uri": f"sqlite:///{work}/mlflow.db",
                "artifact_location": str(work / "mlruns"),
                "experiment": "world",
            },
            "models": {
                "horizons": [12],
                "params": {"trees": 30, "max_depth": 4, "min_instances": 100},
                "splits": {
                    "calibration_months": 6,
                    "min_train_months": 3,
                    "warm_up_months": 0,
                },  # a short world: every training month counts
                "backtest": {"origins": 1, "step_months": 3, "bootstrap": 20},
                "calibration": {"min_block_positives": 2},  # few failures among a few hundred firms
                "explain_sample_rows": 200,
                "orange_beta": 4.0,
            },  # a weak model: a longer orange list
            "scoring": {"export_horizon": 12, "drift_reference_horizon": 12},
        }
    )


@pytest.fixture(scope="session")
def world_features(spark, generated_world, world_settings):
    """`gold/features` of the generated world, built once for the session."""
    from sf_spark.features import build_features

    lake = generated_world["lake"]
    if not lake.exists("gold/features"):
        build_features(lake, world_settings)
    return lake


@pytest.fixture(scope="session")
def world_training(spark, world_features, world_settings):
    """The generated world's first training (its summary), once for the session: its models are the
    champions the later tests read."""
    from sf_spark.models.run import train_models

    return train_models(world_features, world_settings, only_without_champion=True)


@pytest.fixture(scope="session")
def world_champions(world_training, world_features):
    """The generated world's lake, with champion models registered."""
    return world_features
