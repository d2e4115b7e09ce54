"""The notebooks run headlessly, every cell, on a small scored world; they are kept without outputs.

The world is the session's generated one (500 firms, a 12-month champion), scored on its last two months; a
YAML configuration naming it reaches the notebooks through `SF_SPARK_CONF`. Each notebook runs in a kernel of
this very interpreter (the .venv's), started from `notebooks/` like a reader's, and a failing cell fails the test.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from pyspark.sql import functions as F

from sf_spark.months import month_number, month_of
from sf_spark.scoring import score_period

FOLDER = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
KERNEL = "sf-spark-tests"
PARAMETERS = ("SF_SPARK_CONF", "SF_SPARK_SIREN", "SF_SPARK_PERIOD", "SF_SPARK_PROFILE", "SF_SPARK_WINDOW")


def test_there_are_notebooks_and_they_are_kept_without_outputs():
    assert [p.name for p in NOTEBOOKS] == [
        "01_firm_file.ipynb",
        "02_model_report.ipynb",
        "03_monthly_alerts.ipynb",
        "04_agents_feedback.ipynb",
    ]
    for path in NOTEBOOKS:
        cells = nbformat.read(path, as_version=4).cells
        code = [c for c in cells if c.cell_type == "code"]
        assert code and all(not c.outputs and c.execution_count is None for c in code), path.name


@pytest.fixture(scope="module")
def world_conf(spark, world_champions, world_settings, tmp_path_factory) -> Path:
    """The generated world scored on its last two months, and its configuration as a YAML file."""
    last = world_champions.read("gold/features").agg(F.max("periode")).first()[0]
    for month in (month_of(month_number(last) - 1), last):
        score_period(world_champions, world_settings, f"{month:%Y-%m}")
    tree = world_settings.model_dump(mode="json")
    tree["spark"].update(master="local[2]", driver_memory="1g", shuffle_partitions=2, ui_enabled=False,
                         log_level="ERROR")
    path = tmp_path_factory.mktemp("notebooks") / "world.yaml"
    path.write_text(yaml.safe_dump(tree, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def kernels(tmp_path_factory) -> Path:
    """A kernel spec running this interpreter, whatever kernels the machine or the user has installed."""
    folder = tmp_path_factory.mktemp("kernels")
    (folder / KERNEL).mkdir()
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "sf-spark tests", "language": "python"}
    (folder / KERNEL / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return folder


def run(path: Path, kernels: Path, **parameters: str) -> nbformat.NotebookNode:
    """Execute a notebook from `notebooks/` with these parameters (environment variables) and no others."""
    env = {k: v for k, v in os.environ.items() if k not in PARAMETERS and not k.startswith("PYSPARK_GATEWAY")}
    notebook = nbformat.read(path, as_version=4)
    manager = KernelManager(kernel_name=KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    client = NotebookClient(notebook, km=manager, timeout=600, resources={"metadata": {"path": str(FOLDER)}})
    client.execute(env={**env, **parameters})
    return notebook


def images(notebook: nbformat.NotebookNode) -> int:
    return sum("image/png" in o.get("data", {}) for c in notebook.cells for o in c.get("outputs", []))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_a_small_world(path, world_conf, kernels):
    executed = run(path, kernels, SF_SPARK_CONF=str(world_conf))
    assert images(executed) >= 3


@pytest.mark.slow
def test_the_firm_file_of_a_firm_not_alerted_and_a_restricted_profile(world_champions, world_conf, kernels):
    scores = world_champions.read("gold/scores")
    last = scores.agg(F.max("periode")).first()[0]
    green = scores.where((F.col("periode") == F.lit(last)) & (F.col("alert_level") == "green")).orderBy("siren")
    firm = green.first()
    if firm is None:  # the small world's weak model may alert every firm of its last month
        pytest.skip(f"no firm is green in {last:%Y-%m} on the small world: nothing to show unalerted")
    executed = run(FOLDER / "01_firm_file.ipynb", kernels, SF_SPARK_CONF=str(world_conf),
                   SF_SPARK_SIREN=firm["siren"], SF_SPARK_PROFILE="financial")
    text = json.dumps([c.get("outputs", []) for c in executed.cells])
    assert "computed now by today's champion" in text and "hidden from this profile" in text
