"""Firm-clustered bootstrap intervals of histogram metrics, from aggregates only.

A firm's months are near copies of each other, so resampling rows would make intervals far too narrow:
the bootstrap resamples firms. Each replicate r gives every firm a Poisson(1) weight drawn from a hash of
(siren, r, seed), the same for all its rows (the Poisson bootstrap: as if firms were drawn with
replacement). Spark sums the weighted rows per (group, replicate, score bin); the driver receives those
histograms, never a firm's row. Scores are binned on the log-odds scale (`BINS_PER_LOGIT` bins per unit),
which leaves average precision and AUC within a few thousandths of their exact values; replicate 0 is the
whole sample binned the same way, and each interval is shifted by the exact value minus replicate 0's, so
the binning moves neither end.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

BINS_PER_LOGIT = 25
_POISSON_CDF = np.cumsum([math.exp(-1) / math.factorial(k) for k in range(10)])


def poisson_weight(replicate: F.Column, seed: int) -> F.Column:
    """A Poisson(1) weight per (siren, replicate): the inverse CDF of a uniform hashed from both."""
    uniform = (F.abs(F.xxhash64(F.col("siren"), replicate, F.lit(seed))) % 1_000_003) / F.lit(1_000_003.0)
    return sum((uniform >= F.lit(float(c))).cast("int") for c in _POISSON_CDF)


def logit_bin(column: str) -> F.Column:
    p = F.least(F.greatest(F.col(column).cast("double"), F.lit(1e-9)), F.lit(1 - 1e-9))
    return F.floor(F.log(p / (F.lit(1.0) - p)) * BINS_PER_LOGIT).cast("int")


def replicate_histograms(
    scored: DataFrame, scores: Sequence[str], label: str, replicates: int, seed: int, by: Sequence[str] = ()
) -> pd.DataFrame:
    """Per (`by` groups, `column` of `scores`, replicate 0..replicates, bin): weighted `rows`, `positives` and
    `p_sum` (sum of the scores), where replicate 0 has weight 1 for every firm. `score` is the bin, a
    rank-preserving stand-in for the scores it holds."""
    stacked = None
    for column in scores:
        part = (
            scored.where(F.col(column).isNotNull() & F.col(label).isNotNull())
            .groupBy("siren", *by, F.lit(column).alias("column"), logit_bin(column).alias("score"))
            .agg(
                F.count(F.lit(1)).alias("n"),
                F.sum(F.col(label).cast("long")).alias("k"),
                F.sum(F.col(column).cast("double")).alias("s"),
            )
        )
        stacked = part if stacked is None else stacked.unionByName(part)
    replicate = F.explode(F.sequence(F.lit(0), F.lit(replicates))).alias("replicate")
    weighted = (
        stacked.select("*", replicate)
        .withColumn("w", F.when(F.col("replicate") == 0, F.lit(1)).otherwise(poisson_weight(F.col("replicate"), seed)))
        .where(F.col("w") > 0)
    )
    return (
        weighted.groupBy(*by, "column", "replicate", "score")
        .agg(
            F.sum(F.col("w") * F.col("n")).alias("rows"),
            F.sum(F.col("w") * F.col("k")).alias("positives"),
            F.sum(F.col("w") * F.col("s")).alias("p_sum"),
        )
        .toPandas()
    )


Statistic = Callable[[dict[str, pd.DataFrame]], float]


def intervals(
    histograms: pd.DataFrame, statistics: dict[str, Statistic], exact: dict[str, float], confidence: float
) -> dict[str, tuple[float, float]]:
    """Percentile intervals of each statistic over the replicates of one group's `replicate_histograms`.

    A statistic reads {column: histogram (score, rows, positives, p_sum)} of one replicate. The interval is
    shifted by `exact[name]` minus the statistic on replicate 0 (binning only, not resampling)."""
    values: dict[str, list[float]] = {name: [] for name in statistics}
    base: dict[str, float] = {}
    for replicate, part in histograms.groupby("replicate"):
        hists = {
            column: h.sort_values("score", ascending=False, ignore_index=True) for column, h in part.groupby("column")
        }
        for name, statistic in statistics.items():
            value = statistic(hists)
            if replicate == 0:
                base[name] = value
            else:
                values[name].append(value)
    low, high = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    out = {}
    for name, found in values.items():
        finite = np.array([v for v in found if not math.isnan(v)])
        if not len(finite) or math.isnan(base.get(name, math.nan)) or math.isnan(exact.get(name, math.nan)):
            out[name] = (math.nan, math.nan)
            continue
        shift = exact[name] - base[name]
        out[name] = (float(np.quantile(finite, low) + shift), float(np.quantile(finite, high) + shift))
    return out
