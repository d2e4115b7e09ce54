"""Explanations of a fitted `PipelineModel`'s classifier on a DataFrame, computed on the executors.

The pipeline's stages before its classifier (a Spark `GBTClassificationModel` or an xgboost
`SparkXGBClassifierModel`) build the feature vector; the classifier's log-odds on that vector is split into
one exact additive contribution per vector slot plus a bias (tree SHAP, path-dependent). Stages after the
classifier (calibration, alert levels) are not explained.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from pyspark.ml import PipelineModel, Transformer
from pyspark.ml.classification import GBTClassificationModel
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.functions import pandas_udf

from sf_spark.explain.trees import tree_ensemble
from sf_spark.explain.treeshap import TreeShap

LOG_ODDS, CONTRIBUTIONS, BIAS = "log_odds", "contributions", "contribution_bias"
_TEMPORARY = "_explain_"
_BATCH_SCHEMA = "log_odds double, contributions array<double>, bias double"


def _is_xgboost(stage: Transformer) -> bool:
    try:
        from xgboost.spark import SparkXGBClassifierModel
    except ImportError:
        return False
    return isinstance(stage, SparkXGBClassifierModel)


def classifier_index(model: PipelineModel) -> int:
    """Position of the pipeline's one classifier stage (Spark GBT or xgboost)."""
    found = [i for i, s in enumerate(model.stages) if isinstance(s, GBTClassificationModel) or _is_xgboost(s)]
    if len(found) != 1:
        raise ValueError(
            f"expected exactly one GBTClassificationModel or SparkXGBClassifierModel stage, "
            f"found {len(found)} among {[type(s).__name__ for s in model.stages]}"
        )
    return found[0]


def _features_column(classifier: Transformer) -> str:
    if _is_xgboost(classifier) and classifier.getOrDefault("features_cols"):
        raise ValueError("xgboost models trained on `features_cols` are not supported: assemble a vector column")
    return classifier.getOrDefault("featuresCol")


def _num_features(classifier: Transformer) -> int:
    if isinstance(classifier, GBTClassificationModel):
        return classifier.numFeatures
    return classifier.get_booster().num_features()


def slot_names(model: PipelineModel, df: DataFrame | None = None) -> list[str]:
    """Name of each slot of the classifier's feature vector, in slot order (the order of `contributions`).

    Without `df`, the inputs of the `VectorAssembler` that builds the vector (each must be one slot). With
    `df`, the vector's own `ml_attr` metadata after the stages before the classifier, which also names
    the slots of vector inputs.
    """
    index = classifier_index(model)
    classifier = model.stages[index]
    features = _features_column(classifier)
    if df is not None:
        schema = PipelineModel(stages=model.stages[:index]).transform(df).schema
        names = _attribute_names(schema[features].metadata)
    else:
        assembler = next(
            (
                s
                for s in reversed(model.stages[:index])
                if isinstance(s, VectorAssembler) and s.getOutputCol() == features
            ),
            None,
        )
        if assembler is None:
            raise ValueError(
                f"no VectorAssembler writes {features!r} before the classifier; pass `df` to read "
                "the vector's metadata instead"
            )
        names = list(assembler.getInputCols())
    expected = _num_features(classifier)
    if names is None or len(names) != expected:
        raise ValueError(
            f"could not name the {expected} slots of {features!r} (got {names}); "
            "pass `df` to read the vector's metadata"
        )
    return names


def _attribute_names(metadata: dict[str, Any]) -> list[str] | None:
    """Slot names from a vector column's `ml_attr` metadata, or None when some slot has no name."""
    attributes = metadata.get("ml_attr", {})
    found = {a["idx"]: a.get("name") for kind in attributes.get("attrs", {}).values() for a in kind}
    size = attributes.get("num_attrs", len(found))
    names = [found.get(i) for i in range(size)]
    return None if any(n is None for n in names) else names


def _explain_batch(explainer: TreeShap, vectors: pd.Series) -> pd.DataFrame:
    """One Arrow batch: feature arrays (None for a null vector) -> log-odds, contributions, bias."""
    present = vectors.notna().to_numpy()
    log_odds = np.full(len(vectors), np.nan)
    contributions: list[np.ndarray | None] = [None] * len(vectors)
    if present.any():
        out = explainer.explain(np.stack(vectors[present].to_numpy()))
        log_odds[present] = out.log_odds
        for position, row in zip(np.flatnonzero(present), out.contributions, strict=True):
            contributions[position] = row
    bias = np.where(present, explainer.bias, np.nan)
    return pd.DataFrame({"log_odds": log_odds, "contributions": contributions, "bias": bias})


def _explain_gbt(classifier: GBTClassificationModel, df: DataFrame, features: str) -> DataFrame:
    """Tree SHAP of a Spark GBT: the trees are read on the driver and broadcast, rows never leave the executors."""
    explainer = df.sparkSession.sparkContext.broadcast(TreeShap(tree_ensemble(classifier)))

    @pandas_udf(_BATCH_SCHEMA)  # type: ignore[call-overload]
    def explain_batches(batches: Iterator[pd.Series]) -> Iterator[pd.DataFrame]:
        shap = explainer.value
        for vectors in batches:
            yield _explain_batch(shap, vectors)

    out = f"{_TEMPORARY}out"
    explained = df.withColumn(out, explain_batches(vector_to_array(F.col(features))))
    return explained.withColumns(
        {
            LOG_ODDS: F.col(out)["log_odds"],
            CONTRIBUTIONS: F.col(out)["contributions"],
            BIAS: F.col(out)["bias"],
        }
    ).drop(out)


def _explain_xgboost(classifier: Transformer, df: DataFrame) -> DataFrame:
    """XGBoost's own exact tree SHAP (`pred_contrib_col`): per row one value per slot then the bias, in log-odds.

    XGBoost computes margins and contributions in float32, so they add up to its log-odds to float32 precision
    (about 1e-6 with tens of trees), not to 1e-12 as the float64 tree SHAP of Spark's GBT does.
    """
    raw, contrib = f"{_TEMPORARY}raw", f"{_TEMPORARY}contrib"
    outputs = {"rawPredictionCol": raw, "pred_contrib_col": contrib, "probabilityCol": "", "predictionCol": ""}
    model = classifier.copy({classifier.getParam(name): column for name, column in outputs.items()})
    # Binary classification: one output group, so the contributions are the first (only) inner array.
    values = F.col(contrib)[0]
    return (
        model.transform(df)
        .withColumns(
            {
                LOG_ODDS: vector_to_array(F.col(raw))[1],
                CONTRIBUTIONS: F.slice(values, 1, F.size(values) - 1),
                BIAS: F.element_at(values, -1),
            }
        )
        .drop(raw, contrib)
    )


def explain(model: PipelineModel, df: DataFrame) -> DataFrame:
    """`df` with `log_odds` (the classifier's, before calibration), `contributions` (array<double>, one per
    vector slot, see `slot_names`) and `contribution_bias`, all in log-odds:
    `sum(contributions) + contribution_bias == log_odds` for every row. Computed on the executors (a pandas UDF
    with the trees broadcast); nothing is collected.
    """
    clash = {LOG_ODDS, CONTRIBUTIONS, BIAS} & set(df.columns)
    if clash:
        raise ValueError(f"df already has column(s) {sorted(clash)}: rename them before explaining")
    index = classifier_index(model)
    classifier = model.stages[index]
    features = _features_column(classifier)
    prepared = PipelineModel(stages=model.stages[:index]).transform(df)
    if isinstance(classifier, GBTClassificationModel):
        explained = _explain_gbt(classifier, prepared, features)
    else:
        explained = _explain_xgboost(classifier, prepared)
    return explained.select(*(F.col(f"`{c}`") for c in df.columns), LOG_ODDS, CONTRIBUTIONS, BIAS)
