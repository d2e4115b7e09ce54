"""The command line: arguments, one-line errors, a --help that loads no engine."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from sf_spark import cli, pipeline
from sf_spark.config import load_config

PROJECT = Path(__file__).resolve().parents[1]


def test_every_command_of_the_interface_is_there():
    parser = cli.build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert set(commands) == {"generate", "ingest", "features", "train", "score", "run", "demo", "maintain"}


@pytest.mark.parametrize("bad", ["2024-13", "2024-1", "24-01", "march"])
def test_period_must_be_a_month(bad, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["score", "--lake", "/tmp/x", "--period", bad])
    assert exit_.value.code == 2
    assert "expected YYYY-MM" in capsys.readouterr().err


def test_horizons_are_parsed_and_sorted():
    args = cli.build_parser().parse_args(["train", "--horizons", "24,12,18"])
    assert args.horizons == [12, 18, 24]


def test_failure_is_one_line_and_non_zero(tmp_path, capsys):
    conf = tmp_path / "bad.yaml"
    conf.write_text("nonsense: 1\n")
    status = cli.main(["features", "--conf", str(conf)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1
    assert err == [f"sf-spark features: error: invalid configuration in {conf}: unknown key 'nonsense'"]


ENGINES = ("pyspark", "mlflow", "hyperopt", "py4j", "deltalake", "sklearn", "scipy")


def test_configuration_and_help_load_no_engine():
    """Loading the settings and answering --help import neither Spark, MLflow nor hyperopt (a fresh
    interpreter, so what this test session already imported does not count)."""
    probe = (
        "import sys\n"
        "from sf_spark import cli\n"
        "from sf_spark.config import load_config, Settings\n"
        "Settings(); cli.build_parser().format_help()\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({ENGINES!r})))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=PROJECT)
    assert result.stdout.strip() == "[]"


PACKAGES = ["features", "models", "scoring", "explain", "explore", "ingest", "lake", "generate"]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_name_loads_on_first_use(package):
    module = importlib.import_module(f"sf_spark.{package}")
    for name, where in module.EXPORTS.items():
        assert getattr(module, name) is getattr(importlib.import_module(f"sf_spark.{package}.{where}"), name)


def test_package_names_load_on_first_use():
    from sf_spark import features, models

    assert "build_features" in dir(features) and "train_models" in models.__all__
    assert features.build_features.__module__ == "sf_spark.features.run"
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        _ = models.nothing


def test_demo_directory_moves_every_output(tmp_path):
    args = cli.build_parser().parse_args(["demo", "--dir", str(tmp_path / "d")])
    overrides = cli._overrides(args)
    assert overrides["lake.root"] == f"{tmp_path}/d/lake"
    assert overrides["tracking.tracking_uri"] == f"sqlite:///{tmp_path}/d/mlflow.db"


@pytest.mark.parametrize("entry", [["-m", "sf_spark"], [str(PROJECT / "jobs" / "score.py")]])
def test_module_and_job_entry_points_show_help(entry):
    result = subprocess.run([sys.executable, *entry, "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_run_stops_after_ingest_on_rejected_input_unless_told(monkeypatch):
    called = []
    monkeypatch.setattr(pipeline, "step_ingest", lambda ctx, raw: {"problems": ["rejected a.csv: truncated gzip"]})
    for step in ("features", "train", "score"):
        monkeypatch.setattr(pipeline, f"step_{step}", lambda *a, s=step, **k: called.append(s) or {"problems": []})
    stopped = pipeline._chain(None, "raw", None)
    assert called == [] and stopped["stopped"].startswith("ingest rejected input (1 problems)")
    assert pipeline.exit_status(stopped) == pipeline.STOPPED
    partial = pipeline._chain(None, "raw", None, allow_partial=True)
    assert called == ["features", "train", "score"] and pipeline.exit_status(partial) == pipeline.PROBLEMS


def test_the_closing_summary_says_where_outputs_are_and_the_months_headline():
    settings = load_config(
        None, {"lake.root": "/lake", "paths.reports": "/reports", "tracking.tracking_uri": "sqlite:///m"}
    )
    args = cli.build_parser().parse_args(["run", "--raw", "/raw"])
    score = {
        "periode": "2024-03",
        "firms": 12000,
        "strong_signals": 40,
        "alerts": {"12_red": 150, "12_orange": 420},
        "new_alerts": {12: 61},
        "news": {12: 75},
        "agents": {"rated": 1234, "lists": "2023-03..2024-02", "useful_share": 0.614},
        "drift_warnings": ["dette_sociale_ratio"],
        "exports": {"folder": "/exports/2024-03", "files": 28},
        "problems": [],
    }
    summary = {"ingest": {"seconds": 10.0, "problems": []}, "score": {**score, "seconds": 5.4}}
    where = cli.outputs(args, settings, summary)
    summary = {**summary, "exit_status": 3, "problems": ["drift: 1 feature"], "outputs": where}
    assert cli.closing("run", summary) == [
        "sf-spark run: finished in 15 s, exit 3 (the command completed, but input was rejected or a check failed "
        "(see `problems`))",
        "  Delta lake       /lake",
        "  MLflow store     sqlite:///m",
        "  reports          /reports",
        "  agents' lists    /exports/2024-03 (28 files)",
        "  2024-03: 12,000 firms scored, 40 in proceedings",
        "    12 months: red 150, orange 420 (61 first alerts, 75 news)",
        "    agents: 1,234 ratings of the lists 2023-03..2024-02, 61% rated useful",
        "    drift: 1 feature shifted (dette_sociale_ratio)",
        "  problem: drift: 1 feature",
    ]


def test_a_silent_step_is_said_alive_every_heartbeat(caplog):
    import threading
    import time

    from sf_spark import progress

    stop = threading.Event()
    with caplog.at_level("INFO", logger="sf_spark.progress"):
        progress.say("train: production fit with outcomes known until 2023-06 (gbt)")
        beat = threading.Thread(target=progress._beat, args=(0.2, stop), daemon=True)
        beat.start()
        time.sleep(0.5)
        progress.say("  h=12: trained")
        time.sleep(0.1)
        stop.set()
        beat.join(timeout=2)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("train: production fit")
    beats = lines[1 : lines.index("  h=12: trained")]
    assert len(beats) == 2
    assert all(b.startswith("  (working: ") and "since 'train: production fit with" in b for b in beats)
    assert lines[-1] == "  h=12: trained"
