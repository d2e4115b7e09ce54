"""Training time per engine on an existing lake (no tuning), with the test figures of each run.

Run under the shared Spark lock, e.g.
`flock /tmp/sf-spark.lock nice -n 5 .venv/bin/python benchmarks/bench_train.py --lake work/lake --truth work/truth`.
Each engine trains every configured horizon into a throwaway MLflow store; the wall time covers
fit, calibration, evaluation, report and registration.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import psutil

from sf_spark.config import Settings, SparkSettings
from sf_spark.lake import Lake
from sf_spark.models.run import train_models
from sf_spark.session import get_spark


def _cpu_seconds() -> float:
    me = psutil.Process()
    processes = [me, *me.children(recursive=True)]
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", required=True)
    parser.add_argument("--truth", default=None)
    parser.add_argument("--engines", nargs="+", default=["gbt", "xgboost"])
    parser.add_argument("--horizons", default="12,18,24")
    parser.add_argument("--json", default=None, help="write the figures here")
    args = parser.parse_args(argv)
    spark = get_spark(
        SparkSettings(master="local[2]", shuffle_partitions=8, ui_enabled=False, log_level="ERROR", driver_memory="10g")
    )
    lake = Lake(spark, args.lake)
    rows = lake.read("gold/features").count()
    results = []
    try:
        for engine in args.engines:
            with tempfile.TemporaryDirectory(prefix="bench_train_") as work:
                settings = Settings.model_validate(
                    {
                        "lake": {"root": args.lake},
                        "paths": {"work_dir": work, "truth": args.truth, "reports": f"{work}/reports"},
                        "tracking": {
                            "tracking_uri": f"sqlite:///{work}/mlflow.db",
                            "artifact_location": f"{work}/mlruns",
                        },
                        "models": {
                            "engine": engine,
                            "horizons": [int(h) for h in args.horizons.split(",")],
                            "explain_sample_rows": 1000,
                        },
                    }
                )
                started, cpu = time.perf_counter(), _cpu_seconds()
                summary = train_models(lake, settings)
                wall, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
            aucpr = {h: round(v["metrics"].get("test_aucpr", float("nan")), 4) for h, v in summary["horizons"].items()}
            results.append(
                {
                    "engine": engine,
                    "gold_rows": rows,
                    "wall_s": round(wall, 1),
                    "cpu_s": round(cpu, 1),
                    "test_aucpr": aucpr,
                }
            )
    finally:
        spark.stop()
    print(f"\n{'engine':<10}{'gold rows':>12}{'wall s':>10}{'CPU s':>10}  test AUCPR per horizon")
    for r in results:
        print(f"{r['engine']:<10}{r['gold_rows']:>12,}{r['wall_s']:>10.1f}{r['cpu_s']:>10.1f}  {r['test_aucpr']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
