"""A step through `spark-submit.sh` in local mode, as a scheduler runs it: the package is imported from the
zip the wrapper ships (its data files included), the configuration fills in what the submitter left unset,
the run is quiet and ends with its summary. (`make test-cluster` runs the whole monthly run on a standalone
cluster, with the native writer, against local mode.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyspark
import pytest
import yaml

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
NOTICES = ("NativeCodeLoader", "resolves to a loopback address", "Setting default log level", "Truncated the string")


def test_the_feature_step_runs_through_spark_submit_from_the_shipped_zip(world_features, world_settings, tmp_path):
    lake = tmp_path / "lake"
    shutil.copytree(Path(world_features.root) / "bronze", lake / "bronze")  # a lake ingested elsewhere
    conf = world_settings.model_dump(mode="json")
    conf["lake"]["root"] = str(lake)
    conf["spark"].update(shuffle_partitions=2, ui_enabled=False, extra={"spark.default.parallelism": "2"})
    path = tmp_path / "conf.yaml"
    path.write_text(yaml.safe_dump(conf, sort_keys=False), encoding="utf-8")
    env = {**os.environ, "SPARK_HOME": str(Path(pyspark.__file__).parent), "PYSPARK_PYTHON": sys.executable}
    env = {k: v for k, v in env.items() if not k.startswith("PYSPARK_GATEWAY")}
    result = subprocess.run(
        [str(ROOT / "spark-submit.sh"), "--master", "local[2]", "--driver-memory", "2g",
         str(ROOT / "jobs" / "features.py"), "--conf", str(path), "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(result.stdout[result.stdout.index("\n{") :])
    assert summary["exit_status"] == 0 and summary["outputs"] == {"Delta lake": str(lake)}
    assert summary["rows"] == world_features.read("gold/features").count()
    assert [n for n in NOTICES if n in result.stderr + result.stdout] == []
