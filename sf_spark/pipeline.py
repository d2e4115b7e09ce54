"""The pipeline's steps as the command line and the jobs run them.

Each step reads only the layer before it and returns a small summary (counts, versions,
where outputs are). Steps load their modules when they run, so the command line answers
`--help` without starting Spark or importing MLflow.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sf_spark.config import Settings
from sf_spark.lake.lock import lake_lock
from sf_spark.progress import say

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from sf_spark.lake import Lake

# Exit statuses of every command (README, "Scheduling"); argparse's usage errors exit with 2.
OK, FAILED, PROBLEMS, LOCKED, STOPPED = 0, 1, 3, 4, 5
EXIT_STATUSES = {
    OK: "every file landed and every check passed",
    FAILED: "the command failed; every table is at its previous version",
    PROBLEMS: "the command completed, but input was rejected or a check failed (see `problems`)",
    LOCKED: "another run holds the lake's lock; nothing was done (retry later)",
    STOPPED: "stopped before scoring because of rejected or stale input (see `stopped`); --allow-partial goes on",
}


class Context:
    """What the steps of one command share: settings, and a Spark session built on first use."""

    def __init__(self, settings: Settings, master: str | None = None) -> None:
        self.settings = settings
        self.master = master
        self._spark: SparkSession | None = None
        self._lake: Lake | None = None

    @property
    def spark(self) -> SparkSession:
        if self._spark is None:
            from sf_spark.session import get_spark

            self._spark = get_spark(self.settings.spark, self.master)
        return self._spark

    @property
    def lake(self) -> Lake:
        if self._lake is None:
            from sf_spark.lake import Lake

            self._lake = Lake(self.spark, self.settings.lake.root, self.settings.lake.writer)
        return self._lake


def _timed(step: str, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    summary = call()
    summary = {**summary, "seconds": round(time.perf_counter() - started, 1)}
    say(f"{step}: done in {summary['seconds']} s")
    return summary


def step_generate(ctx: Context, out: str, truth: str) -> dict[str, Any]:
    from sf_spark.generate.world import generate_world

    return _timed("generate", lambda: generate_world(out, truth, ctx.settings.generator))


def step_ingest(ctx: Context, raw: str) -> dict[str, Any]:
    from sf_spark.ingest.run import ingest_raw

    return _timed("ingest", lambda: ingest_raw(ctx.lake, raw, ctx.settings))


def step_features(ctx: Context) -> dict[str, Any]:
    from sf_spark.features.run import build_features

    return _timed("features", lambda: build_features(ctx.lake, ctx.settings))


def step_train(
    ctx: Context, horizons: list[int] | None, tune: int | None, promote: bool, only_without_champion: bool = False
) -> dict[str, Any]:
    from sf_spark.models.run import train_models

    return _timed(
        "train",
        lambda: train_models(
            ctx.lake,
            ctx.settings,
            horizons=horizons,
            tune=tune,
            promote=promote,
            only_without_champion=only_without_champion,
        ),
    )


def step_score(ctx: Context, period: str | None, allow_partial: bool = False) -> dict[str, Any]:
    from sf_spark.scoring.run import score_period

    return _timed("score", lambda: score_period(ctx.lake, ctx.settings, period=period, allow_partial=allow_partial))


def _chain(ctx: Context, raw: str, period: str | None, allow_partial: bool = False) -> dict[str, Any]:
    """ingest -> features -> train (only without a champion, decided by the train step) -> score.

    Rejected input at ingest stops the chain there (nothing rebuilt, nothing scored) unless
    `allow_partial`; the summary then says `stopped` and why.
    """
    summary: dict[str, Any] = {}
    steps: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("ingest", lambda: step_ingest(ctx, raw)),
        ("features", lambda: step_features(ctx)),
        ("train", lambda: step_train(ctx, None, None, promote=False, only_without_champion=True)),
        ("score", lambda: step_score(ctx, period, allow_partial)),
    ]
    for name, call in steps:
        summary[name] = call()
        if name == "ingest" and summary[name].get("problems") and not allow_partial:
            summary["stopped"] = (
                f"ingest rejected input ({len(summary[name]['problems'])} problems): nothing after ingest was run; "
                "fix or remove the files, or run again with --allow-partial"
            )
            say(f"run: STOPPED: {summary['stopped']}")
            break
    return summary


def problems(summary: dict[str, Any]) -> list[str]:
    """Every problem a command's summary reports (a step's `problems`, or each step's in a chain)."""
    found = list(summary.get("problems", []))
    for value in summary.values():
        if isinstance(value, dict):
            found += value.get("problems", [])
    return found


def exit_status(summary: dict[str, Any]) -> int:
    """The exit status of a command that ran to its end (see `EXIT_STATUSES`)."""
    if summary.get("stopped") or any(isinstance(v, dict) and v.get("stopped") for v in summary.values()):
        return STOPPED
    return PROBLEMS if problems(summary) else OK


def run_command(command: str, settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Carry out one command of the command line and return its summary."""
    ctx = Context(settings, args.master)
    if command == "generate":
        return step_generate(ctx, args.out, args.truth)
    try:
        with lake_lock(settings.lake.root, command, settings.lake.lock_stale_after_hours):
            return _locked_command(ctx, command, args)
    finally:
        if ctx._spark is not None:
            ctx._spark.stop()


def _locked_command(ctx: Context, command: str, args: argparse.Namespace) -> dict[str, Any]:
    """A command that writes the lake, run while holding its lock."""
    if command == "ingest":
        return step_ingest(ctx, args.raw)
    if command == "features":
        return step_features(ctx)
    if command == "train":
        return step_train(ctx, args.horizons, args.tune, args.promote)
    if command == "score":
        return step_score(ctx, args.period, args.allow_partial)
    if command == "run":
        return _chain(ctx, args.raw, args.period, args.allow_partial)
    if command == "maintain":
        from sf_spark.lake.maintain import maintain_lake

        return _timed("maintain", lambda: maintain_lake(ctx.lake, ctx.settings, args.tables))
    if command == "demo":
        return demo(ctx, regenerate=args.regenerate)
    raise ValueError(f"unknown command {command!r}")


def demo(ctx: Context, regenerate: bool = False) -> dict[str, Any]:
    """Generate the demo world (unless already there), run the whole pipeline, say where things are."""
    paths = ctx.settings.paths
    raw, truth = Path(paths.raw), Path(paths.truth)
    summary: dict[str, Any] = {}
    if regenerate or not raw.is_dir() or not any(raw.iterdir()):
        summary["generate"] = step_generate(ctx, str(raw), str(truth))
    else:
        say(f"generate: world already at {raw} (use --regenerate for a new one)")
    summary.update(_chain(ctx, str(raw), None))
    return summary
