"""Ingest throughput: generate a world, ingest it into a fresh lake, print rows/s per source.

Run under the shared Spark lock, e.g.
`flock /tmp/sf-spark.lock nice -n 5 .venv/bin/python benchmarks/bench_ingest.py --firms 10000`.
Rows are delivered lines (a headcount line carries many months); seconds are each source's share
of the run (driver scan + Spark read, parse and commits).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from sf_spark.config import SparkSettings
from sf_spark.generate import GeneratorParams, generate_world
from sf_spark.ingest import ingest_raw
from sf_spark.lake import Lake
from sf_spark.session import get_spark


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, nargs="+", default=[10_000])
    parser.add_argument("--start", default="2016-01")
    parser.add_argument("--end", default="2023-12")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--workdir", default=None, help="kept after the run when given")
    args = parser.parse_args(argv)
    spark = get_spark(SparkSettings(master=args.master, shuffle_partitions=4, ui_enabled=False, log_level="ERROR"))
    try:
        for firms in args.firms:
            work = Path(args.workdir or tempfile.mkdtemp(prefix="bench_ingest_")) / f"firms_{firms}"
            shutil.rmtree(work, ignore_errors=True)
            started = time.perf_counter()
            world = generate_world(
                work / "raw",
                work / "truth",
                GeneratorParams(firms=firms, start=args.start, end=args.end, seed=args.seed),
            )
            generated = time.perf_counter() - started
            summary = ingest_raw(Lake(spark, str(work / "lake")), str(work / "raw"))
            files = sum(world["files"].values())
            print(f"\nfirms={firms}: {files} files generated in {generated:.1f} s, ingested in {summary['seconds']} s")
            print(f"{'source':<22}{'rows':>12}{'seconds':>10}{'rows/s':>12}")
            total_rows = 0
            for name, stats in summary["sources"].items():
                total_rows += stats["rows_read"]
                rate = stats["rows_read"] / stats["seconds"] if stats["seconds"] else float("nan")
                print(f"{name:<22}{stats['rows_read']:>12}{stats['seconds']:>10.1f}{rate:>12.0f}")
            print(f"{'all':<22}{total_rows:>12}{summary['seconds']:>10.1f}{total_rows / summary['seconds']:>12.0f}")
            if args.workdir is None:
                shutil.rmtree(work.parent, ignore_errors=True)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
