"""Explanations of alerted rows: top features with their values, and contributions summed by topic.

Contributions are exact tree SHAP values in log-odds of the classifier before calibration
(`sf_spark.explain`); they add up, with the bias, to the row's log-odds. Top features and topic
sums are Spark expressions over the contributions array, so they are computed on the executors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pyspark.ml import PipelineModel
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sf_spark.explain import BIAS, CONTRIBUTIONS, LOG_ODDS, explain
from sf_spark.models.engine import slot_names

TOP_FEATURES, TOPIC_CONTRIBUTIONS = "top_features", "topic_contributions"
TOP_FEATURE_TYPE = "array<struct<feature:string,value:string,contribution:double>>"


def top_features(names: Sequence[str], k: int) -> Column:
    """The k slots of largest absolute contribution, largest first: feature, its value (as text), contribution."""
    entries = F.transform(
        F.sequence(F.lit(0), F.lit(len(names) - 1)),
        lambda i: F.struct(
            F.abs(F.col(CONTRIBUTIONS)[i]).alias("weight"),
            F.lit(len(names)) - i,  # ties: earlier slot first
            F.array(*[F.lit(n) for n in names])[i].alias("feature"),
            F.array(*[F.col(n).cast("string") for n in names])[i].alias("value"),
            F.col(CONTRIBUTIONS)[i].alias("contribution"),
        ),
    )
    ranked = F.slice(F.reverse(F.array_sort(entries)), 1, k)
    return F.transform(
        ranked,
        lambda e: F.struct(
            e["feature"].alias("feature"), e["value"].alias("value"), e["contribution"].alias("contribution")
        ),
    )


def topic_sums(names: Sequence[str], topics: Mapping[str, str]) -> Column:
    """Map topic -> sum of its slots' contributions (log-odds); topics in catalogue order."""
    pairs = []
    for topic in dict.fromkeys(topics[n] for n in names):
        slots = [i for i, n in enumerate(names) if topics[n] == topic]
        pairs += [F.lit(topic), sum((F.col(CONTRIBUTIONS)[i] for i in slots), F.lit(0.0))]
    return F.create_map(*pairs)


def explained(model: PipelineModel, rows: DataFrame, topics: Mapping[str, str], k: int) -> DataFrame:
    """`rows` (gold feature columns) with `log_odds`, `contribution_bias`, `top_features`, `topic_contributions`
    and the full `contributions` array, all from the model's classifier."""
    names = slot_names(model)
    out = explain(model, rows)
    return out.select(
        *rows.columns,
        LOG_ODDS,
        BIAS,
        CONTRIBUTIONS,
        top_features(names, k).alias(TOP_FEATURES),
        topic_sums(names, topics).alias(TOPIC_CONTRIBUTIONS),
    )
