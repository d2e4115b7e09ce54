"""The training report: one self-contained HTML file per training, figures first.

Everything in it is an aggregate over firm-months (score histograms, counts per month, metrics
by region or NAF section, feature importances), so the file travels like the run's metadata:
no firm identifier enters it, and inputs that could carry one are refused. Figures are drawn on
matplotlib's Agg canvas (no display, no pyplot state) and embedded as base64 PNG; the page
needs no other file and no network.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import LogLocator, NullFormatter, PercentFormatter

from sf_spark.features.catalogue import TOPICS
from sf_spark.models import metrics

DPI = 100
TOP_IMPORTANCE = 20
TOP_BEESWARM = 15
MIN_GROUP_POSITIVES = 10  # below this, a group's figures are shown greyed: too few failures to trust them

ALERT_LEVELS = ("red", "orange")
ALERT_COLOURS = {"red": "#c62828", "orange": "#f28e2b"}
MODEL_COLOUR, ORACLE_COLOUR, RAW_COLOUR = "#1f4e79", "#7b3294", "#8c8c8c"
SURVIVED_COLOUR, FAILED_COLOUR = "#9db9d5", "#222222"
# Topic colours avoid red and orange, which mean alerts; topics beyond the palette are drawn as "other".
TOPIC_PALETTE = (
    "#4e79a7",
    "#59a14f",
    "#b07aa1",
    "#edc948",
    "#76b7b2",
    "#9c755f",
    "#bab0ac",
    "#ff9da7",
    "#86bcb6",
    "#d4a6c8",
)
TOPIC_COLOURS = dict(zip(TOPICS, TOPIC_PALETTE, strict=False))
OTHER_TOPIC_COLOUR = "#555555"
VALUE_CMAP = LinearSegmentedColormap.from_list("feature_value", ["#1e88e5", "#d81b60"])
MISSING_VALUE_COLOUR = "#c8c8c8"

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


def write_report(path: str | Path, results: list[HorizonResult], run: Mapping[str, str]) -> Path:
    """Write the HTML training report of `results` (one per horizon) with the `run` facts; return its path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_report(results, run), encoding="utf-8")
    return target


def render_report(results: list[HorizonResult], run: Mapping[str, str]) -> str:
    """The training report as one HTML string (figures embedded), horizons in increasing order."""
    ordered = sorted(results, key=lambda r: r.horizon)
    horizons = [r.horizon for r in ordered]
    if not ordered or len(set(horizons)) != len(horizons):
        raise ValueError(f"the report needs one result per horizon, at least one; got horizons {horizons}")
    for result in ordered:
        _check(result)
    nav = " · ".join(f'<a href="#horizon-{h}">{h} months</a>' for h in horizons)
    body = "\n".join(
        [
            "<header><h1>Early-warning model: training report</h1>",
            f'<p class="sub">Probability of entering collective proceedings within {_join(f"{h}" for h in horizons)} '
            f"months, per firm and month. Aggregates only. Horizons: {nav}</p></header>",
            '<section id="run"><h2>Run</h2>',
            _run_table(run),
            "</section>",
            '<section id="summary"><h2>Summary across horizons</h2>',
            _summary_table(ordered),
            '<p class="note">Test figures are the rolling-origin backtest: at each origin the procedure was fitted '
            "on what was known then and scored the months after it, pooled over origins; intervals resample firms. "
            "Thresholds were chosen on each fit's calibration window (red maximises F0.5, orange F2); those shown "
            "are the production fit's. Orange counts every row at or above the orange threshold, red ones "
            "included."
            + (
                " The oracle is the generator's true probability on the same rows: the best any model could do."
                if any(_has_oracle(r) for r in ordered)
                else ""
            )
            + "</p></section>",
            *(_horizon_section(r) for r in ordered),
        ]
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Training report {html.escape(str(run.get('run_id', '')))}</title>\n"
        f"<style>{_css()}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _has_oracle(result: HorizonResult) -> bool:
    return result.oracle_histogram is not None or any(k.startswith(("oracle_", RATIO_PREFIX)) for k in result.metrics)


# --- checks --------------------------------------------------------------------------------------


def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = set(columns) - set(frame.columns)
    if missing:
        raise ValueError(f"{what} needs columns {columns}; missing {sorted(missing)}")
    identifiers = IDENTIFIER_COLUMNS & {str(c).lower() for c in frame.columns}
    if identifiers:
        raise ValueError(f"{what} carries firm identifiers {sorted(identifiers)}: the report takes aggregates only")


def _check(result: HorizonResult) -> None:
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


# --- formatting ----------------------------------------------------------------------------------

DASH = "–"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value))


def _pct(value: object, decimals: int = 1) -> str:
    return DASH if _missing(value) else f"{100 * float(value):.{decimals}f} %"


def _dec(value: object, decimals: int = 3) -> str:
    return DASH if _missing(value) else f"{float(value):.{decimals}f}"


def _count(value: object) -> str:
    """Whole counts with thousands separators (so no count ever reads like a 9-digit identifier)."""
    return DASH if _missing(value) else f"{round(float(value)):,}"


def _join(parts: Iterable[str]) -> str:
    items = list(parts)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


METRIC_ORDER = (
    "rows",
    "positives",
    "base_rate",
    "roc_auc",
    "aucpr",
    "brier",
    "ece",
    "alerts",
    "precision",
    "recall",
    "f_beta",
)
METRIC_LABELS = {
    "rows": "rows",
    "positives": "failures",
    "base_rate": "failure rate",
    "roc_auc": "ROC AUC",
    "aucpr": "AUCPR",
    "brier": "Brier score",
    "ece": "ECE (10 equal-mass bins)",
    "alerts": "alerts",
    "precision": "precision",
    "recall": "recall",
    "f_beta": "F-beta",
}
METRIC_FORMATS = {
    "rows": _count,
    "positives": _count,
    "alerts": _count,
    "base_rate": _pct,
    "precision": _pct,
    "recall": _pct,
    "brier": lambda v: _dec(v, 4),
    "ece": lambda v: _dec(v, 4),
}
RATIO_PREFIX = "model_to_oracle_"
METRIC_SECTIONS = {  # a key belongs to the longest prefix it starts with
    "test_": "Test window, per firm-month",
    "red_": "Red alerts, per firm-month",
    "orange_": "Orange alerts, per firm-month",
    "firm_test_": "Test window, per firm",
    "firm_red_": "Red alerts, per firm",
    "firm_orange_": "Orange alerts, per firm",
    "firm_": "Per firm, other",
    "oracle_": "Oracle (the generator's true probabilities)",
    RATIO_PREFIX: "Model / oracle",
    "": "Other",
}


def _split_metric(suffix: str) -> tuple[str, str]:
    """`red_precision` -> ('red', 'precision'); the known metric name ends the key."""
    for name in sorted(METRIC_ORDER, key=len, reverse=True):
        if suffix == name or suffix.endswith("_" + name):
            qualifier = suffix[: -len(name)].rstrip("_").removeprefix("test").strip("_")
            return qualifier, name
    return suffix, ""


def _metric_rows(keys: Iterable[str]) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Sections (title, [(key, label, metric name)]) in a reading order, for the metrics present."""
    by_section: dict[str, list[tuple[tuple[str, int], str, str, str]]] = {p: [] for p in METRIC_SECTIONS}
    for key in keys:
        prefix = max((p for p in METRIC_SECTIONS if key.startswith(p)), key=len)
        qualifier, name = _split_metric(key[len(prefix) :])
        rank = METRIC_ORDER.index(name) if name else len(METRIC_ORDER)
        label = " ".join(filter(None, [qualifier.replace("_", " "), METRIC_LABELS.get(name, "")])) or key
        by_section[prefix].append(((qualifier, rank), key, label, name))
    return [
        (METRIC_SECTIONS[p], [(k, label, name) for _, k, label, name in sorted(rows)])
        for p, rows in by_section.items()
        if rows
    ]


def _format_metric(key: str, name: str, value: object) -> str:
    if key.startswith(RATIO_PREFIX):
        return _dec(value, 3)
    return METRIC_FORMATS.get(name, _dec)(value)


def _window(windows: Mapping[str, str], kind: str) -> str:
    start, end = windows.get(f"{kind}_start"), windows.get(f"{kind}_end")
    return f"{start} – {end}" if start or end else ""


def _window_kinds(windows: Mapping[str, str]) -> list[str]:
    kinds: list[str] = []
    for key in windows:
        kind = key.removesuffix("_start").removesuffix("_end")
        if kind not in kinds:
            kinds.append(kind)
    return kinds


# --- HTML pieces ---------------------------------------------------------------------------------


def _css() -> str:
    red, orange = ALERT_COLOURS["red"], ALERT_COLOURS["orange"]
    return f"""
.ci{{color:#777;font-size:.85em}}
body{{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#222;background:#f7f7f5;
max-width:1240px;margin:0 auto;padding:20px 28px 60px;line-height:1.4}}
h1{{font-size:1.6em;margin:8px 0 2px}} h2{{border-bottom:2px solid {MODEL_COLOUR};padding-bottom:3px;margin-top:36px}}
h3{{margin:26px 0 8px}} a{{color:{MODEL_COLOUR}}} .sub,.note{{color:#555;font-size:.9em}}
table{{border-collapse:collapse;font-size:.88em;background:#fff;margin:6px 0}}
th,td{{padding:3px 10px;border-bottom:1px solid #e4e4e4;text-align:right;white-space:nowrap}}
th:first-child,td:first-child{{text-align:left}} thead th{{background:#eef2f7;border-bottom:1px solid #c9d3df}}
tr.section th{{background:#f1f1ee;text-align:left;font-weight:600;color:#444}}
th.red{{color:{red}}} th.orange{{color:{orange}}} tr.thin td{{color:#9a9a9a;font-style:italic}}
.tiles{{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0 16px}}
.tile{{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:6px 14px;min-width:104px}}
.tile .value{{font-size:1.45em;font-weight:600}} .tile .label,.tile .extra{{font-size:.78em;color:#666}}
.tile.red{{border-left:5px solid {red}}} .tile.orange{{border-left:5px solid {orange}}}
.grid{{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:14px}}
figure{{margin:0;background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:8px;text-align:center}}
figure.wide{{grid-column:1/-1}} figure img{{max-width:100%;height:auto}}
figcaption{{font-size:.82em;color:#555;text-align:left;margin-top:4px}}
.tables{{display:flex;flex-wrap:wrap;gap:28px;align-items:flex-start}}
"""


def _table(head: str, rows: Iterable[str], css_class: str = "") -> str:
    cls = f' class="{css_class}"' if css_class else ""
    return f"<table{cls}><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _run_table(run: Mapping[str, str]) -> str:
    rows = (
        f"<tr><td>{html.escape(str(k).replace('_', ' '))}</td><td>{html.escape(str(v))}</td></tr>"
        for k, v in run.items()
    )
    return _table("<tr><th>fact</th><th>value</th></tr>", rows, "kv")


def _summary_table(results: list[HorizonResult]) -> str:
    columns = len(results) + 1
    head = "<tr><th></th>" + "".join(f"<th>{r.horizon} months</th>" for r in results) + "</tr>"

    def section(title: str) -> str:
        return f'<tr class="section"><th colspan="{columns}">{html.escape(title)}</th></tr>'

    def row(label: str, cells: Iterable[str]) -> str:
        return f"<tr><td>{html.escape(label)}</td>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"

    rows = [section("Windows")]
    kinds: list[str] = []
    for r in results:
        kinds += [k for k in _window_kinds(r.windows) if k not in kinds]
    rows += [
        row(
            kind.replace("_", " "),
            (html.escape(_window(r.windows, kind) or r.windows.get(kind, DASH)) for r in results),
        )
        for kind in kinds
    ]
    rows.append(section("Thresholds on calibrated probability"))
    rows += [row(level, (_pct(r.thresholds.get(level, math.nan), 2) for r in results)) for level in ALERT_LEVELS]
    keys: list[str] = []
    for r in results:
        keys += [k for k in r.metrics if k not in keys]
    for title, entries in _metric_rows(keys):
        rows.append(section(title))
        rows += [
            row(label, (_format_metric(key, name, r.metrics.get(key, math.nan)) for r in results))
            for key, label, name in entries
        ]
    return _table(head, rows, "summary")


def _tile(label: str, value: str, extra: str = "", css_class: str = "") -> str:
    extra_html = f'<div class="extra">{html.escape(extra)}</div>' if extra else ""
    cls = f"tile {css_class}" if css_class else "tile"
    return (
        f'<div class="{cls}"><div class="value">{html.escape(value)}</div>'
        f'<div class="label">{html.escape(label)}</div>{extra_html}</div>'
    )


def _first(values: Mapping[str, float], *keys: str) -> float | None:
    return next((values[k] for k in keys if k in values), None)


def _tiles(result: HorizonResult) -> str:
    m = result.metrics
    tiles = []
    for name, label, fmt in (
        ("roc_auc", "ROC AUC", _dec),
        ("aucpr", "AUCPR", _dec),
        ("brier", "Brier score", lambda v: _dec(v, 4)),
        ("ece", "calibration error (ECE)", lambda v: _dec(v, 4)),
    ):
        value = _first(m, f"test_{name}")
        if value is not None:
            oracle = _first(m, f"oracle_{name}", f"oracle_test_{name}")
            tiles.append(_tile(label, fmt(value), f"oracle {fmt(oracle)}" if oracle is not None else ""))
    for level in ALERT_LEVELS:
        precision, recall, alerts = (_first(m, f"{level}_{k}") for k in ("precision", "recall", "alerts"))
        if precision is not None and recall is not None:
            extra = f"{_count(alerts)} alerts" if alerts is not None else ""
            tiles.append(
                _tile(f"{level}: precision / recall", f"{_pct(precision, 0)} / {_pct(recall, 0)}", extra, level)
            )
    return f'<div class="tiles">{"".join(tiles)}</div>' if tiles else ""


def _group_table(frame: pd.DataFrame, dimension: str) -> str:
    label = GROUP_DIMENSIONS[dimension]
    head = (
        f'<tr><th rowspan="2">{html.escape(label)}</th><th rowspan="2">rows</th><th rowspan="2">failures</th>'
        '<th rowspan="2">failure rate</th><th rowspan="2">ROC AUC</th><th rowspan="2">AUCPR</th>'
        + "".join(f'<th colspan="3" class="{lv}">{lv} alerts</th>' for lv in ALERT_LEVELS)
        + "</tr><tr>"
        + "<th>alerts</th><th>precision</th><th>recall</th>" * len(ALERT_LEVELS)
        + "</tr>"
    )
    rows = []
    for g in frame.sort_values(["rows", "group"], ascending=[False, True]).itertuples(index=False):
        cells = [
            html.escape(str(g.group)),
            _count(g.rows),
            _count(g.positives),
            _pct(g.positives / g.rows if g.rows else math.nan),
            _dec(g.roc_auc),
            _dec(g.aucpr),
        ]
        for level in ALERT_LEVELS:
            cells += [
                _count(getattr(g, f"{level}_alerts")),
                _pct(getattr(g, f"{level}_precision")),
                _pct(getattr(g, f"{level}_recall")),
            ]
        thin = ' class="thin"' if g.positives < MIN_GROUP_POSITIVES else ""
        rows.append(f"<tr{thin}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return _table(head, rows, f"groups {dimension}")


def _figure_html(figure_id: str, png: str, alt: str, caption: str, wide: bool = False) -> str:
    cls = ' class="wide"' if wide else ""
    return (
        f'<figure id="{figure_id}"{cls}><img src="data:image/png;base64,{png}" alt="{html.escape(alt)}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _horizon_section(result: HorizonResult) -> str:
    h = result.horizon
    hist = metrics.histogram(result.test_histogram)
    rows, positives = int(hist["rows"].sum()), int(hist["positives"].sum())
    thresholds = ", ".join(f"{lv} ≥ {_pct(result.thresholds[lv], 2)}" for lv in ALERT_LEVELS if lv in result.thresholds)
    windows = " · ".join(f"{k.replace('_', ' ')} {_window(result.windows, k)}" for k in _window_kinds(result.windows))
    figures = [
        (
            f"h{h}-reliability",
            _reliability_figure(result),
            "reliability curve",
            "Observed failure rate against mean predicted probability, 10 bins of equal row count, log-log axes. "
            "On the diagonal, a published 5 % means 5 % of such firms fail. Bars: 95 % interval of the observed rate; "
            "a bin without failure sits on the bottom edge."
            + (
                " Dotted grey: the raw score before calibration (what calibration corrected)."
                if result.raw_histogram is not None
                else ""
            ),
            False,
        ),
        (
            f"h{h}-precision-recall",
            _precision_recall_figure(result),
            "precision-recall curve",
            "Share of alerted rows that fail (precision) against share of failures alerted (recall), alerting from "
            "the highest score down. Dots: the red and orange thresholds.",
            False,
        ),
        (
            f"h{h}-roc",
            _roc_figure(result),
            "ROC curve",
            "Share of failures alerted against share of non-failing rows alerted. The inset enlarges the first 10 % "
            "of false alarms, where the alert lists live.",
            False,
        ),
        (
            f"h{h}-score-distribution",
            _distribution_figure(result),
            "score distribution by outcome",
            f"Rows per calibrated probability bin (log scales), split by whether the firm failed within {h} months. "
            "Vertical lines: alert thresholds.",
            False,
        ),
        (
            f"h{h}-alerts-by-month",
            _alerts_figure(result),
            "alerts by month",
            "Rows at or above each threshold per test month (the orange bar includes the red one), observed "
            f"failures within {h} months and, in blue, the failures the probabilities announced (their sum): "
            "calibration in the large, month by month.",
            True,
        ),
        (
            f"h{h}-importance",
            _importance_figure(result),
            "feature importance",
            f"The model's own importance of the top {TOP_IMPORTANCE} features (share of the total), coloured by topic.",
            result.shap_points is None,
        ),
    ]
    if result.shap_points is not None:
        figures.append(
            (
                f"h{h}-beeswarm",
                _beeswarm_figure(result),
                "contribution beeswarm",
                f"One dot per sampled test row and feature, for the top {TOP_BEESWARM} features: additive "
                "contribution in log-odds (right raises the risk), coloured by the feature's value quantile "
                "(grey: missing).",
                False,
            )
        )
    if result.shap_summary is not None:
        figures.append(
            (
                f"h{h}-shap-summary",
                _shap_summary_figure(result),
                "mean absolute contribution",
                "Mean absolute additive contribution (log-odds) over sampled test rows, by feature and "
                "summed by topic.",
                True,
            )
        )
    rendered = [_figure_html(fid, _png(fig), alt, caption, wide) for fid, fig, alt, caption, wide in figures]
    if result.shap_summary is None and result.shap_points is None:
        rendered.append('<p class="note">No additive contributions were computed for this training.</p>')
    tables = _backtest_tables(result)
    for dimension, label in GROUP_DIMENSIONS.items():
        frame = result.by_group[result.by_group["dimension"] == dimension]
        if len(frame):
            tables.append(f'<div><h3 id="h{h}-by-{dimension}">By {label}</h3>{_group_table(frame, dimension)}</div>')
    return "\n".join(
        [
            f'<section class="horizon" id="horizon-{h}"><h2>{h}-month horizon</h2>',
            f'<p class="sub">{html.escape(windows)}<br>Backtest: {_count(rows)} firm-months, {_count(positives)} '
            f"failed within {h} months ({_pct(positives / rows)}). Thresholds: {html.escape(thresholds)}.</p>",
            _tiles(result),
            f'<div class="grid">{"".join(rendered)}</div>',
            f'<div class="tables">{"".join(tables)}</div>',
            f'<p class="note">Firm-months of the test window. Greyed rows have fewer than {MIN_GROUP_POSITIVES} '
            "failures: their figures are mostly noise.</p>"
            if tables
            else "",
            "</section>",
        ]
    )


def _with_interval(row: Mapping[str, object], name: str, fmt=_dec) -> str:
    low, high = row.get(f"{name}_low"), row.get(f"{name}_high")
    value = fmt(row.get(name))
    if _missing(low) or _missing(high):
        return value
    return f'{value} <span class="ci">[{fmt(low)}, {fmt(high)}]</span>'


def _backtest_tables(result: HorizonResult) -> list[str]:
    """Per origin: months scored, rows, AP, ROC AUC, sum p / failures (intervals resample firms); per year:
    sum p / failures."""
    out = []
    if result.backtest is not None and len(result.backtest):
        oracle = "model_to_oracle_aucpr" in result.backtest.columns
        head = (
            "<tr><th>origin</th><th>months scored</th><th>newest training month</th><th>trees</th><th>rows</th>"
            "<th>failures</th><th>AUCPR</th><th>ROC AUC</th><th>sum p / failures</th>"
            + ("<th>model / oracle AUCPR</th>" if oracle else "")
            + "</tr>"
        )
        rows = []
        pooled = {
            **result.metrics,
            **{f"{k}_low": v[0] for k, v in (result.intervals or {}).items()},
            **{f"{k}_high": v[1] for k, v in (result.intervals or {}).items()},
        }
        pooled = {k.removeprefix("test_"): v for k, v in pooled.items()} | {
            k: v for k, v in pooled.items() if k.startswith("model_to_oracle")
        }
        for record in [*result.backtest.to_dict("records"), None]:
            r = record or {
                **pooled,
                "origin": "pooled",
                "test_start": result.backtest["test_start"].iloc[0],
                "test_end": result.backtest["test_end"].iloc[-1],
                "newest_training_month": DASH,
                "trees_kept": DASH,
            }
            cells = [
                html.escape(str(r["origin"])),
                f"{r['test_start']} – {r['test_end']}",
                html.escape(str(r.get("newest_training_month", DASH))),
                html.escape(str(r.get("trees_kept"))),
                _count(r.get("rows")),
                _count(r.get("positives")),
                _with_interval(r, "aucpr"),
                _with_interval(r, "roc_auc"),
                _with_interval(r, "sum_p_to_failures", lambda v: _dec(v, 2)),
                *([_with_interval(r, "model_to_oracle_aucpr")] if oracle else []),
            ]
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        out.append(f'<div><h3 id="h{result.horizon}-backtest">Backtest by origin</h3>{_table(head, rows)}</div>')
    if result.calibration_by_year is not None and len(result.calibration_by_year):
        head = "<tr><th>year</th><th>rows</th><th>failures</th><th>sum p</th><th>sum p / failures</th></tr>"
        rows = [
            f"<tr><td>{int(r.year)}</td><td>{_count(r.rows)}</td><td>{_count(r.positives)}</td>"
            f"<td>{_dec(r.p_sum, 1)}</td><td>{_dec(r.sum_p_to_failures, 2)}</td></tr>"
            for r in result.calibration_by_year.itertuples()
        ]
        out.append(
            f'<div><h3 id="h{result.horizon}-calibration-by-year">Calibration in the large by year</h3>'
            f"{_table(head, rows)}</div>"
        )
    return out


# --- figures -------------------------------------------------------------------------------------


def _new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _tidy(ax, grid_axis: str = "both") -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(True, axis=grid_axis, color="#e6e6e6", linewidth=0.8)
    ax.set_axisbelow(True)


def _title(ax, what: str, result: HorizonResult) -> None:
    test = _window(result.windows, "backtest") or _window(result.windows, "test")
    ax.set_title(
        f"{what}, {result.horizon}-month horizon" + (f"\ntest months {test}" if test else ""), fontsize=10.5, loc="left"
    )


def _thin(x: np.ndarray, y: np.ndarray, points: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """At most `points` points of a curve, ends kept (a plot needs no more)."""
    if len(x) <= points:
        return x, y
    keep = np.unique(np.linspace(0, len(x) - 1, points).round().astype(int))
    return x[keep], y[keep]


def _histograms(result: HorizonResult) -> list[tuple[str, pd.DataFrame, str, str]]:
    """(label, histogram, colour, line style) of the model, and of the oracle when known."""
    series = [("model", metrics.histogram(result.test_histogram), MODEL_COLOUR, "-")]
    if result.oracle_histogram is not None:
        series.append(("oracle", metrics.histogram(result.oracle_histogram), ORACLE_COLOUR, "--"))
    return series


def _operating_points(result: HorizonResult) -> list[tuple[str, float, dict[str, float]]]:
    hist = metrics.histogram(result.test_histogram)
    return [
        (lv, result.thresholds[lv], metrics.at_threshold(hist, result.thresholds[lv]))
        for lv in ALERT_LEVELS
        if lv in result.thresholds
    ]


def _wilson(rate: np.ndarray, rows: np.ndarray, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    """95 % Wilson interval (low, high) of an observed rate over `rows` rows."""
    n = np.maximum(rows, 1.0)
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def _percent_axis(axis, log: bool, subs: tuple[float, ...] = (1.0,)) -> None:
    """Probabilities shown as percentages; a log axis is ticked at `subs` times each decade (0.1 %, 1 %...)."""
    if log:
        axis.set_major_locator(LogLocator(subs=subs))
        axis.set_major_formatter(lambda v, _: f"{100 * v:.10g} %")
        axis.set_minor_formatter(NullFormatter())
    else:
        axis.set_major_formatter(PercentFormatter(xmax=1, decimals=0, symbol=" %"))


def _reliability_figure(result: HorizonResult) -> Figure:
    series = [("calibrated model", metrics.histogram(result.test_histogram), MODEL_COLOUR, "-", "o")]
    if result.raw_histogram is not None:
        series.append(("raw score, before calibration", metrics.histogram(result.raw_histogram), RAW_COLOUR, ":", "s"))
    if result.oracle_histogram is not None:
        series.append(
            ("oracle (true probability)", metrics.histogram(result.oracle_histogram), ORACLE_COLOUR, "--", "D")
        )
    bins = [(label, metrics.reliability(hist), colour, style, marker) for label, hist, colour, style, marker in series]
    values = np.concatenate([b[["mean_predicted", "observed_rate"]].to_numpy().ravel() for _, b, *_ in bins])
    values = values[np.isfinite(values) & (values > 0)]
    low = float(values.min()) / 1.6 if len(values) else 1e-3
    high = min(float(values.max()) * 1.4, 1.0) if len(values) else 1.0
    figure = _new_figure(6, 4.6)
    ax = figure.add_subplot()
    ax.plot([low, high], [low, high], color="#bbbbbb", linewidth=1, label="perfect calibration")
    for label, curve, colour, style, marker in bins:
        x, y = curve["mean_predicted"].clip(low, high), curve["observed_rate"].clip(low, high)
        ax.plot(x, y, linestyle=style, marker=marker, color=colour, markersize=5, linewidth=1.6, label=label)
        if label == "calibrated model":
            lo, hi = _wilson(curve["observed_rate"].to_numpy(), curve["rows"].to_numpy())
            ax.vlines(x, np.clip(lo, low, high), np.clip(hi, low, high), color=colour, alpha=0.45, linewidth=2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    _percent_axis(ax.xaxis, log=True, subs=(1.0, 2.0, 5.0))
    _percent_axis(ax.yaxis, log=True, subs=(1.0, 2.0, 5.0))
    ax.set_xlabel("mean predicted probability in the bin")
    ax.set_ylabel(f"observed failure rate within {result.horizon} months")
    model = metrics.binary_metrics(series[0][1])
    ax.text(
        0.97,
        0.04,
        f"ECE {model['ece']:.4f}\nBrier {model['brier']:.4f}",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=9,
        color=MODEL_COLOUR,
    )
    ax.legend(loc="upper left", fontsize=8.5, frameon=False)
    _tidy(ax)
    _title(ax, "Reliability", result)
    return figure


def _precision_recall_figure(result: HorizonResult) -> Figure:
    figure = _new_figure(6, 4.6)
    ax = figure.add_subplot()
    base_rate = math.nan
    for label, hist, colour, style in _histograms(result):
        curve = metrics.curves(hist)
        figures = metrics.binary_metrics(hist)
        base_rate = figures["base_rate"]
        ax.plot(
            *_thin(curve["recall"], curve["precision"]),
            color=colour,
            linestyle=style,
            linewidth=1.6,
            label=f"{label} (AUCPR {figures['aucpr']:.3f})",
        )
    ax.axhline(base_rate, color="#bbbbbb", linewidth=1, linestyle=":", label=f"failure rate {_pct(base_rate)}")
    for level, threshold, point in _operating_points(result):
        ax.scatter(
            point["recall"],
            point["precision"],
            s=80,
            color=ALERT_COLOURS[level],
            edgecolor="white",
            linewidth=1.2,
            zorder=5,
            label=f"{level} ≥ {_pct(threshold, 2)}: P {_pct(point['precision'])}, R {_pct(point['recall'])}",
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    _percent_axis(ax.xaxis, log=False)
    _percent_axis(ax.yaxis, log=False)
    ax.set_xlabel("recall: share of failures alerted")
    ax.set_ylabel("precision: share of alerts that fail")
    ax.legend(loc="upper right", fontsize=8.5, frameon=False)
    _tidy(ax)
    _title(ax, "Precision-recall", result)
    return figure


def _roc_figure(result: HorizonResult) -> Figure:
    figure = _new_figure(6, 4.6)
    ax = figure.add_subplot()
    inset = ax.inset_axes((0.5, 0.3, 0.46, 0.42))
    inset_fpr, inset_top = 0.1, 0.0
    for label, hist, colour, style in _histograms(result):
        curve = metrics.curves(hist)
        inset_top = max(inset_top, float(curve["tpr"][curve["fpr"] <= inset_fpr].max()))
        fpr, tpr = _thin(curve["fpr"], curve["tpr"])
        ax.plot(
            fpr, tpr, color=colour, linestyle=style, linewidth=1.6, label=f"{label} (AUC {metrics.roc_auc(hist):.3f})"
        )
        inset.plot(fpr, tpr, color=colour, linestyle=style, linewidth=1.4)
    hist = metrics.histogram(result.test_histogram)
    positives = int(hist["positives"].sum())
    negatives = int(hist["rows"].sum()) - positives
    for level, threshold, point in _operating_points(result):
        fpr = (point["alerts"] - point["recall"] * positives) / max(negatives, 1)
        for axes in (ax, inset):
            axes.scatter(
                fpr,
                point["recall"],
                s=70,
                color=ALERT_COLOURS[level],
                edgecolor="white",
                linewidth=1.2,
                zorder=5,
                label=f"{level} ≥ {_pct(threshold, 2)}" if axes is ax else None,
            )
    ax.plot([0, 1], [0, 1], color="#bbbbbb", linewidth=1, linestyle=":")
    for axes in (ax, inset):
        _percent_axis(axes.xaxis, log=False)
        _percent_axis(axes.yaxis, log=False)
        _tidy(axes)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    inset.set_xlim(0, inset_fpr)
    inset.set_ylim(0, min(inset_top * 1.15 + 0.02, 1.02))
    inset.tick_params(labelsize=7.5)
    inset.set_title(f"first {_pct(inset_fpr, 0)} of false alarms", fontsize=8)
    ax.set_xlabel("false-positive rate: share of non-failing rows alerted")
    ax.set_ylabel("true-positive rate (recall)")
    ax.legend(loc="lower right", fontsize=8.5, frameon=False)
    _title(ax, "ROC", result)
    return figure


def _distribution_figure(result: HorizonResult) -> Figure:
    hist = metrics.histogram(result.test_histogram)
    scores = hist["score"].to_numpy()
    positive_scores = scores[scores > 0]
    low = max(float(positive_scores.min()) if len(positive_scores) else 1e-4, 1e-5)
    high = max(float(scores.max()), low * 10)
    edges = np.geomspace(low, high, 41)
    clipped = np.clip(scores, low, high)
    figure = _new_figure(6, 4.6)
    ax = figure.add_subplot()
    survived = (hist["rows"] - hist["positives"]).to_numpy()
    failed = hist["positives"].to_numpy()
    ax.hist(
        clipped,
        bins=edges,
        weights=survived,
        histtype="stepfilled",
        color=SURVIVED_COLOUR,
        alpha=0.8,
        log=True,
        label=f"did not fail ({_count(survived.sum())})",
    )
    ax.hist(
        clipped,
        bins=edges,
        weights=failed,
        histtype="step",
        color=FAILED_COLOUR,
        linewidth=1.6,
        log=True,
        label=f"failed within {result.horizon} months ({_count(failed.sum())})",
    )
    for level in ALERT_LEVELS:
        if level in result.thresholds:
            ax.axvline(
                result.thresholds[level],
                color=ALERT_COLOURS[level],
                linewidth=1.6,
                linestyle="--",
                label=f"{level} threshold {_pct(result.thresholds[level], 2)}",
            )
    ax.set_xscale("log")
    _percent_axis(ax.xaxis, log=True)
    ax.set_xlabel("calibrated probability" + (" (a zero score counts in the first bin)" if (scores <= 0).any() else ""))
    ax.set_ylabel("rows (log scale)")
    bottom, top = ax.get_ylim()
    ax.set_ylim(bottom, top * (top / bottom) ** 0.45)  # headroom for the legend above the bars
    ax.legend(loc="upper left", fontsize=8.5, ncols=2, framealpha=0.92, edgecolor="none")
    _tidy(ax, "y")
    _title(ax, "Scores by outcome", result)
    return figure


def _alerts_figure(result: HorizonResult) -> Figure:
    frame = result.alerts_by_month.sort_values("periode", ignore_index=True)
    x = np.arange(len(frame))
    figure = _new_figure(11.5, 3.8)
    ax = figure.add_subplot()
    handles = [
        ax.bar(
            x, frame["orange"], width=0.75, color=ALERT_COLOURS["orange"], label="orange or red (≥ orange threshold)"
        ),
        ax.bar(x, frame["red"], width=0.75, color=ALERT_COLOURS["red"], label="red (≥ red threshold)"),
        *ax.plot(
            x,
            frame["positives"],
            color="#222222",
            marker="o",
            markersize=4,
            linewidth=1.5,
            label=f"failures within {result.horizon} months, all rows",
        ),
    ]
    for column, style, alerted in (("orange_positives", "--", "orange or red"), ("red_positives", ":", "red")):
        if column in frame.columns:
            handles += ax.plot(
                x,
                frame[column],
                color="#222222",
                linestyle=style,
                marker=".",
                linewidth=1.3,
                label=f"failures among {alerted} alerts",
            )
    if "p_sum" in frame.columns:
        handles += ax.plot(
            x,
            frame["p_sum"],
            color=MODEL_COLOUR,
            marker="s",
            markersize=3,
            linewidth=1.5,
            label="failures announced (sum of probabilities)",
        )
    step = max(1, math.ceil(len(frame) / 24))
    ax.set_xticks(x[::step], frame["periode"].astype(str).iloc[::step], rotation=45, ha="right", fontsize=8.5)
    ax.set_xlim(-0.6, len(frame) - 0.4)
    ax.set_ylabel("rows (firm-months)")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8.5, frameon=False)
    _tidy(ax, "y")
    _title(ax, "Alerts and failures by month", result)
    return figure


def _topic_colours(topics: Iterable[str]) -> list[str]:
    return [TOPIC_COLOURS.get(t, OTHER_TOPIC_COLOUR) for t in topics]


def _topic_legend(ax, topics: Iterable[str], **kwargs) -> None:
    present = list(dict.fromkeys(topics))
    present.sort(key=lambda t: (TOPICS.index(t) if t in TOPICS else len(TOPICS), t))
    handles = [Patch(color=c, label=t.replace("_", " ")) for t, c in zip(present, _topic_colours(present), strict=True)]
    ax.legend(handles=handles, fontsize=8.5, frameon=False, title="topic", title_fontsize=8.5, **kwargs)


def _feature_bars(ax, frame: pd.DataFrame, value: str) -> None:
    """Horizontal bars of `value` by feature, largest on top, coloured by topic."""
    y = np.arange(len(frame))[::-1]
    ax.barh(y, frame[value], color=_topic_colours(frame["topic"]), height=0.72)
    ax.set_yticks(y, frame["feature"], fontsize=8.5)
    ax.set_ylim(-0.6, len(frame) - 0.4)
    _tidy(ax, "x")


def _importance_figure(result: HorizonResult) -> Figure:
    top = result.importance.nlargest(TOP_IMPORTANCE, "importance")
    figure = _new_figure(6, 0.26 * len(top) + 1.6)
    ax = figure.add_subplot()
    _feature_bars(ax, top, "importance")
    _percent_axis(ax.xaxis, log=False)
    ax.set_xlabel("share of the model's total importance")
    _topic_legend(ax, top["topic"], loc="lower right")
    _title(ax, f"Top {len(top)} features", result)
    return figure


def _shap_summary_figure(result: HorizonResult) -> Figure:
    summary = result.shap_summary
    top = summary.nlargest(TOP_IMPORTANCE, "mean_abs_contribution")
    topics = summary.groupby("topic", as_index=False)["mean_abs_contribution"].sum()
    topics = topics.sort_values("mean_abs_contribution", ascending=False, ignore_index=True)
    figure = _new_figure(11.5, max(0.26 * len(top) + 1.6, 3.5))
    by_feature, by_topic = figure.subplots(1, 2, width_ratios=[3, 2])
    _feature_bars(by_feature, top, "mean_abs_contribution")
    by_feature.set_xlabel("mean |contribution| (log-odds)")
    _title(by_feature, f"Top {len(top)} features by mean absolute contribution", result)
    y = np.arange(len(topics))[::-1]
    by_topic.barh(y, topics["mean_abs_contribution"], color=_topic_colours(topics["topic"]), height=0.6)
    by_topic.set_yticks(y, topics["topic"].str.replace("_", " "), fontsize=9)
    by_topic.set_xlabel("mean |contribution| (log-odds),\nsummed over the topic's features")
    by_topic.set_title("By topic", fontsize=10.5, loc="left")
    _tidy(by_topic, "x")
    _topic_legend(by_feature, top["topic"], loc="lower right")
    return figure


def _swarm_offsets(x: np.ndarray, width: float = 0.38, bins: int = 70, step_cap: float = 0.03) -> np.ndarray:
    """Vertical offsets spreading the points of each x bin symmetrically around 0, like a beeswarm."""
    if len(x) == 0:
        return np.zeros(0)
    span = float(x.max() - x.min()) or 1.0
    which = np.minimum(((x - x.min()) / span * bins).astype(int), bins - 1)
    order = np.lexsort((x, which))
    counts = np.bincount(which, minlength=bins)
    rank = np.empty(len(x), dtype=int)
    rank[order] = np.arange(len(x)) - (np.cumsum(counts) - counts)[which[order]]
    level = (rank + 1) // 2
    step = min(width / max(int(level.max()), 1), step_cap)
    return np.where(rank % 2 == 0, 1, -1) * level * step


def _beeswarm_figure(result: HorizonResult) -> Figure:
    points = result.shap_points
    if result.shap_summary is not None:
        ranking = result.shap_summary.set_index("feature")["mean_abs_contribution"]
    else:
        ranking = points.assign(size=points["contribution"].abs()).groupby("feature")["size"].mean()
    features = [f for f in ranking.sort_values(ascending=False).index if f in set(points["feature"])][:TOP_BEESWARM]
    figure = _new_figure(6, 0.36 * len(features) + 1.7)
    ax = figure.add_subplot()
    scatter = None
    for position, feature in zip(range(len(features) - 1, -1, -1), features, strict=True):
        rows = points[points["feature"] == feature]
        x = rows["contribution"].to_numpy(dtype=float)
        y = position + _swarm_offsets(x)
        quantile = rows["value_quantile"].to_numpy(dtype=float)
        known = np.isfinite(quantile)
        ax.scatter(x[~known], y[~known], s=7, color=MISSING_VALUE_COLOUR, linewidth=0)
        scatter = ax.scatter(x[known], y[known], c=quantile[known], cmap=VALUE_CMAP, vmin=0, vmax=1, s=7, linewidth=0)
    ax.axvline(0, color="#888888", linewidth=0.8)
    ax.set_yticks(range(len(features) - 1, -1, -1), features, fontsize=8.5)
    ax.set_ylim(-0.6, len(features) - 0.4)
    ax.set_xlabel("contribution to the log-odds of failure")
    if scatter is not None:
        bar = figure.colorbar(scatter, ax=ax, ticks=[0, 1], aspect=30, pad=0.01)
        bar.ax.set_yticklabels(["low", "high"], fontsize=8.5)
        bar.set_label("feature value (quantile)", fontsize=8.5)
    _tidy(ax, "x")
    _title(ax, f"Contributions of the top {len(features)} features", result)
    return figure
