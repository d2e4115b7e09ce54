"""Benchmark of `sf-spark generate`: rows/s and peak memory per tier, extrapolated to the national world.

Each tier runs in its own process (so its peak resident memory is its own), writes into a temporary
folder that is deleted afterwards, and simulates `--years` years. The national time is extrapolated
linearly in firms from the tiers (300,000 in-scope-sized firms by default).

    python benchmarks/bench_generate.py --firms 10000 100000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sf_spark.generate import GeneratorParams, generate_world


def run_tier(firms: int, years: int, seed: int) -> dict:
    """Generate one world in a temporary folder; time, rows, peak memory (MiB) of this process."""
    params = GeneratorParams(firms=firms, start=f"{2024 - years}-01", end="2023-12", seed=seed)
    with tempfile.TemporaryDirectory(prefix="bench_generate_") as folder:
        began = time.perf_counter()
        summary = generate_world(Path(folder) / "RAW", Path(folder) / "TRUTH", params)
        seconds = time.perf_counter() - began
        size = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
    rows = sum(summary["rows"].values())
    return {
        "firms": firms,
        "years": years,
        "seconds": round(seconds, 1),
        "rows": rows,
        "rows_per_second": round(rows / seconds),
        "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "output_mib": round(size / 2**20),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--national", type=int, default=300_000, help="in-scope-sized firms of the national world")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tier", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.tier:
        print(json.dumps(run_tier(args.tier, args.years, args.seed)))
        return
    results = []
    for firms in args.firms:
        command = [
            sys.executable,
            __file__,
            "--tier",
            str(firms),
            "--years",
            str(args.years),
            "--seed",
            str(args.seed),
        ]
        result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        results.append(result)
        print(
            f"{result['firms']:>9,} firms x {result['years']} years: {result['seconds']:>8.1f} s, "
            f"{result['rows']:>12,} rows, {result['rows_per_second']:>10,} rows/s, "
            f"peak {result['peak_memory_mib']:>6,} MiB, output {result['output_mib']:>7,} MiB"
        )
    firms = np.array([r["firms"] for r in results], dtype=float)
    seconds = np.array([r["seconds"] for r in results])
    slope, intercept = np.polyfit(firms, seconds, 1) if len(results) > 1 else (seconds[0] / firms[0], 0.0)
    national = intercept + slope * args.national
    output = results[-1]["output_mib"] * args.national / results[-1]["firms"]
    print(
        f"extrapolated national world ({args.national:,} firms x {args.years} years): "
        f"{national / 60:.1f} min "
        f"(one core), about {output / 1024:.0f} GiB of deliveries"
    )


if __name__ == "__main__":
    main()
