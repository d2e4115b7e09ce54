"""Time to score, explain and list one month, on one or more lakes; extrapolated to a national month.

Run under the shared Spark lock, e.g.
`flock /tmp/sf-spark.lock nice -n 5 .venv/bin/python benchmarks/bench_score.py --tracking-uri sqlite:///work/mlflow.db
 --lake work/lake --lake /tmp/bench/firms_100000/lake --period 2023-06`.
The champions of the given MLflow store score every lake (scoring cost depends on the firms scored,
not on where the model was trained). Each lake's `gold/scores`, drift and lists are written
inside a temporary work folder for the lists; the lake itself receives the month's scores.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from sf_spark.config import Settings, SparkSettings
from sf_spark.lake import Lake
from sf_spark.scoring import score_period
from sf_spark.session import get_spark

NATIONAL_FIRMS = 300_000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", action="append", required=True)
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--artifact-location", default="work/mlruns")
    parser.add_argument("--period", required=True)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    spark = get_spark(
        SparkSettings(master="local[2]", shuffle_partitions=8, ui_enabled=False, log_level="ERROR", driver_memory="10g")
    )
    results = []
    try:
        for root in args.lake:
            with tempfile.TemporaryDirectory(prefix="bench_score_") as work:
                settings = Settings.model_validate(
                    {
                        "lake": {"root": root},
                        "paths": {"work_dir": work},
                        "tracking": {"tracking_uri": args.tracking_uri, "artifact_location": args.artifact_location},
                    }
                )
                started = time.perf_counter()
                summary = score_period(Lake(spark, root), settings, args.period)
                wall = time.perf_counter() - started
            alerted = sum(v for k, v in summary["alerts"].items())
            results.append({"lake": root, "firms": summary["firms"], "alerted_rows": alerted, "wall_s": round(wall, 1)})
    finally:
        spark.stop()
    print(f"\n{'lake':<45}{'firms':>10}{'alerted':>10}{'wall s':>10}{'ms/firm':>10}")
    for r in results:
        print(
            f"{r['lake']:<45}{r['firms']:>10,}{r['alerted_rows']:>10,}{r['wall_s']:>10.1f}"
            f"{1000 * r['wall_s'] / max(r['firms'], 1):>10.2f}"
        )
    if len(results) >= 2:
        small, large = sorted(results, key=lambda r: r["firms"])[:: len(results) - 1]
        slope = (large["wall_s"] - small["wall_s"]) / max(large["firms"] - small["firms"], 1)
        national = large["wall_s"] + slope * (NATIONAL_FIRMS - large["firms"])
        print(
            f"linear extrapolation to {NATIONAL_FIRMS:,} firms on this machine: {national:.0f} s "
            f"(fixed cost {small['wall_s'] - slope * small['firms']:.0f} s + {1000 * slope:.2f} ms per firm)"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
