"""Firm-clustered bootstrap: a firm's months move together, so copying a firm's rows does not narrow an interval."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.sql import functions as F

from sf_spark.models import bootstrap
from sf_spark.models.metrics import average_precision, histogram_of


def _rows(spark, copies: int, distinct_firms: bool):
    rng = np.random.default_rng(4)
    score = rng.random(1500)
    label = (rng.random(1500) < 0.3 * score).astype(int)
    data = [
        (f"{i:06d}" + (f"{c:02d}" if distinct_firms else ""), c, float(s), int(y))
        for i, (s, y) in enumerate(zip(score, label, strict=True))
        for c in range(copies)
    ]
    exact = average_precision(histogram_of(score, label))
    return spark.createDataFrame(data, "siren string, month int, probability double, label int"), exact


def _width(spark, copies: int, distinct_firms: bool) -> tuple[float, tuple[float, float], float]:
    df, exact = _rows(spark, copies, distinct_firms)
    hists = bootstrap.replicate_histograms(df, ["probability"], "label", replicates=60, seed=1)
    stats = {"aucpr": lambda h: average_precision(h["probability"])}
    low, high = bootstrap.intervals(hists, stats, {"aucpr": exact}, confidence=0.9)["aucpr"]
    return high - low, (low, high), exact


def test_a_firm_has_one_weight_per_replicate_and_weights_average_one(spark):
    firms = spark.range(4000).select(F.format_string("%09d", "id").alias("siren"))
    rows = firms.crossJoin(spark.range(3).withColumnRenamed("id", "month"))
    weights = rows.select("siren", bootstrap.poisson_weight(F.lit(7), seed=1).alias("w"))
    per_firm = weights.groupBy("siren").agg(F.countDistinct("w").alias("values"), F.first("w").alias("w"))
    assert per_firm.where("values > 1").count() == 0
    stats = per_firm.agg(F.avg("w"), F.variance("w")).first()
    assert stats[0] == pytest.approx(1.0, abs=0.05) and stats[1] == pytest.approx(1.0, abs=0.08)


def test_copies_of_a_firm_do_not_narrow_its_interval_but_new_firms_do(spark):
    alone, (low, high), exact = _width(spark, 1, False)
    assert low < exact < high
    months, _, _ = _width(spark, 8, False)
    firms, _, _ = _width(spark, 8, True)
    assert months == pytest.approx(alone, rel=1e-9)  # the same firms, eight months each: the same uncertainty
    assert firms < 0.6 * alone  # eight times the firms: about 1 / sqrt(8) as wide
