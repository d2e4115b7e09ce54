"""Hyperopt search over the boosting parameters: TPE, `Trials` on the driver, each trial a distributed fit.

(`SparkTrials` would run each trial inside a single Spark task, which cannot fit a Spark ML
estimator; see docs/stack.md.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from hyperopt import STATUS_OK, Trials, fmin, hp, tpe

from sf_spark.models.settings import BoostingParams, TuneSettings


def search_space(bounds: TuneSettings) -> dict[str, Any]:
    """Hyperopt space: integers quantised, learning rate and leaf size on a log scale."""
    return {
        "max_depth": hp.quniform("max_depth", bounds.max_depth[0], bounds.max_depth[1], 1),
        "trees": hp.quniform("trees", bounds.trees[0], bounds.trees[1], 10),
        "learning_rate": hp.loguniform(
            "learning_rate", math.log(bounds.learning_rate[0]), math.log(bounds.learning_rate[1])
        ),
        "subsample": hp.uniform("subsample", bounds.subsample[0], bounds.subsample[1]),
        "min_instances": hp.qloguniform(
            "min_instances", math.log(bounds.min_instances[0]), math.log(bounds.min_instances[1]), 1
        ),
    }


def as_params(point: dict[str, Any]) -> BoostingParams:
    """A point of the space as validated parameters (hyperopt returns floats for integer axes)."""
    return BoostingParams(
        max_depth=round(point["max_depth"]),
        trees=max(round(point["trees"]), 1),
        learning_rate=float(point["learning_rate"]),
        subsample=float(point["subsample"]),
        min_instances=max(round(point["min_instances"]), 1),
    )


def tune(
    objective: Callable[[BoostingParams], float], bounds: TuneSettings, trials: int, seed: int
) -> tuple[BoostingParams, list[dict[str, Any]]]:
    """Maximise `objective(params)` (e.g. the calibration window's average precision) over `trials` fits.

    Returns the best parameters and every trial (parameters and objective), in trial order.
    """
    if trials < 1:
        raise ValueError("tune needs at least one trial")
    history: list[dict[str, Any]] = []

    def loss(point: dict[str, Any]) -> dict[str, Any]:
        params = as_params(point)
        value = objective(params)
        history.append({**params.model_dump(), "objective": value})
        return {"loss": -value, "status": STATUS_OK}

    record = Trials()
    best = fmin(
        loss,
        search_space(bounds),
        algo=tpe.suggest,
        max_evals=trials,
        trials=record,
        rstate=np.random.default_rng(seed),
        show_progressbar=False,
    )
    return as_params(best), history
