"""Calibration of a classifier's score into a probability, and the alert thresholds chosen on it.

Centred isotonic regression: Spark ML's isotonic regression of the label on the score pools the
calibration rows into blocks of non-decreasing failure rate; adjacent blocks are then pooled further
until each holds at least `min_block_positives` failures and as many non-failures, and each block's rate
is placed at the block's mean score, with Spark's isotonic model interpolating linearly between those
centres. Plain isotonic regression is a step function that ties the thousands of distinct scores of a
window on a few dozen probabilities (average precision reads them as ties); centred, the map is
strictly increasing between the lowest and highest centres, and each block's rows keep, on average,
the rate observed on them. A block's rate is its posterior mean under a Jeffreys prior,
(failures + 1/2) / (rows + 1), so no published probability is exactly 0 or 1, even for a lowest block
without failure or a top block of a few rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pyspark.ml.regression import IsotonicRegression, IsotonicRegressionModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sf_spark.models.engine import LABEL, PROBABILITY, SCORE
from sf_spark.models.metrics import best_threshold, lowest_rounding_to

if TYPE_CHECKING:
    from sf_spark.models.settings import ModelSettings


def pooled_blocks(blocks: pd.DataFrame, min_positives: int) -> pd.DataFrame:
    """Adjacent blocks (`rows`, `positives`, `score_sum`, in increasing rate order) pooled until each holds at
    least `min_positives` failures and non-failures (the last short run joins the block before it); returns
    `score` (mean score), `rate` (Jeffreys posterior mean, non-decreasing), `rows`, `positives`."""
    out: list[list[float]] = []
    run = [0.0, 0.0, 0.0]
    for rows, positives, score_sum in blocks[["rows", "positives", "score_sum"]].itertuples(index=False):
        run = [run[0] + rows, run[1] + positives, run[2] + score_sum]
        if run[1] >= min_positives and run[0] - run[1] >= min_positives:
            out.append(run)
            run = [0.0, 0.0, 0.0]
    if run[0]:
        if out:
            out[-1] = [a + b for a, b in zip(out[-1], run, strict=True)]
        else:
            out.append(run)
    frame = pd.DataFrame(out, columns=["rows", "positives", "score_sum"])
    rate = np.maximum.accumulate(((frame["positives"] + 0.5) / (frame["rows"] + 1.0)).to_numpy())
    return pd.DataFrame(
        {
            "score": frame["score_sum"] / frame["rows"],
            "rate": rate,
            "rows": frame["rows"],
            "positives": frame["positives"],
        }
    )


def calibrate(scored: DataFrame, min_positives: int) -> IsotonicRegressionModel:
    """Centred isotonic map from `model_score` to `probability`, fitted on calibration rows (`label`)."""
    isotonic = IsotonicRegression(featuresCol=SCORE, labelCol=LABEL, predictionCol=PROBABILITY)
    steps = isotonic.fit(scored)
    blocks = (
        steps.transform(scored)
        .groupBy(PROBABILITY)
        .agg(F.count(F.lit(1)).alias("rows"), F.sum(LABEL).alias("positives"), F.sum(SCORE).alias("score_sum"))
        .orderBy(PROBABILITY)
        .toPandas()
    )
    centres = pooled_blocks(blocks, min_positives)
    points = scored.sparkSession.createDataFrame(
        [(float(s), float(r)) for s, r in zip(centres["score"], centres["rate"], strict=True)],
        f"{SCORE} double, {LABEL} double",
    )
    # The points are in increasing order: this fit pools nothing, it only makes them a Spark model.
    return isotonic.fit(points)


def alert_thresholds(calibrated: pd.DataFrame, settings: ModelSettings) -> tuple[dict[str, float], dict[str, float]]:
    """Red (max F-red_beta) and orange (max F-orange_beta) thresholds from a histogram of published
    probabilities on the calibration window, and their precision, recall and alerts there. The histogram's
    scores are rounded: each threshold is the lowest probability rounding to the chosen score, so that the
    rows alerted are the rows counted."""
    choice = {
        "red": best_threshold(calibrated, settings.red_beta),
        "orange": best_threshold(calibrated, settings.orange_beta),
    }
    figures = {f"calibration_{level}_{k}": v for level, found in choice.items() for k, v in found.items()}
    return {level: lowest_rounding_to(found["threshold"]) for level, found in choice.items()}, figures
