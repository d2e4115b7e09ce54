"""End to end on a real standalone cluster: a master and two workers of the installed Spark, on loopback.

The monthly run as the schedule runs it (`run`: ingest, features, train while there is no champion,
score; one application), twice on the same deliveries (the second ingests nothing new, rebuilds the
features and scores again with the champion), goes through `spark-submit.sh` on the cluster with the
native delta-spark writer (the JARs of `make jars` on `--jars`, the executors writing the tables' files),
then in local mode with the delta-rs writer on
the same generated world with the same configuration (same seed, same parallelism): both runs must
write the same features and scores. Without the JARs the cluster runs on delta-rs too. Every process
the fixture starts is stopped by its PID, even when the test fails.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pyspark
import pytest
import yaml
from pandas.testing import assert_frame_equal

from sf_spark.config import folder_settings

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"
PERIOD = "2020-12"  # the last month whose 12-month label is known in the world below
WORLD = {"firms": 300, "start": "2019-01", "end": "2021-12", "seed": 7}
SCORE_KEY = ["siren", "periode", "horizon"]
STARTUP_SECONDS = 120
JARS = sorted((ROOT / ".cache" / "jars").glob("*.jar"))
CLUSTER_WRITER = "native" if any(j.name.startswith("delta-spark_") for j in JARS) else "delta-rs"
DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog"
STEP_SECONDS = 900


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(errors="replace").splitlines() if path.exists() else ["(no log)"]
    return f"--- {path.name}\n" + "\n".join(text[-lines:])


def spark_env() -> dict[str, str]:
    """The installed pyspark as SPARK_HOME, loopback only, this interpreter for every Python worker."""
    return {
        **os.environ,
        "SPARK_HOME": str(Path(pyspark.__file__).parent),
        "SPARK_LOCAL_IP": LOOPBACK,
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
    }


def stop(processes: list[subprocess.Popen]) -> None:
    """Terminate each process by its PID (last started first), wait, kill what is left."""
    for process in reversed(processes):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in reversed(processes):
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def master_state(ui_port: int) -> dict:
    with urllib.request.urlopen(f"http://{LOOPBACK}:{ui_port}/json/", timeout=5) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def standalone_cluster(tmp_path_factory):
    """A standalone master and two workers (1 core, 2 GB each) on loopback; yields the master URL, its web
    UI port and the workers' work folders."""
    root = tmp_path_factory.mktemp("cluster")
    spark_class = [str(Path(pyspark.__file__).parent / "bin" / "spark-class")]
    master_port, ui_port = free_port(), free_port()
    commands = {
        "master": [
            *spark_class,
            "org.apache.spark.deploy.master.Master",
            "--host",
            LOOPBACK,
            "--port",
            str(master_port),
            "--webui-port",
            str(ui_port),
        ]
    }
    work_dirs = []
    for n in (1, 2):
        work_dirs.append(root / f"worker-{n}")
        commands[f"worker-{n}"] = [
            *spark_class,
            "org.apache.spark.deploy.worker.Worker",
            f"spark://{LOOPBACK}:{master_port}",
            "--host",
            LOOPBACK,
            "--cores",
            "1",
            "--memory",
            "2g",
            "--port",
            str(free_port()),
            "--webui-port",
            str(free_port()),
            "--work-dir",
            str(work_dirs[-1]),
        ]
    processes: list[subprocess.Popen] = []
    logs = {name: root / f"{name}.log" for name in commands}
    try:
        for name, command in commands.items():
            with logs[name].open("w") as log:
                processes.append(subprocess.Popen(command, env=spark_env(), stdout=log, stderr=subprocess.STDOUT))
        deadline, alive = time.monotonic() + STARTUP_SECONDS, 0
        while alive < 2:
            dead = [name for name, p in zip(commands, processes, strict=True) if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                why = f"{', '.join(dead)} exited" if dead else f"{alive} of 2 workers alive after {STARTUP_SECONDS} s"
                pytest.fail(f"standalone cluster did not start: {why}\n" + "\n".join(tail(p) for p in logs.values()))
            time.sleep(1)
            try:
                alive = sum(w["state"] == "ALIVE" for w in master_state(ui_port)["workers"])
            except OSError:
                alive = 0
        yield {"url": master_state(ui_port)["url"], "ui_port": ui_port, "work_dirs": work_dirs}
    finally:
        stop(processes)


def write_conf(folder: Path, world: Path, writer: str) -> Path:
    """The run's configuration: its own lake, writer, MLflow store and outputs; everything else identical."""
    conf = {
        "spark": {
            "app_name": "sf-spark-cluster-test",
            "shuffle_partitions": 2,
            "ui_enabled": False,
            "log_level": "WARN",
            "extra": {"spark.default.parallelism": "2"},
        },
        "models": {
            "engine": "gbt",  # its row sampling, seeded per partition, is shown identical on both masters
            "horizons": [12],
            "params": {"trees": 20, "max_depth": 3, "min_instances": 10, "subsample": 0.8},
            "splits": {"calibration_months": 3, "min_train_months": 3, "warm_up_months": 0},
            "backtest": {"origins": 0},  # the production fit only: the cluster runs what local mode runs
            "calibration": {"min_block_positives": 3},
            "explain_sample_rows": 0,
            "orange_beta": 8.0,
        },  # a weak model: a long orange list
        "scoring": {"export_horizon": 12, "drift_reference_horizon": 12, "export_profiles": ["score_only"]},
        "seed": 42,
    }
    layout = folder_settings(folder, world / "raw", world / "truth")
    layout["lake"]["writer"] = writer
    layout["tracking"]["experiment"] = "cluster-test"
    conf = {**conf, **layout}
    folder.mkdir(parents=True)
    path = folder / "conf.yaml"
    path.write_text(yaml.safe_dump(conf, sort_keys=False))
    return path


def submit(master: str, conf: Path, folder: Path, jobs: list[tuple[str, list[str]]], writer: str) -> dict[str, float]:
    """Each job of `jobs` ((job, its arguments), in order) through spark-submit.sh; seconds per job.
    Event logs go to `folder/events`, each job's output to `folder/<job>.log` (`<job>-2.log` the second
    time). With the native writer the Delta JARs and SQL extension are passed as on a real cluster."""
    events = folder / "events"
    events.mkdir()
    options = [
        "--master",
        master,
        "--driver-memory",
        "2g",
        "--executor-memory",
        "1g",
        "--conf",
        f"spark.driver.host={LOOPBACK}",
        "--conf",
        f"spark.driver.bindAddress={LOOPBACK}",
        "--conf",
        "spark.locality.wait=0s",  # two 1-core executors on one machine: never wait
        "--conf",
        "spark.eventLog.enabled=true",
        "--conf",
        f"spark.eventLog.dir=file://{events}",
        "--conf",
        "spark.eventLog.compress=false",
        "--conf",
        "spark.eventLog.rolling.enabled=false",
    ]
    if writer == "native":
        options += [
            "--jars",
            ",".join(str(j) for j in JARS),
            "--conf",
            "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension",
            "--conf",
            f"spark.sql.catalog.spark_catalog={DELTA_CATALOG}",
        ]
    seconds: dict[str, float] = {}
    for step, arguments in jobs:
        name = step if step not in seconds else f"{step}-2"
        log = folder / f"{name}.log"
        started = time.perf_counter()
        with log.open("w") as out:
            result = subprocess.run(
                [
                    str(ROOT / "spark-submit.sh"),
                    *options,
                    str(ROOT / "jobs" / f"{step}.py"),
                    "--conf",
                    str(conf),
                    *arguments,
                ],
                cwd=folder,
                env=spark_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=STEP_SECONDS,
            )
        seconds[name] = round(time.perf_counter() - started, 1)
        # 3: completed, with problems of the data (e.g. drift on this small world), not of the cluster
        assert result.returncode in (0, 3), f"{step} failed on {master} (exit {result.returncode})\n{tail(log, 60)}"
    return seconds


def event_log(events: Path) -> list[dict]:
    """Every application of a run: its Spark properties and the executors its tasks ran on."""
    apps = []
    for path in sorted(events.iterdir()):
        properties, executors = {}, set()
        for line in path.read_text().split("\n"):  # one event a line (not splitlines: plans hold \x85)
            if not line:
                continue
            event = json.loads(line)
            if event["Event"] == "SparkListenerEnvironmentUpdate":
                properties = dict(event["Spark Properties"])
            elif event["Event"] == "SparkListenerTaskEnd":
                executors.add(event["Task Info"]["Executor ID"])
        apps.append({"properties": properties, "executors": executors})
    return apps


def features(lake: Path) -> pd.DataFrame:
    from deltalake import DeltaTable

    table = DeltaTable(str(lake / "gold" / "features")).to_pandas()
    return table.sort_values(["siren", "periode"], ignore_index=True)


def scores(lake: Path) -> list[dict]:
    """gold/scores rows in key order, without the time they were written."""
    from deltalake import DeltaTable

    table = DeltaTable(str(lake / "gold" / "scores")).to_pyarrow_table().drop_columns(["scored_at"])
    return table.sort_by([(c, "ascending") for c in SCORE_KEY]).to_pylist()


def differences(cluster: list[dict], local: list[dict]) -> dict[str, int]:
    """Rows that differ, per column (rows matched on the key, which must be the same in both runs)."""
    assert [[r[c] for c in SCORE_KEY] for r in cluster] == [[r[c] for c in SCORE_KEY] for r in local]
    counts: dict[str, int] = {}
    for ours, theirs in zip(cluster, local, strict=True):
        for column in ours:
            if ours[column] != theirs[column]:
                counts[column] = counts.get(column, 0) + 1
    return counts


def test_the_monthly_run_on_a_standalone_cluster_scores_like_local_mode(standalone_cluster, tmp_path):
    from sf_spark.generate import GeneratorParams, generate_world

    timings: dict[str, float] = {}
    started = time.perf_counter()
    world = tmp_path / "world"
    generate_world(world / "raw", world / "truth", GeneratorParams(**WORLD))
    timings["generate"] = round(time.perf_counter() - started, 1)
    on_cluster, local = tmp_path / "cluster", tmp_path / "local"
    raw, period = ["--raw", str(world / "raw")], ["--period", PERIOD]
    # On the cluster, `run` twice, one application each (nothing passes from one to the next but the lake
    # and MLflow); the local reference in one application, `run`.
    cluster_steps = submit(
        standalone_cluster["url"],
        write_conf(on_cluster, world, CLUSTER_WRITER),
        on_cluster,
        [("run", [*raw, *period]), ("run", [*raw, *period])],
        CLUSTER_WRITER,
    )
    local_conf = write_conf(local, world, "delta-rs")
    local_steps = submit("local[2]", local_conf, local, [("run", [*raw, *period])], "delta-rs")
    timings.update({f"cluster_{k}": v for k, v in cluster_steps.items()})
    timings.update({f"local_{k}": v for k, v in local_steps.items()})
    print(f"\ncluster test timings (s), cluster writer {CLUSTER_WRITER}: {timings}")

    # The cluster did the work: two finished applications, every task on the two executors.
    finished = [
        app for app in master_state(standalone_cluster["ui_port"])["completedapps"] if app["state"] == "FINISHED"
    ]
    assert len(finished) == 2
    apps = event_log(on_cluster / "events")
    assert len(apps) == 2
    assert all(app["properties"]["spark.master"] == standalone_cluster["url"] for app in apps)
    assert all(app["executors"] and "driver" not in app["executors"] for app in apps)
    assert set().union(*(app["executors"] for app in apps)) == {"0", "1"}
    for work_dir in standalone_cluster["work_dirs"]:
        assert list(work_dir.glob("app-*/*/sf_spark.zip")), f"the package was not shipped to {work_dir}"
    # The configuration filled in what the submitter left unset, in both runs alike.
    for app in apps + event_log(local / "events"):
        assert app["properties"]["spark.sql.shuffle.partitions"] == "2"
        assert app["properties"]["spark.default.parallelism"] == "2"
    # Spark model files went through the shared lake on the cluster, and nothing was left there.
    assert (on_cluster / "lake" / "_tmp" / "mlflow").is_dir()
    assert not any((on_cluster / "lake" / "_tmp" / "mlflow").iterdir())
    assert not (local / "lake" / "_tmp").exists()
    # Every table of the cluster's lake reads with deltalake; its last commit is the cluster writer's.
    from sf_spark.lake.maintain import last_commit_engines

    engines = last_commit_engines(str(on_cluster / "lake"))
    assert {"bronze/_ingest_log", "silver/firms", "gold/features", "gold/scores"} <= set(engines)
    expected = "Delta-Lake/" if CLUSTER_WRITER == "native" else "delta-rs"
    assert all(expected in engine for engine in engines.values()), engines

    # Same rows in, same scores out. Exactly: gold/features files hold their rows in siren order, so
    # both runs read the same rows in the same order into the same 2 partitions, GBT's row sampling
    # (seeded per partition) draws the same rows, and a sum over 2 partitions does not depend on the
    # order the executors' results arrive in. Neither does anything after the model.
    cluster_features = features(on_cluster / "lake")
    assert_frame_equal(cluster_features, features(local / "lake"), check_exact=True)
    cluster_scores, local_scores = scores(on_cluster / "lake"), scores(local / "lake")
    # Every firm of the month not already in proceedings, at the one horizon trained.
    in_month = pd.to_datetime(cluster_features["periode"]) == pd.Timestamp(f"{PERIOD}-01")
    month = cluster_features[in_month & ~cluster_features["in_proceedings"]]
    assert len(month) > 100
    assert sorted((r["siren"], r["horizon"]) for r in cluster_scores) == sorted((s, 12) for s in month["siren"])
    assert any(row["alert_level"] != "green" and row["top_features"] for row in cluster_scores)
    # The rows scored name the gold/features version they read: the cluster rebuilt features once more.
    assert {r["data_version"] for r in cluster_scores} == {r["data_version"] + 1 for r in local_scores}
    assert differences(cluster_scores, local_scores) == {"data_version": len(local_scores)}
