"""The training report's HTML page: one self-contained file per training (figures first, then tables),
that needs no other file and no network."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from sf_spark.models import metrics
from sf_spark.models.report.data import (
    ALERT_LEVELS,
    DASH,
    GROUP_DIMENSIONS,
    MIN_GROUP_POSITIVES,
    RATIO_PREFIX,
    HorizonResult,
    check_result,
    dec,
    has_oracle,
    is_missing,
    joined,
    num,
    pct,
    window_label,
)
from sf_spark.models.report.figures import (
    ALERT_COLOURS,
    MODEL_COLOUR,
    TOP_BEESWARM,
    TOP_IMPORTANCE,
    alerts_figure,
    beeswarm_figure,
    distribution_figure,
    importance_figure,
    png_data,
    precision_recall_figure,
    reliability_figure,
    roc_figure,
    shap_summary_figure,
)


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
        check_result(result)
    nav = " · ".join(f'<a href="#horizon-{h}">{h} months</a>' for h in horizons)
    body = "\n".join(
        [
            "<header><h1>Early-warning model: training report</h1>",
            f'<p class="sub">Probability of entering collective proceedings within {joined(f"{h}" for h in horizons)} '
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
                if any(has_oracle(r) for r in ordered)
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
    "rows": num,
    "positives": num,
    "alerts": num,
    "base_rate": pct,
    "precision": pct,
    "recall": pct,
    "brier": lambda v: dec(v, 4),
    "ece": lambda v: dec(v, 4),
}


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
        return dec(value, 3)
    return METRIC_FORMATS.get(name, dec)(value)


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
            (html.escape(window_label(r.windows, kind) or r.windows.get(kind, DASH)) for r in results),
        )
        for kind in kinds
    ]
    rows.append(section("Thresholds on calibrated probability"))
    rows += [row(level, (pct(r.thresholds.get(level, math.nan), 2) for r in results)) for level in ALERT_LEVELS]
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
        ("roc_auc", "ROC AUC", dec),
        ("aucpr", "AUCPR", dec),
        ("brier", "Brier score", lambda v: dec(v, 4)),
        ("ece", "calibration error (ECE)", lambda v: dec(v, 4)),
    ):
        value = _first(m, f"test_{name}")
        if value is not None:
            oracle = _first(m, f"oracle_{name}", f"oracle_test_{name}")
            tiles.append(_tile(label, fmt(value), f"oracle {fmt(oracle)}" if oracle is not None else ""))
    for level in ALERT_LEVELS:
        precision, recall, alerts = (_first(m, f"{level}_{k}") for k in ("precision", "recall", "alerts"))
        if precision is not None and recall is not None:
            extra = f"{num(alerts)} alerts" if alerts is not None else ""
            tiles.append(
                _tile(
                    f"{level}: precision / recall",
                    f"{pct(precision, 0)} / {pct(recall, 0)}",
                    extra,
                    level,
                )
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
            num(g.rows),
            num(g.positives),
            pct(g.positives / g.rows if g.rows else math.nan),
            dec(g.roc_auc),
            dec(g.aucpr),
        ]
        for level in ALERT_LEVELS:
            cells += [
                num(getattr(g, f"{level}_alerts")),
                pct(getattr(g, f"{level}_precision")),
                pct(getattr(g, f"{level}_recall")),
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
    thresholds = ", ".join(f"{lv} ≥ {pct(result.thresholds[lv], 2)}" for lv in ALERT_LEVELS if lv in result.thresholds)
    windows = " · ".join(
        f"{k.replace('_', ' ')} {window_label(result.windows, k)}" for k in _window_kinds(result.windows)
    )
    figures = [
        (
            f"h{h}-reliability",
            reliability_figure(result),
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
            precision_recall_figure(result),
            "precision-recall curve",
            "Share of alerted rows that fail (precision) against share of failures alerted (recall), alerting from "
            "the highest score down. Dots: the red and orange thresholds.",
            False,
        ),
        (
            f"h{h}-roc",
            roc_figure(result),
            "ROC curve",
            "Share of failures alerted against share of non-failing rows alerted. The inset enlarges the first 10 % "
            "of false alarms, where the alert lists live.",
            False,
        ),
        (
            f"h{h}-score-distribution",
            distribution_figure(result),
            "score distribution by outcome",
            f"Rows per calibrated probability bin (log scales), split by whether the firm failed within {h} months. "
            "Vertical lines: alert thresholds.",
            False,
        ),
        (
            f"h{h}-alerts-by-month",
            alerts_figure(result),
            "alerts by month",
            "Rows at or above each threshold per test month (the orange bar includes the red one), observed "
            f"failures within {h} months and, in blue, the failures the probabilities announced (their sum): "
            "calibration in the large, month by month.",
            True,
        ),
        (
            f"h{h}-importance",
            importance_figure(result),
            "feature importance",
            f"The model's own importance of the top {TOP_IMPORTANCE} features (share of the total), coloured by topic.",
            result.shap_points is None,
        ),
    ]
    if result.shap_points is not None:
        figures.append(
            (
                f"h{h}-beeswarm",
                beeswarm_figure(result),
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
                shap_summary_figure(result),
                "mean absolute contribution",
                "Mean absolute additive contribution (log-odds) over sampled test rows, by feature and "
                "summed by topic.",
                True,
            )
        )
    rendered = [_figure_html(fid, png_data(fig), alt, caption, wide) for fid, fig, alt, caption, wide in figures]
    if result.shap_summary is None and result.shap_points is None:
        rendered.append('<p class="note">No additive contributions were computed for this training.</p>')
    tables = _backtest_tables(result) + _agents_tables(result)
    for dimension, label in GROUP_DIMENSIONS.items():
        frame = result.by_group[result.by_group["dimension"] == dimension]
        if len(frame):
            tables.append(f'<div><h3 id="h{h}-by-{dimension}">By {label}</h3>{_group_table(frame, dimension)}</div>')
    return "\n".join(
        [
            f'<section class="horizon" id="horizon-{h}"><h2>{h}-month horizon</h2>',
            f'<p class="sub">{html.escape(windows)}<br>Backtest: {num(rows)} firm-months, {num(positives)} '
            f"failed within {h} months ({pct(positives / rows)}). Thresholds: {html.escape(thresholds)}.</p>",
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


AGENTS_DIMENSIONS = {"all": "all alerts", "region": "region", "naf_section": "NAF section", "month": "month"}


def _agents_tables(result: HorizonResult) -> list[str]:
    """The alerts as the agents judged them (share of rated alerts rated useful) next to the share that
    failed, overall and by region, NAF section and month; the reasons of their `inutile` ratings."""
    if result.agents is None or not len(result.agents):
        return []
    h, out = result.horizon, []
    head = (
        "<tr><th>group</th>"
        + "".join(
            f'<th class="{lv}">{lv}: alerts</th><th class="{lv}">failed</th><th class="{lv}">rated</th>'
            f'<th class="{lv}">rated useful</th>'
            for lv in ALERT_LEVELS
        )
        + "</tr>"
    )
    for dimension, label in AGENTS_DIMENSIONS.items():
        frame = result.agents[result.agents["dimension"] == dimension]
        if not len(frame):
            continue
        rows = []
        for group, part in frame.groupby("group", sort=True):
            cells = [html.escape(str(group))]
            by_level = {r.alert_level: r for r in part.itertuples()}
            for level in ALERT_LEVELS:
                r = by_level.get(level)
                cells += (
                    [num(r.alerts), pct(r.failure_precision), num(r.rated), pct(r.agents_precision)]
                    if r is not None
                    else [DASH] * 4
                )
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        out.append(
            f'<div><h3 id="h{h}-agents-{dimension}">As the agents judged it: {label}</h3>{_table(head, rows)}</div>'
        )
    reasons = result.agents_reasons
    if reasons is not None and len(reasons):
        head = "<tr><th>level</th><th>reason of 'inutile'</th><th>ratings</th><th>share</th></tr>"
        rows = [
            f'<tr><td class="{r.alert_level}">{r.alert_level}</td><td>{html.escape(str(r.reason))}</td>'
            f"<td>{num(r.ratings)}</td><td>{pct(r.share)}</td></tr>"
            for r in reasons.itertuples()
        ]
        out.append(
            f'<div><h3 id="h{h}-agents-reasons">Why the agents rated alerts useless</h3>{_table(head, rows)}</div>'
        )
    return out


def _with_interval(row: Mapping[str, object], name: str, fmt=dec) -> str:
    low, high = row.get(f"{name}_low"), row.get(f"{name}_high")
    value = fmt(row.get(name))
    if is_missing(low) or is_missing(high):
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
                num(r.get("rows")),
                num(r.get("positives")),
                _with_interval(r, "aucpr"),
                _with_interval(r, "roc_auc"),
                _with_interval(r, "sum_p_to_failures", lambda v: dec(v, 2)),
                *([_with_interval(r, "model_to_oracle_aucpr")] if oracle else []),
            ]
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        out.append(f'<div><h3 id="h{result.horizon}-backtest">Backtest by origin</h3>{_table(head, rows)}</div>')
    if result.calibration_by_year is not None and len(result.calibration_by_year):
        head = "<tr><th>year</th><th>rows</th><th>failures</th><th>sum p</th><th>sum p / failures</th></tr>"
        rows = [
            f"<tr><td>{int(r.year)}</td><td>{num(r.rows)}</td><td>{num(r.positives)}</td>"
            f"<td>{dec(r.p_sum, 1)}</td><td>{dec(r.sum_p_to_failures, 2)}</td></tr>"
            for r in result.calibration_by_year.itertuples()
        ]
        out.append(
            f'<div><h3 id="h{result.horizon}-calibration-by-year">Calibration in the large by year</h3>'
            f"{_table(head, rows)}</div>"
        )
    return out
