"""Population stability between a model's training window and a scored month, per feature.

Numeric features are cut at the deciles of the reference rows (one approximate-percentile pass
for all features), with missing values as a bin of their own; string features bin by value.
Both frames are counted in one pass each; the index itself is computed on the driver from
(feature, bin) counts:

    PSI = sum over bins (current share - reference share) * ln(current share / reference share)

Shares are floored at `EPSILON` so an empty bin does not make the index infinite. Rules of
thumb: below 0.1 stable, 0.1-0.25 moderate, above 0.25 a shift worth a look.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

EPSILON = 1e-4
QUANTILES = [i / 10 for i in range(1, 10)]
MISSING_BIN = "missing"


def psi(reference: pd.Series, current: pd.Series) -> float:
    """PSI of two count vectors indexed by bin (bins absent on one side count 0 there)."""
    bins = reference.index.union(current.index)
    ref = reference.reindex(bins, fill_value=0).to_numpy(dtype=float)
    cur = current.reindex(bins, fill_value=0).to_numpy(dtype=float)
    if ref.sum() == 0 or cur.sum() == 0:
        return math.nan
    ref = np.maximum(ref / ref.sum(), EPSILON)
    cur = np.maximum(cur / cur.sum(), EPSILON)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def status(value: float, threshold: float) -> str:
    """'shift' at or above the threshold, 'moderate' from 0.1, else 'stable' ('unknown' when NaN)."""
    if value != value:
        return "unknown"
    if value >= threshold:
        return "shift"
    return "moderate" if value >= 0.1 else "stable"


def decile_edges(reference: DataFrame, numeric: list[str]) -> dict[str, list[float]]:
    """Distinct decile edges of each numeric feature over the reference rows (one pass)."""
    if not numeric:
        return {}
    row = reference.select(
        *[F.percentile_approx(F.col(c).cast("double"), QUANTILES, 1000).alias(c) for c in numeric]
    ).first()
    return {c: sorted({float(v) for v in (row[c] or []) if v is not None and v == v}) for c in numeric}


def _bin(column: str, edges: list[float] | None) -> Column:
    value = F.col(column)
    if edges is None:
        return F.coalesce(value.cast("string"), F.lit(MISSING_BIN))
    number = value.cast("double")
    index = sum((F.when(number > F.lit(edge), 1).otherwise(0) for edge in edges), F.lit(0))
    return F.when(number.isNull() | F.isnan(number), F.lit(MISSING_BIN)).otherwise(index.cast("string"))


def bin_counts(df: DataFrame, features: list[str], edges: dict[str, list[float]]) -> pd.DataFrame:
    """Rows per (feature, bin), one pass: numeric features by decile edges, the others by value."""
    binned = df.select(
        F.explode(
            F.array(*[F.struct(F.lit(c).alias("feature"), _bin(c, edges.get(c)).alias("bin")) for c in features])
        ).alias("b")
    )
    return binned.groupBy("b.feature", "b.bin").count().toPandas()


def population_stability(
    reference: DataFrame, current: DataFrame, numeric: list[str], categorical: list[str]
) -> pd.DataFrame:
    """PSI per feature of `current` against `reference`: columns feature, psi, reference_rows, current_rows."""
    features = [*numeric, *categorical]
    edges = decile_edges(reference, numeric)
    ref = bin_counts(reference, features, edges)
    cur = bin_counts(current, features, edges)
    rows = []
    for feature in features:
        r = ref[ref["feature"] == feature].set_index("bin")["count"]
        c = cur[cur["feature"] == feature].set_index("bin")["count"]
        rows.append(
            {"feature": feature, "psi": psi(r, c), "reference_rows": int(r.sum()), "current_rows": int(c.sum())}
        )
    return pd.DataFrame(rows)
