"""`make bench [TIER=S|M|L]`: every stage of the pipeline on one generated world, timed, with ratios.

    .venv/bin/python -m benchmarks.run --tier S          # 10,000 firms
    .venv/bin/python -m benchmarks.run --tier M          # 100,000 firms
    .venv/bin/python -m benchmarks.run --tier L          # 300,000 firms (hours on one machine)

Stages, in one local Spark session (`local[2]` by default) and in this order: generate the world,
ingest it, scan bronze (the floor of reading the feature step's inputs), build the features,
train each engine (one horizon, 18 months by default, no tuning: fit, calibration, evaluation,
report, registration, each engine in its own MLflow store), fit LightGBM on pandas on the same
training set as a single-machine reference, and score the last month with explanations and lists.
Each stage records wall and CPU seconds (the whole process tree), peak resident memory (this Python
driver, the JVM that holds the Spark driver and its executors in local mode, and the executors'
Python workers), the rows it processed and rows/s.

Results go to `benchmarks/results/bench-<tier>.json` and `.md` (not committed). When the results of
another tier are there (by default S when running M or L), per-firm cost ratios and a linear
extrapolation to the national monthly run are added. See benchmarks/README.md for how to read them.
Run it alone on the machine (under the shared Spark lock where there is one).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
from pyspark.sql import functions as F

from benchmarks.bench_features import MIB, PeakRss, Phase, plain_scan
from sf_spark.config import Settings, SparkSettings
from sf_spark.features import build_features, feature_catalogue
from sf_spark.generate import GeneratorParams, generate_world
from sf_spark.ingest import ingest_raw
from sf_spark.lake import Lake
from sf_spark.models.engine import LABEL, WEIGHT, model_inputs
from sf_spark.models.metrics import average_precision, histogram_of, roc_auc
from sf_spark.models.rows import evaluation_rows, training_rows, with_weights
from sf_spark.models.run import load_truth, panel_extent, train_models
from sf_spark.models.splits import backtest_origins
from sf_spark.scoring import score_period
from sf_spark.session import get_spark

TIERS = {"S": 10_000, "M": 100_000, "L": 300_000}
NATIONAL_FIRMS = 300_000
CLUSTER_CORES = (16, 64)  # executor cores of the cluster estimates
RESULTS = Path(__file__).resolve().parent / "results"


class Bench:
    """Stages measured in one session; their figures go to `results["stages"]` in order, and the results so far
    to `partial` after every stage, so that `--resume` runs only the stages a failed run did not finish."""

    def __init__(self, results: dict[str, Any], memory: PeakRss, partial: Path) -> None:
        self.results = results
        self.memory = memory
        self.partial = partial

    def done(self, name: str) -> bool:
        if name in self.results["stages"]:
            print(f"\n== {name}: done in the run being resumed", flush=True)
            return True
        return False

    def save(self) -> None:
        self.partial.write_text(json.dumps(self.results, indent=2, default=float))

    def stage(self, name: str, run, rows_of) -> Any:
        """Run one stage; its figures (with `rows_of(result)` rows processed) go to `stages[name]`."""
        print(f"\n== {name}", flush=True)
        with Phase(self.memory) as phase:
            result = run()
        rows = int(rows_of(result))
        self.results["stages"][name] = {
            "wall_s": round(phase.seconds, 1),
            "cpu_s": round(phase.cpu_seconds, 1),
            "peak_rss_mib": round(phase.peak_rss_mib),
            "peak_rss_parts_mib": phase.peak_parts_mib,
            "rows": rows,
            "rows_per_s": round(rows / phase.seconds) if phase.seconds else None,
            "ms_per_firm": round(1000 * phase.seconds / self.results["firms"], 3),
        }
        print(
            f"   {name}: {phase.seconds:,.1f} s wall, {phase.cpu_seconds:,.1f} s CPU, {rows:,} rows, "
            f"peak {phase.peak_rss_mib:,.0f} MiB",
            flush=True,
        )
        self.save()
        return result


def settings_for(work: Path, engine: str, horizon: int, seed: int) -> Settings:
    """Settings of the benchmark world: its lake and truth, one MLflow store per engine, one horizon."""
    store = work / f"mlflow_{engine}"
    return Settings.model_validate(
        {
            "lake": {"root": str(work / "lake")},
            "paths": {
                "work_dir": str(store),
                "raw": str(work / "raw"),
                "truth": str(work / "truth"),
                "reports": str(store / "reports"),
            },
            "tracking": {"tracking_uri": f"sqlite:///{store}/mlflow.db", "artifact_location": str(store / "mlruns")},
            "models": {"engine": engine, "horizons": [horizon]},
            "scoring": {"export_horizon": horizon, "drift_reference_horizon": horizon},
            "seed": seed,
        }
    )


def lightgbm_reference(spark: Any, lake: Lake, settings: Settings, horizon: int) -> dict[str, Any]:
    """LightGBM (pandas, all cores) on the training set the Spark engines saw at the last backtest origin, scored
    on the months that origin scored.

    Same rows, weights and boosting parameters (trees, depth as a leaf budget of 2^depth, learning rate,
    row subsampling, minimum rows per leaf); ranking figures of the raw score on rows the truth covers.
    """
    import lightgbm

    ms = settings.models
    features = lake.read("gold/features")
    inputs = model_inputs(features.columns, [f.name for f in feature_catalogue()], ms)
    first, _, known = panel_extent(features, [horizon], ms)
    origin = backtest_origins([horizon], first, known, ms.splits, ms.backtest)[-1]
    columns = [*[F.col(c).cast("double").alias(c) for c in inputs.numeric], *inputs.categorical]
    keep = ["siren", "periode", LABEL, *inputs.columns]
    train, counts = with_weights(training_rows(features, horizon, origin.windows, ms, settings.seed).select(keep), ms)
    truth = load_truth(spark, settings.paths.truth)
    test = (
        evaluation_rows(features, horizon, origin.test)
        .select(keep)
        .join(truth.select("siren", "periode", F.col(f"p_{horizon}").alias("oracle")), ["siren", "periode"])
    )
    started = time.perf_counter()
    train_frame = train.select(LABEL, WEIGHT, *columns).toPandas()
    test_frame = test.select(LABEL, "oracle", *columns).toPandas()
    to_pandas = time.perf_counter() - started
    for column in inputs.categorical:
        categories = sorted(train_frame[column].dropna().unique())
        train_frame[column] = pd.Categorical(train_frame[column], categories=categories)
        test_frame[column] = pd.Categorical(test_frame[column], categories=categories)
    p = ms.params
    model = lightgbm.LGBMClassifier(
        n_estimators=p.trees,
        max_depth=p.max_depth,
        num_leaves=2**p.max_depth,
        learning_rate=p.learning_rate,
        subsample=p.subsample,
        subsample_freq=1,
        min_child_samples=p.min_instances,
        n_jobs=psutil.cpu_count(),
        random_state=settings.seed,
        verbose=-1,
    )
    started = time.perf_counter()
    model.fit(train_frame[inputs.columns], train_frame[LABEL], sample_weight=train_frame[WEIGHT])
    fit_seconds = time.perf_counter() - started
    score = model.predict_proba(test_frame[inputs.columns])[:, 1]
    labels = test_frame[LABEL].to_numpy()
    model_hist, oracle_hist = histogram_of(score, labels), histogram_of(test_frame["oracle"].to_numpy(), labels)
    figures = {
        "aucpr": average_precision(model_hist),
        "roc_auc": roc_auc(model_hist),
        "oracle_aucpr": average_precision(oracle_hist),
        "oracle_roc_auc": roc_auc(oracle_hist),
    }
    return {
        "train_rows": counts["rows"],
        "test_rows": len(test_frame),
        "to_pandas_seconds": round(to_pandas, 2),
        "fit_seconds": round(fit_seconds, 2),
        **{k: round(v, 4) for k, v in figures.items()},
        "model_to_oracle_aucpr": round(figures["aucpr"] / figures["oracle_aucpr"], 3),
        "model_to_oracle_roc_auc": round(figures["roc_auc"] / figures["oracle_roc_auc"], 3),
    }


def engine_figures(summary: dict[str, Any], horizon: int) -> dict[str, Any]:
    result = summary["horizons"][horizon]
    m = result["metrics"]
    return {
        "train_rows": result["train_rows"],
        "fit_seconds": result["fit_seconds"],
        "aucpr": round(m["test_aucpr"], 4),
        "roc_auc": round(m["test_roc_auc"], 4),
        "ece": round(m["test_ece"], 4),
        "oracle_aucpr": round(m.get("oracle_aucpr", float("nan")), 4),
        "oracle_roc_auc": round(m.get("oracle_roc_auc", float("nan")), 4),
        "model_to_oracle_aucpr": round(m.get("model_to_oracle_aucpr", float("nan")), 3),
        "model_to_oracle_roc_auc": round(m.get("model_to_oracle_roc_auc", float("nan")), 3),
    }


def run_tier(args: argparse.Namespace) -> dict[str, Any]:
    firms = args.firms or TIERS[args.tier]
    work = Path(args.workdir or f"work/bench/{args.tier}").resolve()
    partial = work / "partial.json"
    engines, horizon = args.engines.split(","), args.horizon
    if args.resume and partial.is_file():
        results = json.loads(partial.read_text())
        done = list(results["stages"])
        print(f"resuming {partial}: done {', '.join(done)}")
        results["resumed_wall_s"] = round(sum(s["wall_s"] for s in results["stages"].values()), 1)
        results["note"] = f"resumed run: {', '.join(done)} measured in the run it resumed"
    else:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        results = {
            "tier": args.tier,
            "firms": firms,
            "start": args.start,
            "end": args.end,
            "seed": args.seed,
            "horizon": horizon,
            "engines": engines,
            "master": args.master,
            "shuffle_partitions": args.shuffle_partitions,
            "driver_memory": args.driver_memory,
            "machine": machine(),
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "stages": {},
            "models": {},
        }
    spark_settings = SparkSettings(
        master=args.master,
        shuffle_partitions=args.shuffle_partitions,
        ui_enabled=False,
        log_level="ERROR",
        driver_memory=args.driver_memory,
        extra={"spark.driver.maxResultSize": "0"},
    )  # LightGBM's set comes to the driver
    with PeakRss() as memory:
        bench = Bench(results, memory, partial)
        if not bench.done("generate"):
            params = GeneratorParams(firms=firms, start=args.start, end=args.end, seed=args.seed)
            world = bench.stage(
                "generate",
                lambda: generate_world(work / "raw", work / "truth", params),
                lambda s: sum(s["rows"].values()),
            )
            results["delivered_files"] = sum(world["files"].values())
        spark = get_spark(spark_settings)
        try:
            lake = Lake(spark, str(work / "lake"))
            base = settings_for(work, engines[0], horizon, args.seed)
            if not bench.done("ingest"):
                bench.stage(
                    "ingest",
                    lambda: ingest_raw(lake, str(work / "raw")),
                    lambda s: sum(v["rows_read"] for v in s["sources"].values()),
                )
            if not bench.done("scan"):
                bench.stage("scan", lambda: plain_scan(lake), lambda rows: sum(n or 0 for n in rows.values()))
            if not bench.done("features"):
                built = bench.stage("features", lambda: build_features(lake, base), lambda s: s["rows"])
                results["registered_firms"], results["firms_in_scope"] = built["registered_firms"], built["firms"]
            models = results["models"]
            for engine in engines:
                if not bench.done(f"train_{engine}"):
                    settings = settings_for(work, engine, horizon, args.seed)
                    summary = bench.stage(
                        f"train_{engine}",
                        lambda s=settings: train_models(lake, s),
                        lambda s: s["horizons"][horizon]["train_rows"],
                    )
                    models[engine] = engine_figures(summary, horizon)
                    bench.save()
            if not args.skip_lightgbm and not bench.done("fit_lightgbm"):
                models["lightgbm"] = bench.stage(
                    "fit_lightgbm", lambda: lightgbm_reference(spark, lake, base, horizon), lambda r: r["train_rows"]
                )
                bench.save()
            if not bench.done("score"):
                scored = bench.stage("score", lambda: score_period(lake, base, args.end), lambda s: s["firms"])
                results["scored"] = {
                    "periode": scored["periode"],
                    "firms": scored["firms"],
                    "alerts": scored["alerts"],
                    "drift_warnings": len(scored["drift_warnings"]),
                }
        finally:
            spark.stop()
        results["peak_rss_mib"] = max(round(memory.overall / MIB), results.get("peak_rss_mib", 0))
    results["ratios"] = ratios(results)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return results


def machine() -> dict[str, Any]:
    return {
        "cpus": psutil.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def ratios(results: dict[str, Any]) -> dict[str, Any]:
    """Ratios within this run: feature build over plain scan, fit times against LightGBM, model over oracle."""
    stages, models = results["stages"], results.get("models", {})
    out: dict[str, Any] = {"feature_to_scan": round(stages["features"]["wall_s"] / stages["scan"]["wall_s"], 1)}
    if "lightgbm" in models:
        reference = models["lightgbm"]["fit_seconds"]
        out["fit_to_lightgbm"] = {name: round(m["fit_seconds"] / reference, 1) for name, m in models.items()}
    out["model_to_oracle_aucpr"] = {name: m["model_to_oracle_aucpr"] for name, m in models.items()}
    out["model_to_oracle_roc_auc"] = {name: m["model_to_oracle_roc_auc"] for name, m in models.items()}
    return out


def compare(results: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    """Per-firm cost of every stage against another tier's, and a linear fit of cost in firms."""
    small, large = sorted([reference, results], key=lambda r: r["firms"])
    scaling: dict[str, Any] = {}
    for stage, figures in large["stages"].items():
        if stage not in small["stages"]:
            continue
        a, b = small["stages"][stage]["wall_s"], figures["wall_s"]
        slope = (b - a) / (large["firms"] - small["firms"])
        scaling[stage] = {
            "per_firm_ratio": round((b / large["firms"]) / (a / small["firms"]), 2),
            "fixed_s": round(a - slope * small["firms"], 1),
            "ms_per_firm": round(1000 * slope, 3),
            "national_s": round(b + slope * (NATIONAL_FIRMS - large["firms"]), 0),
        }
    months = months_between(large["start"], large["end"])
    cores = large["machine"]["cpus"]
    monthly: dict[str, Any] = {}
    for stage, share in (("ingest", 1 / months), ("features", 1.0), ("score", 1.0)):
        if stage not in scaling:
            continue
        wall = scaling[stage]["national_s"] * share
        serial, parallel = amdahl(large["stages"][stage]["wall_s"], large["stages"][stage]["cpu_s"], cores)
        monthly[stage] = {
            "this_machine_s": round(wall),
            "serial_share": round(serial, 3),
            **{f"{k}_cores_s": round(wall * (serial + parallel * cores / k)) for k in CLUSTER_CORES},
        }
    totals = {
        key: sum(m[key] for m in monthly.values()) for key in next(iter(monthly.values()), {}) if key.endswith("_s")
    }
    against = f"{small['tier']} ({small['firms']:,} firms) and {large['tier']} ({large['firms']:,} firms)"
    return {
        "against": against,
        "stages": scaling,
        "national_monthly_run": {**monthly, "total": totals},
        "history_months": months,
    }


def amdahl(wall: float, cpu: float, cores: int) -> tuple[float, float]:
    """Serial and parallel shares of a stage's wall time from its wall and CPU seconds on `cores` cores.

    With serial work S and parallel work P (core-seconds) spread over k cores: wall = S + P/k and
    CPU = S + P, so P = (CPU - wall) k / (k - 1). Idle waiting (CPU < wall) counts as serial.
    """
    parallel = max(cpu - wall, 0.0) * cores / (cores - 1) if cores > 1 else 0.0
    parallel = min(parallel, wall * cores)
    serial = max(wall - parallel / cores, 0.0)
    return serial / wall, (parallel / cores) / wall


def months_between(first: str, last: str) -> int:
    """Months from `first` to `last` (YYYY-MM), both included."""
    return 12 * (int(last[:4]) - int(first[:4])) + int(last[5:]) - int(first[5:]) + 1


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"# Benchmark tier {results['tier']}: {results['firms']:,} firms, {results['start']}..{results['end']}",
        "",
        f"{results['machine']['cpus']} CPUs, {results['machine']['memory_gib']} GiB; Spark {results['master']}, "
        f"{results['shuffle_partitions']} shuffle partitions, driver memory {results['driver_memory']}; "
        f"started {results['started']}. Registered firms {results.get('registered_firms', 0):,}, "
        f"in scope {results.get('firms_in_scope', 0):,}; horizon {results['horizon']} months.",
        "",
        "| stage | wall s | CPU s | peak MiB (driver py / JVM / py workers) | rows | rows/s | ms/firm |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for name, s in results["stages"].items():
        parts = s.get("peak_rss_parts_mib", {})
        split = " / ".join(f"{parts.get(k, 0):,}" for k in ("driver", "jvm", "workers")) if parts else "not split"
        lines.append(
            f"| {name} | {s['wall_s']:,.1f} | {s['cpu_s']:,.1f} | {s['peak_rss_mib']:,} ({split}) | "
            f"{s['rows']:,} | {s['rows_per_s'] or 0:,} | {s['ms_per_firm']:.2f} |"
        )
    lines += [
        "",
        "| model (same training set) | train rows | fit s | fit / LightGBM | AUCPR (oracle) "
        "| model/oracle AUCPR | ROC AUC (oracle) | model/oracle ROC AUC |",
        "|---|---:|---:|---:|---|---:|---|---:|",
    ]
    fit_ratio = results["ratios"].get("fit_to_lightgbm", {})
    for name, m in results.get("models", {}).items():
        lines.append(
            f"| {name} | {m['train_rows']:,} | {m['fit_seconds']:,.1f} | {fit_ratio.get(name, '-')} "
            f"| {m['aucpr']:.3f} ({m['oracle_aucpr']:.3f}) | {m['model_to_oracle_aucpr']:.2f} | "
            f"{m['roc_auc']:.3f} ({m['oracle_roc_auc']:.3f}) "
            f"| {m['model_to_oracle_roc_auc']:.3f} |"
        )
    lines += ["", f"Feature build / plain scan of bronze: {results['ratios']['feature_to_scan']}."]
    if "note" in results:
        lines += ["", f"Note: {results['note']}."]
    if "scaling" in results:
        sc = results["scaling"]
        lines += [
            "",
            f"## Scale: {sc['against']}",
            "",
            "| stage | per-firm cost ratio | fixed s | ms per firm | 300,000 firms, this machine, s |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, s in sc["stages"].items():
            lines.append(
                f"| {name} | {s['per_firm_ratio']} | {s['fixed_s']:,} | {s['ms_per_firm']} | {s['national_s']:,.0f} |"
            )
        monthly = sc["national_monthly_run"]
        keys = ["this_machine_s", *[f"{k}_cores_s" for k in CLUSTER_CORES]]
        lines += [
            "",
            f"## National monthly run, {NATIONAL_FIRMS:,} firms (one delivery of the "
            f"{sc['history_months']} ingested, full feature build, scoring)",
            "",
            "| stage | serial share | this machine s | " + " | ".join(f"{k} cores s" for k in CLUSTER_CORES) + " |",
            "|---|---:|" + "---:|" * len(keys),
        ]
        for name, m in monthly.items():
            share = "" if name == "total" else f"{m['serial_share']:.2f}"
            lines.append(f"| {name} | {share} | " + " | ".join(f"{m[k]:,}" for k in keys) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", choices=sorted(TIERS), default="S")
    parser.add_argument("--firms", type=int, default=None, help="override the tier's firm count")
    parser.add_argument("--start", default="2014-01")
    parser.add_argument("--end", default="2023-12")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--engines", default="gbt,xgboost")
    parser.add_argument("--horizon", type=int, default=18)
    parser.add_argument("--skip-lightgbm", action="store_true")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--shuffle-partitions", type=int, default=8)
    parser.add_argument("--driver-memory", default="12g")
    parser.add_argument("--workdir", default=None, help="default work/bench/<tier>; deleted after the run")
    parser.add_argument("--keep", action="store_true", help="keep the generated world, lake and MLflow stores")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue a failed run in its work folder: only the stages it did not finish",
    )
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument(
        "--reference",
        default=None,
        help="results JSON of another tier for scale ratios (default: bench-S.json unless the tier is S)",
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = run_tier(args)
    results["total_wall_s"] = round(time.perf_counter() - started, 1) + results.get("resumed_wall_s", 0.0)
    reference = Path(args.reference) if args.reference else (out / "bench-S.json" if args.tier != "S" else None)
    if reference is not None and reference.is_file():
        other = json.loads(reference.read_text())
        if other["firms"] != results["firms"]:
            results["scaling"] = compare(results, other)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    text = markdown(results)
    for name in (f"bench-{args.tier}", f"bench-{args.tier}-{stamp}"):
        (out / f"{name}.json").write_text(json.dumps(results, indent=2, default=float))
        (out / f"{name}.md").write_text(text)
    print("\n" + text)
    print(f"written: {out / f'bench-{args.tier}.json'} and .md (total {results['total_wall_s'] / 60:.1f} min)")


if __name__ == "__main__":
    sys.exit(main())
