"""The `sf-spark` command line: one sub-command per pipeline step (docs: interfaces.md).

Every job in `jobs/` calls `main` with its step name, so `spark-submit jobs/<step>.py ARGS`
and `sf-spark <step> ARGS` are the same. Exit statuses: `pipeline.EXIT_STATUSES` (0 clean, 1 failed
with one line that says why, `--verbose` adds the traceback; 3 completed with problems, 4 lake
locked, 5 stopped before scoring); `--json` prints the summary with its `problems`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from sf_spark import pipeline
from sf_spark.config import Settings, folder_settings, load_config
from sf_spark.lake.lock import LakeLockedError
from sf_spark.progress import show_progress

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _period(text: str) -> str:
    if not PERIOD.match(text):
        raise argparse.ArgumentTypeError(f"expected YYYY-MM, got {text!r}")
    return text


def _horizons(text: str) -> list[int]:
    try:
        values = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected months separated by commas, e.g. 12,18,24; got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"horizons must be positive months, got {text!r}")
    return values


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--conf", help="YAML configuration (default: conf/local.yaml if present, else built-in)")
    common.add_argument("--master", help="Spark master URL when this process starts its own session")
    common.add_argument("-v", "--verbose", action="store_true", help="log progress and show tracebacks")
    common.add_argument("--json", action="store_true", help="print the step's summary as JSON at the end")

    parser = argparse.ArgumentParser(
        prog="sf-spark",
        description="Early-warning pipeline: calibrated 12/18/24-month failure probabilities for firms.",
    )
    steps = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    generate = steps.add_parser("generate", parents=[common], help="write a synthetic national-like delivery")
    generate.add_argument("--out", required=True, help="folder for the raw partner files (RAW)")
    generate.add_argument("--truth", required=True, help="folder for the generator's ground truth (TRUTH)")
    generate.add_argument("--firms", type=int, help="number of firms")
    generate.add_argument("--start", type=_period, help="first month, YYYY-MM")
    generate.add_argument("--end", type=_period, help="last month, YYYY-MM")
    generate.add_argument("--seed", type=int, help="random seed")

    ingest = steps.add_parser("ingest", parents=[common], help="new raw files -> bronze Delta tables")
    ingest.add_argument("--raw", required=True, help="folder of partner deliveries (searched recursively)")
    ingest.add_argument("--lake", help="lake root (default: lake.root of the configuration)")

    features = steps.add_parser("features", parents=[common], help="bronze -> silver -> gold/features")
    features.add_argument("--lake", help="lake root")

    train = steps.add_parser("train", parents=[common], help="train, calibrate, evaluate, register models")
    train.add_argument("--lake", help="lake root")
    train.add_argument("--horizons", type=_horizons, help="months, e.g. 12,18,24")
    train.add_argument("--tune", type=int, default=None, help="hyperopt trials (0: configured parameters)")
    train.add_argument("--promote", action="store_true", help="make the new models champion unconditionally")
    train.add_argument("--engine", choices=["gbt", "xgboost"], help="classifier (default: models.engine)")

    score = steps.add_parser("score", parents=[common], help="score one month with the champion models")
    score.add_argument("--lake", help="lake root")
    score.add_argument("--period", type=_period, required=True, help="month to score, YYYY-MM")
    score.add_argument("--allow-partial", action="store_true", help="score even when a source is stale")

    run = steps.add_parser("run", parents=[common], help="ingest, features, train if needed, score")
    run.add_argument("--raw", required=True, help="folder of partner deliveries")
    run.add_argument("--lake", help="lake root")
    run.add_argument("--period", type=_period, help="month to score (default: the latest month with data)")
    run.add_argument(
        "--allow-partial",
        action="store_true",
        help="go on to features and scoring when ingest rejected input or a source is stale",
    )

    maintain = steps.add_parser(
        "maintain", parents=[common], help="compact the tables, cluster firm-month tables by siren, VACUUM"
    )
    maintain.add_argument("--lake", help="lake root")
    maintain.add_argument(
        "--tables",
        type=lambda text: [t for t in text.split(",") if t],
        help="only these tables, e.g. gold/features,gold/scores (default: every table)",
    )

    demo = steps.add_parser("demo", parents=[common], help="generate a demo world and run the pipeline on it")
    demo.add_argument("--dir", help="working folder of the demo (default: paths.work_dir of the configuration)")
    demo.add_argument("--firms", type=int, help="number of firms of the demo world")
    demo.add_argument("--regenerate", action="store_true", help="generate the world again even if present")
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "spark.master": args.master,
        "spark.quiet": False if args.verbose else None,  # Spark's own logging with --verbose
        "lake.root": getattr(args, "lake", None),
        "generator.firms": getattr(args, "firms", None),
        "generator.start": getattr(args, "start", None),
        "generator.end": getattr(args, "end", None),
        "generator.seed": getattr(args, "seed", None),
        "models.engine": getattr(args, "engine", None),
    }
    if getattr(args, "dir", None):
        sections = folder_settings(args.dir)
        overrides.update(
            {f"{section}.{key}": value for section, keys in sections.items() for key, value in keys.items()}
        )
    return overrides


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit status."""
    args = build_parser().parse_args(argv)
    show_progress(heartbeat=True)
    if not args.verbose:  # MLflow's own chatter (store set-up, artifact download bars) with --verbose only
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        logging.getLogger("XGBoost-PySpark").setLevel(logging.WARNING)  # its tasks take this level too
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_config(args.conf, _overrides(args))
        summary = pipeline.run_command(args.command, settings, args)
    except KeyboardInterrupt:
        print(f"sf-spark {args.command}: interrupted", file=sys.stderr)
        return 130
    except LakeLockedError as exc:
        print(f"sf-spark {args.command}: {exc}", file=sys.stderr)
        return pipeline.LOCKED
    except Exception as exc:
        if args.verbose:
            traceback.print_exc()
        reason = " ".join(str(exc).split()) or type(exc).__name__
        print(f"sf-spark {args.command}: error: {reason}", file=sys.stderr)
        return pipeline.FAILED
    status = pipeline.exit_status(summary)
    summary = {
        **summary,
        "exit_status": status,
        "problems": pipeline.problems(summary),
        "outputs": outputs(args, settings, summary),
    }
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        print("\n".join(closing(args.command, summary)), flush=True)
    if status != pipeline.OK:
        print(f"sf-spark {args.command}: exit {status}: {pipeline.EXIT_STATUSES[status]}", file=sys.stderr)
    return status


def outputs(args: argparse.Namespace, settings: Settings, summary: dict[str, Any]) -> dict[str, str]:
    """Where the command's outputs are, by kind (the closing summary and `--json`)."""
    command, paths, where = args.command, settings.paths, {}
    if command == "generate":
        return {"raw deliveries": args.out, "generator truth": args.truth}
    if command == "demo":
        where.update({"raw deliveries": paths.raw, "generator truth": paths.truth})
    where["Delta lake"] = settings.lake.root
    if command in ("train", "run", "demo"):
        where.update({"MLflow store": settings.tracking.tracking_uri, "reports": paths.reports})
    score = scored(command, summary)
    if score.get("exports", {}).get("folder"):
        where["agents' lists"] = f"{score['exports']['folder']} ({score['exports'].get('files', 0)} files)"
    return where


def scored(command: str, summary: dict[str, Any]) -> dict[str, Any]:
    """The score step's summary within a command's (empty when the command scored nothing)."""
    score = summary if command == "score" else summary.get("score")
    return score if isinstance(score, dict) else {}


def headline(score: dict[str, Any]) -> list[str]:
    """The month's headline from a score summary: firms, alerts per level and horizon, new ones, drift."""
    alerts, drifted = score["alerts"], score.get("drift_warnings") or []
    lines = [f"  {score['periode']}: {score['firms']:,} firms scored, {score['strong_signals']:,} in proceedings"]
    for h, new in score["new_alerts"].items():
        red, orange = alerts[f"{h}_red"], alerts[f"{h}_orange"]
        news = score.get("news", {}).get(h)
        told = f", {news:,} news" if news is not None else ""
        lines.append(f"    {h} months: red {red:,}, orange {orange:,} ({new:,} first alerts{told})")
    if agents := score.get("agents"):
        useful = f", {agents['useful_share']:.0%} rated useful" if agents.get("useful_share") is not None else ""
        lines.append(f"    agents: {agents['rated']:,} ratings of the lists {agents['lists']}{useful}")
    plural = "s" * (len(drifted) > 1)
    shifted = f"{len(drifted)} feature{plural} shifted ({', '.join(drifted[:5])})" if drifted else "no feature shifted"
    lines.append(f"    drift: {shifted}")
    return lines


def closing(command: str, summary: dict[str, Any]) -> list[str]:
    """The closing summary: seconds, exit status, outputs, the month's headline, problems."""
    seconds = summary.get("seconds") or sum(v.get("seconds", 0) for v in summary.values() if isinstance(v, dict))
    status = summary["exit_status"]
    lines = [f"sf-spark {command}: finished in {seconds:.0f} s, exit {status} ({pipeline.EXIT_STATUSES[status]})"]
    lines += [f"  {kind:<16} {where}" for kind, where in summary["outputs"].items()]
    score = scored(command, summary)
    if "periode" in score:
        lines += headline(score)
    if summary.get("stopped"):
        lines.append(f"  stopped: {summary['stopped']}")
    lines += [f"  problem: {problem}" for problem in summary["problems"]]
    return lines
