"""The same monthly run on both Delta writers, then `maintain`: timings, equality, file counts, firm reads.

    .venv/bin/python -m benchmarks.bench_writers --firms 1000      # needs the JARs of `make jars`

One generated world; for each writer (delta-rs, then native) in a lake of its own: `sf-spark run`
(ingest, features, train, score), then `features` and `score` again as the next month's schedule
would, each step a process of its own (`python -m sf_spark`, local[2]) timed from the outside. Then:
- the scores of both lakes, row for row except `scored_at`, and the features, exactly;
- what wrote the last commit of every table of each lake (read whole with `deltalake`);
- on each lake, one firm's history in `gold/features` and `gold/scores` before and after
  `sf-spark maintain`: the files a reader with file skipping opens (deltalake's pyarrow dataset,
  filtered on `siren`) and the best of 5 reads of that history, in seconds.
Last, in one Spark session, the rewrite of one month of `gold/features` in place against the
rewrite of the whole table, per writer. Results go to `benchmarks/results/writers.json`. Run it alone on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.dataset as ds
import yaml
from deltalake import DeltaTable

from sf_spark.config import folder_settings
from sf_spark.generate import GeneratorParams, generate_world
from sf_spark.lake.maintain import last_commit_engines

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
WRITERS = ("delta-rs", "native")
FIRM_TABLES = ("gold/features", "gold/scores")
SCORE_KEY = ["siren", "periode", "horizon"]


def conf_for(folder: Path, world: Path, writer: str) -> Path:
    """A small, quick configuration (one horizon, 40 trees, no backtest): the writers are compared, not the models."""
    conf = {
        "spark": {"master": "local[2]", "shuffle_partitions": 8, "ui_enabled": False, "log_level": "ERROR"},
        "models": {
            "engine": "gbt",
            "horizons": [12],
            "params": {"trees": 40, "max_depth": 4, "min_instances": 50, "subsample": 0.8},
            "splits": {"calibration_months": 6, "min_train_months": 6, "warm_up_months": 6},
            "backtest": {"origins": 0},
            "calibration": {"min_block_positives": 5},
            "explain_sample_rows": 0,
        },
        "scoring": {"export_horizon": 12, "drift_reference_horizon": 12, "export_profiles": ["score_only"]},
        "seed": 42,
    }
    layout = folder_settings(folder, world / "raw", world / "truth")
    layout["lake"]["writer"] = writer
    layout["tracking"]["experiment"] = "writers"
    conf = {**conf, **layout}
    folder.mkdir(parents=True)
    path = folder / "conf.yaml"
    path.write_text(yaml.safe_dump(conf, sort_keys=False))
    return path


def step(conf: Path, command: str, *arguments: str) -> float:
    """One `sf-spark` command in its own process; its wall seconds. Exit 3 (data problems) is accepted."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "sf_spark", command, "--conf", str(conf), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    seconds = round(time.perf_counter() - started, 1)
    if result.returncode not in (0, 3):
        raise SystemExit(f"{command} failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    print(f"  {command}: {seconds} s (exit {result.returncode})", flush=True)
    return seconds


def firm_read(lake: Path, table: str, siren: str) -> dict[str, float | int]:
    """Files of the table, files opened to read one firm, rows read, best of 5 reads."""
    dataset = DeltaTable(str(lake / table)).to_pyarrow_dataset()
    where = pc.field("siren") == siren
    opened = len(list(dataset.get_fragments(filter=where)))
    best, rows = float("inf"), 0
    for _ in range(5):
        started = time.perf_counter()
        rows = dataset.to_table(filter=where).num_rows
        best = min(best, time.perf_counter() - started)
    return {
        "files": len(list(dataset.get_fragments())),
        "files_opened": opened,
        "rows": rows,
        "read_seconds": round(best, 4),
    }


def month_rewrites(lakes: dict[str, Path], period: str) -> dict[str, dict[str, float]]:
    """Per writer: seconds to rewrite one month of `gold/features` in place (dynamic partition
    overwrite, delta-spark's `replaceWhere` semantics) against rewriting the whole table, best of 3."""
    from pyspark.sql import functions as F

    from sf_spark.config import SparkSettings
    from sf_spark.lake import Lake
    from sf_spark.session import get_spark

    spark = get_spark(SparkSettings(master="local[2]", shuffle_partitions=8, ui_enabled=False, log_level="ERROR"))
    out = {}
    for writer, root in lakes.items():
        lake = Lake(spark, str(root), writer)
        whole = lake.read("gold/features").localCheckpoint()
        month = whole.where(F.col("periode") == F.to_date(F.lit(f"{period}-01"))).localCheckpoint()
        timings = {}
        for name, data, write in (
            ("one_month", month, lake.overwrite_partitions),
            ("whole_table", whole, lake.overwrite),
        ):
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                write(data, "gold/features", ["periode"])
                best = min(best, time.perf_counter() - started)
            timings[f"{name}_seconds"] = round(best, 2)
        timings["ratio"] = round(timings["one_month_seconds"] / timings["whole_table_seconds"], 3)
        out[writer] = timings
        print(f"  {writer}: month rewrite {timings}", flush=True)
    return out


def rows_of(lake: Path, table: str, drop: list[str], key: list[str]) -> list[dict]:
    data = DeltaTable(str(lake / table)).to_pyarrow_table()
    return ds.dataset(data.drop_columns(drop)).to_table().sort_by([(c, "ascending") for c in key]).to_pylist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=1000)
    parser.add_argument("--start", default="2019-01")
    parser.add_argument("--end", default="2021-12")
    parser.add_argument("--period", default="2020-12", help="the month scored")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", help="where the world and lakes go (a temporary folder by default)")
    args = parser.parse_args()
    base = Path(args.workdir or tempfile.mkdtemp(prefix="sf-writers-"))
    world = base / "world"
    generate_world(
        world / "raw",
        world / "truth",
        GeneratorParams(firms=args.firms, start=args.start, end=args.end, seed=args.seed),
    )
    results: dict = {"world": vars(args) | {"workdir": str(base)}, "writers": {}}
    lakes = {}
    for writer in WRITERS:
        print(f"{writer}:", flush=True)
        conf = conf_for(base / writer, world, writer)
        lakes[writer] = base / writer / "lake"
        timings = {
            "run": step(conf, "run", "--raw", str(world / "raw"), "--period", args.period),
            "features_again": step(conf, "features"),
            "score_again": step(conf, "score", "--period", args.period),
        }
        timings["total"] = round(sum(timings.values()), 1)
        results["writers"][writer] = {"seconds": timings, "last_commit": last_commit_engines(str(lakes[writer]))}
    results["scores_equal"] = rows_of(lakes["native"], "gold/scores", ["scored_at"], SCORE_KEY) == rows_of(
        lakes["delta-rs"], "gold/scores", ["scored_at"], SCORE_KEY
    )
    results["features_equal"] = rows_of(lakes["native"], "gold/features", [], ["siren", "periode"]) == rows_of(
        lakes["delta-rs"], "gold/features", [], ["siren", "periode"]
    )
    siren = rows_of(lakes["delta-rs"], "gold/scores", ["scored_at"], SCORE_KEY)[0]["siren"]
    for writer in WRITERS:
        conf = base / writer / "conf.yaml"
        before = {table: firm_read(lakes[writer], table, siren) for table in FIRM_TABLES}
        seconds = step(conf, "maintain")
        after = {table: firm_read(lakes[writer], table, siren) for table in FIRM_TABLES}
        results["writers"][writer]["maintain"] = {"seconds": seconds, "firm": siren, "before": before, "after": after}
    results["month_rewrite"] = month_rewrites(lakes, args.period)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "writers.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
