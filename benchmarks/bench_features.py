"""Feature step cost: bronze -> silver -> `gold/features`, against a plain scan of its bronze inputs.

Run under the shared Spark lock, e.g.
`flock /tmp/sf-spark.lock nice -n 5 .venv/bin/python benchmarks/bench_features.py --firms 10000`
(generates and ingests a world first; generation and ingest are timed apart), or on a lake
already ingested: `... benchmarks/bench_features.py --lake /path/to/lake`.

In one Spark session it times (a) the plain scan: every bronze table the feature step reads,
read through the lake layer and counted (`count()` needs no column, so this is the floor of
reading the inputs), and (b) `build_features` with the default settings, which overwrites the
lake's `silver/*` and `gold/features`. Per-firm figures are per registered firm (`silver/firms`, every
siren of the Sirene deliveries, small firms included: about 1.25 x the generated count of in-scope
sized firms), the one count known with `--lake` too. CPU seconds are those of the whole process tree (the
driver, the local JVM and its Python workers); peak RSS is the sum of theirs, sampled every 0.2 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from sf_spark.config import LakeSettings, Settings, SparkSettings
from sf_spark.features import build_features
from sf_spark.features.inputs import BRONZE
from sf_spark.generate import GeneratorParams, generate_world
from sf_spark.ingest import ingest_raw
from sf_spark.lake import Lake
from sf_spark.session import get_spark

MIB = 1024 * 1024


def _tree() -> list[psutil.Process]:
    me = psutil.Process()
    return [me, *me.children(recursive=True)]


def tree_cpu_seconds() -> float:
    """User + system CPU of this process and every descendant, live or already reaped."""
    total = 0.0
    for proc in _tree():
        try:
            t = proc.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def tree_rss() -> dict[str, int]:
    """Resident bytes of the process tree by role: this Python driver, the JVM, the Python workers.

    Only Java and Python processes count: a short-lived child the JVM forks to run a command
    shares its parent's pages and would show (and be counted with) the whole JVM's RSS.
    """
    me = psutil.Process()
    parts = {"driver": me.memory_info().rss, "jvm": 0, "workers": 0}
    for child in me.children():
        try:
            if child.name().startswith("java"):
                parts["jvm"] += child.memory_info().rss
                descendants = child.children(recursive=True)
            else:
                descendants = [child]
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        for proc in descendants:
            try:
                if proc.name().startswith("python"):
                    parts["workers"] += proc.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
    return parts


class PeakRss:
    """Samples the resident memory of the process tree in a thread; `peak` since the last `reset`.

    `parts` and `overall_parts` are the split by role (`tree_rss`) at the sample of the peak.
    """

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak = self.overall = 0
        self.parts: dict[str, int] = {}
        self.overall_parts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-rss", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        parts = tree_rss()
        rss = sum(parts.values())
        with self._lock:
            if rss > self.peak:
                self.peak, self.parts = rss, parts
            if rss > self.overall:
                self.overall, self.overall_parts = rss, parts

    def reset(self) -> None:
        with self._lock:
            self.peak, self.parts = 0, {}
        self.sample()

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class Phase:
    """Wall seconds, tree CPU seconds and peak tree RSS of a `with` block."""

    def __init__(self, memory: PeakRss) -> None:
        self.memory = memory

    def __enter__(self) -> Phase:
        self.memory.reset()
        self._cpu = tree_cpu_seconds()
        self._wall = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._wall
        self.cpu_seconds = tree_cpu_seconds() - self._cpu
        self.memory.sample()
        self.peak_rss_mib = self.memory.peak / MIB
        self.peak_parts_mib = {role: round(rss / MIB) for role, rss in self.memory.parts.items()}

    def figures(self, prefix: str) -> dict[str, Any]:
        return {
            f"{prefix}_seconds": round(self.seconds, 2),
            f"{prefix}_cpu_seconds": round(self.cpu_seconds, 2),
            f"{prefix}_peak_rss_mib": round(self.peak_rss_mib),
            f"{prefix}_peak_rss_parts_mib": self.peak_parts_mib,
        }


def bronze_tables() -> list[str]:
    """Bronze tables the feature step reads (`sf_spark.features.inputs.BRONZE`), each once."""
    return sorted({table for table, _ in BRONZE.values()})


def plain_scan(lake: Lake) -> dict[str, int | None]:
    """Rows of every bronze input, read through the lake layer (None: the table does not exist)."""
    return {
        table: lake.read(f"bronze/{table}").count() if lake.exists(f"bronze/{table}") else None
        for table in bronze_tables()
    }


def prepare_world(spark: Any, work: Path, firms: int, args: argparse.Namespace, memory: PeakRss) -> dict[str, Any]:
    """Generate a world and ingest it into `work/lake`; figures of both steps."""
    shutil.rmtree(work, ignore_errors=True)
    started = time.perf_counter()
    generate_world(
        work / "raw", work / "truth", GeneratorParams(firms=firms, start=args.start, end=args.end, seed=args.seed)
    )
    generated = time.perf_counter() - started
    with Phase(memory) as ingest:
        summary = ingest_raw(Lake(spark, str(work / "lake")), str(work / "raw"))
    return {
        "generate_seconds": round(generated, 2),
        "ingest_rows": sum(stats["rows_read"] for stats in summary["sources"].values()),
        **ingest.figures("ingest"),
    }


def timed_writes(lake: Lake) -> dict[str, float]:
    """Wall seconds of every `lake.overwrite` (computing and writing one table), on this instance only."""
    seconds: dict[str, float] = {}
    overwrite = lake.overwrite

    def timed(df: Any, table: str, *args: Any, **kwargs: Any) -> int:
        started = time.perf_counter()
        try:
            return overwrite(df, table, *args, **kwargs)
        finally:
            seconds[table] = round(time.perf_counter() - started, 2)

    lake.overwrite = timed  # type: ignore[method-assign]
    return seconds


def measure(spark: Any, root: str, memory: PeakRss) -> dict[str, Any]:
    """Plain scan then feature build on the lake at `root`, in this session."""
    settings = Settings(lake=LakeSettings(root=root))
    lake = Lake(spark, root, settings.lake.writer)
    with Phase(memory) as scan:
        rows = plain_scan(lake)
    missing = [table for table, n in rows.items() if n is None]
    if missing:
        print(f"bronze tables absent (read as empty by the feature step): {', '.join(missing)}")
    writes = timed_writes(lake)
    with Phase(memory) as features:
        stats = build_features(lake, settings)
    return {
        "lake": root,
        "firms": stats["registered_firms"],
        "firms_in_scope": stats["firms"],
        "gold_rows": stats["rows"],
        "bronze_rows": sum(n or 0 for n in rows.values()),
        "bronze_tables": rows,
        **scan.figures("scan"),
        **features.figures("feature"),
        "feature_write_seconds": writes,
    }


def derived(result: dict[str, Any]) -> dict[str, Any]:
    scan, feature = result["scan_seconds"], result["feature_seconds"]
    return {
        "feature_to_scan": round(feature / scan, 1) if scan else None,
        "feature_seconds_per_1000_firms": round(feature / result["firms"] * 1000, 2) if result["firms"] else None,
        "feature_cpu_per_1000_firms": round(result["feature_cpu_seconds"] / result["firms"] * 1000, 2)
        if result["firms"]
        else None,
        "feature_us_per_gold_row": round(feature / result["gold_rows"] * 1e6, 1) if result["gold_rows"] else None,
    }


def _parts(parts: dict[str, Any], unit: float = 1.0) -> str:
    return ", ".join(f"{role} {rss / unit:,.0f}" for role, rss in parts.items())


def print_table(results: list[dict[str, Any]]) -> None:
    columns = [
        ("firms", "generated_firms", "{:,}"),
        ("registered", "firms", "{:,}"),
        ("in scope", "firms_in_scope", "{:,}"),
        ("gold rows", "gold_rows", "{:,}"),
        ("bronze rows", "bronze_rows", "{:,}"),
        ("scan s", "scan_seconds", "{:.1f}"),
        ("feature s", "feature_seconds", "{:.1f}"),
        ("feat/scan", "feature_to_scan", "{:.1f}"),
        ("s/1k reg.", "feature_seconds_per_1000_firms", "{:.2f}"),
        ("feat CPU s", "feature_cpu_seconds", "{:.1f}"),
        ("CPU/1k", "feature_cpu_per_1000_firms", "{:.2f}"),
        ("peak MiB", "feature_peak_rss_mib", "{:,.0f}"),
    ]
    widths = [max(len(title), 12) for title, _, _ in columns]
    print("\n" + "".join(f"{title:>{w}}" for (title, _, _), w in zip(columns, widths, strict=True)))
    for result in results:
        cells = []
        for (_, key, fmt), w in zip(columns, widths, strict=True):
            value = result.get(key)
            cells.append(f"{'-' if value is None else fmt.format(value):>{w}}")
        print("".join(cells))
    for result in results:
        print(
            f"\n{result['lake']}: scan {result['scan_seconds']} s wall / {result['scan_cpu_seconds']} s CPU "
            f"(peak {result['scan_peak_rss_mib']:,} MiB); features {result['feature_seconds']} s wall / "
            f"{result['feature_cpu_seconds']} s CPU (peak {result['feature_peak_rss_mib']:,} MiB: "
            f"{_parts(result['feature_peak_rss_parts_mib'])}), "
            f"{result['feature_us_per_gold_row']} us per gold row; shuffle partitions "
            f"{result['shuffle_partitions']}, driver memory {result['driver_memory']}"
        )
        writes = result["feature_write_seconds"]
        silver = {table: s for table, s in writes.items() if table.startswith("silver/")}
        slowest = sorted(silver.items(), key=lambda item: -item[1])[:3]
        print(
            f"  feature step: silver tables {sum(silver.values()):.1f} s ("
            + ", ".join(f"{table.removeprefix('silver/')} {s:.1f}" for table, s in slowest)
            + f", ...), gold/features {writes.get('gold/features', 0):.1f} s, calendar and statistics "
            f"{result['feature_seconds'] - sum(writes.values()):.1f} s"
        )
        if "ingest_seconds" in result:
            print(
                f"  world generated in {result['generate_seconds']} s, {result['ingest_rows']:,} delivered rows "
                f"ingested in {result['ingest_seconds']} s wall / {result['ingest_cpu_seconds']} s CPU"
            )
        print(
            "  bronze rows: "
            + ", ".join(f"{t} {'-' if n is None else f'{n:,}'}" for t, n in result["bronze_tables"].items())
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--lake", help="an ingested lake (bronze tables present); its silver/gold are rebuilt")
    source.add_argument("--firms", type=int, nargs="+", help="generate and ingest a world of N firms first")
    parser.add_argument("--start", default="2016-01")
    parser.add_argument("--end", default="2023-12")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--shuffle-partitions", type=int, default=8)
    parser.add_argument("--driver-memory", default="8g")
    parser.add_argument("--workdir", default=None, help="generated worlds are kept there after the run when given")
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.lake is None and args.firms is None:
        args.firms = [10_000]
    if args.lake is not None and not Path(args.lake).is_dir():
        parser.error(f"no lake folder at {args.lake}")

    spark_settings = SparkSettings(
        master=args.master,
        shuffle_partitions=args.shuffle_partitions,
        ui_enabled=False,
        log_level="ERROR",
        driver_memory=args.driver_memory,
    )
    results = []
    with PeakRss() as memory:
        spark = get_spark(spark_settings)
        try:
            runs: list[tuple[int | None, str | None]] = (
                [(None, args.lake)] if args.lake else [(firms, None) for firms in args.firms]
            )
            for firms, root in runs:
                prepared: dict[str, Any] = {}
                work = None
                if root is None:
                    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench_features_")) / f"firms_{firms}"
                    prepared = prepare_world(spark, work, firms, args, memory)
                    root = str(work / "lake")
                result = {**measure(spark, str(Path(root).resolve()), memory), **prepared}
                if firms is not None:
                    result["generated_firms"] = firms
                result.update(derived(result))
                result.update(
                    shuffle_partitions=args.shuffle_partitions, driver_memory=args.driver_memory, master=args.master
                )
                results.append(result)
                if work is not None and args.workdir is None:
                    shutil.rmtree(work.parent, ignore_errors=True)
        finally:
            spark.stop()
        print_table(results)
        overall = f"{memory.overall / MIB:,.0f} MiB ({_parts(memory.overall_parts, MIB)})"
        print(f"\npeak RSS of the process tree over the whole run: {overall}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(
            json.dumps(
                {
                    "runs": results,
                    "peak_rss_mib": round(memory.overall / MIB),
                    "peak_rss_parts_mib": {role: round(rss / MIB) for role, rss in memory.overall_parts.items()},
                },
                indent=2,
            ),
            encoding="utf-8",
        )
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
