"""What a fitted horizon model weighs: the classifier's own importance and additive contributions (log-odds)."""

from __future__ import annotations

import pandas as pd
from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame

from sf_spark.features import feature_topics
from sf_spark.models.engine import classifier_stage, slot_names


def importance(model: PipelineModel) -> dict[str, float]:
    """The classifier's own feature importance per gold feature (sums to 1)."""
    stage = classifier_stage(model)
    names = slot_names(model)
    if hasattr(stage, "featureImportances"):
        values = list(stage.featureImportances.toArray())
    else:
        gains = stage.get_booster().get_score(importance_type="total_gain")
        values = [gains.get(f"f{i}", 0.0) for i in range(len(names))]
    total = sum(values) or 1.0
    return {name: value / total for name, value in zip(names, values, strict=True)}


def contribution_summary(
    model: PipelineModel, rows: DataFrame, sample_rows: int, seed: int, top: int = 15
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Mean |contribution| per feature over a sample of rows, and the points of a beeswarm of the `top`
    features (contribution in log-odds, the feature's value as a quantile within the sample). No identifiers."""
    from sf_spark.explain import CONTRIBUTIONS, explain

    if sample_rows == 0:
        return None, None
    names = slot_names(model)
    total = rows.count()
    sample = rows.sample(fraction=min(1.0, 1.2 * sample_rows / max(total, 1)), seed=seed).limit(sample_rows)
    topics = feature_topics()
    values = explain(model, sample).select(CONTRIBUTIONS, *dict.fromkeys(names)).toPandas()
    if values.empty:
        return None, None
    contributions = pd.DataFrame(values[CONTRIBUTIONS].tolist(), columns=names)
    summary = pd.DataFrame(
        {
            "feature": names,
            "topic": [topics.get(n, "identity") for n in names],
            "mean_abs_contribution": contributions.abs().mean().to_numpy(),
        }
    )
    summary = summary.sort_values("mean_abs_contribution", ascending=False, ignore_index=True)
    points = []
    for name in summary["feature"].head(top):
        raw = values[name]
        numeric = pd.to_numeric(raw, errors="coerce") if raw.dtype == object else raw.astype(float)
        quantile = numeric.rank(pct=True) if numeric.notna().any() else pd.Series(float("nan"), index=raw.index)
        points.append(pd.DataFrame({"feature": name, "contribution": contributions[name], "value_quantile": quantile}))
    return summary, pd.concat(points, ignore_index=True)
