"""The training report's data contract: what one horizon brings (`HorizonResult`), the columns each of
its frames must have, the refusal of any firm identifier, and how values are written (percent, counts,
windows)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sf_spark.models import metrics
from sf_spark.models.agents import AGENTS_COLUMNS, REASONS_COLUMNS

MIN_GROUP_POSITIVES = 10  # below this, a group's figures are shown greyed: too few failures to trust them


ALERT_LEVELS = ("red", "orange")


GROUP_DIMENSIONS = {"region": "region", "naf_section": "NAF section"}


IDENTIFIER_COLUMNS = frozenset({"siren", "siret"})


ALERTS_BY_MONTH_COLUMNS = ["periode", "rows", "positives", "red", "orange"]


BY_GROUP_COLUMNS = [
    "dimension",
    "group",
    "rows",
    "positives",
    "roc_auc",
    "aucpr",
    "red_alerts",
    "red_precision",
    "red_recall",
    "orange_alerts",
    "orange_precision",
    "orange_recall",
]


IMPORTANCE_COLUMNS = ["feature", "topic", "importance"]


SHAP_SUMMARY_COLUMNS = ["feature", "topic", "mean_abs_contribution"]


SHAP_POINTS_COLUMNS = ["feature", "contribution", "value_quantile"]


@dataclass(frozen=True, kw_only=True)
class HorizonResult:
    """What the report shows about one horizon of one training; aggregates only.

    `test_histogram`, `oracle_histogram` and `raw_histogram` are score histograms on the test
    window (`metrics.HISTOGRAM_COLUMNS`): calibrated probability, the generator's true
    probability on the same rows, the model's score before calibration. `alerts_by_month` has
    one row per test month: `periode` (YYYY-MM), `rows`, `positives`, `red` and `orange`, the
    rows at or above each threshold (orange counts red rows too, as `metrics.at_threshold`),
    and optionally `red_positives`, `orange_positives`, the failures among them, and `p_sum`, the sum of
    the published probabilities (failures announced). `by_group` has
    one row per region or NAF section (`BY_GROUP_COLUMNS`), at firm-month grain.
    `importance` sums to 1; SHAP-style contributions are in log-odds. In a backtest, the "test" rows are
    the months after every origin, pooled; `backtest` has one row per origin (`origin`, `test_start`,
    `test_end`, `rows`, `positives`, `aucpr`, `roc_auc`, `sum_p_to_failures`, optionally their `_low` /
    `_high` interval ends and the oracle ratios), `calibration_by_year` one row per calendar year (`year`,
    `rows`, `positives`, `p_sum`, `sum_p_to_failures`), `intervals` the pooled intervals by statistic.
    `agents` is the alerts as the agents judged them next to the failures (`models.agents.AGENTS_COLUMNS`),
    `agents_reasons` the reasons of their `inutile` ratings by level (`models.agents.REASONS_COLUMNS`).
    """

    horizon: int
    windows: dict[str, str]
    metrics: dict[str, float]
    thresholds: dict[str, float]
    test_histogram: pd.DataFrame
    oracle_histogram: pd.DataFrame | None = None
    raw_histogram: pd.DataFrame | None = None
    alerts_by_month: pd.DataFrame
    by_group: pd.DataFrame
    importance: pd.DataFrame
    shap_summary: pd.DataFrame | None = None
    shap_points: pd.DataFrame | None = None
    backtest: pd.DataFrame | None = None
    calibration_by_year: pd.DataFrame | None = None
    intervals: Mapping[str, tuple[float, float]] | None = None
    agents: pd.DataFrame | None = None
    agents_reasons: pd.DataFrame | None = None


def has_oracle(result: HorizonResult) -> bool:
    return result.oracle_histogram is not None or any(k.startswith(("oracle_", RATIO_PREFIX)) for k in result.metrics)


# --- checks --------------------------------------------------------------------------------------


def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = set(columns) - set(frame.columns)
    if missing:
        raise ValueError(f"{what} needs columns {columns}; missing {sorted(missing)}")
    identifiers = IDENTIFIER_COLUMNS & {str(c).lower() for c in frame.columns}
    if identifiers:
        raise ValueError(f"{what} carries firm identifiers {sorted(identifiers)}: the report takes aggregates only")


def check_result(result: HorizonResult) -> None:
    h = result.horizon
    for name in ("test_histogram", "oracle_histogram", "raw_histogram"):
        frame = getattr(result, name)
        if frame is not None:
            _require(frame, metrics.HISTOGRAM_COLUMNS, f"{name} ({h} months)")
    if result.test_histogram["rows"].sum() == 0:
        raise ValueError(f"test_histogram ({h} months) is empty")
    _require(result.alerts_by_month, ALERTS_BY_MONTH_COLUMNS, f"alerts_by_month ({h} months)")
    _require(result.by_group, BY_GROUP_COLUMNS, f"by_group ({h} months)")
    unknown = set(result.by_group["dimension"]) - set(GROUP_DIMENSIONS)
    if unknown:
        raise ValueError(f"by_group ({h} months): dimensions {sorted(unknown)} are not among {list(GROUP_DIMENSIONS)}")
    _require(result.importance, IMPORTANCE_COLUMNS, f"importance ({h} months)")
    if result.shap_summary is not None:
        _require(result.shap_summary, SHAP_SUMMARY_COLUMNS, f"shap_summary ({h} months)")
    if result.shap_points is not None:
        _require(result.shap_points, SHAP_POINTS_COLUMNS, f"shap_points ({h} months)")
    if result.agents is not None:
        _require(result.agents, AGENTS_COLUMNS, f"agents ({h} months)")
    if result.agents_reasons is not None:
        _require(result.agents_reasons, REASONS_COLUMNS, f"agents_reasons ({h} months)")


# --- formatting ----------------------------------------------------------------------------------

DASH = "–"


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value))


def pct(value: object, decimals: int = 1) -> str:
    return DASH if is_missing(value) else f"{100 * float(value):.{decimals}f} %"


def dec(value: object, decimals: int = 3) -> str:
    return DASH if is_missing(value) else f"{float(value):.{decimals}f}"


def num(value: object) -> str:
    """Whole counts with thousands separators (so no count ever reads like a 9-digit identifier)."""
    return DASH if is_missing(value) else f"{round(float(value)):,}"


def joined(parts: Iterable[str]) -> str:
    items = list(parts)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


RATIO_PREFIX = "model_to_oracle_"


def window_label(windows: Mapping[str, str], kind: str) -> str:
    start, end = windows.get(f"{kind}_start"), windows.get(f"{kind}_end")
    return f"{start} – {end}" if start or end else ""
