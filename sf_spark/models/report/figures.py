"""The training report's figures, drawn on matplotlib's Agg canvas (no display, no pyplot state) and
embedded as base64 PNG: reliability, precision-recall, ROC, score distributions, alerts per month,
importances and contributions; the colours the notebooks share."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import LogLocator, NullFormatter, PercentFormatter

from sf_spark.features.catalogue import TOPICS
from sf_spark.models import metrics
from sf_spark.models.report.data import ALERT_LEVELS, HorizonResult, num, pct, window_label

DPI = 100


TOP_IMPORTANCE = 20


TOP_BEESWARM = 15


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


# --- figures -------------------------------------------------------------------------------------


def _new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def png_data(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _tidy(ax, grid_axis: str = "both") -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(True, axis=grid_axis, color="#e6e6e6", linewidth=0.8)
    ax.set_axisbelow(True)


def _title(ax, what: str, result: HorizonResult) -> None:
    test = window_label(result.windows, "backtest") or window_label(result.windows, "test")
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


def reliability_figure(result: HorizonResult) -> Figure:
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


def precision_recall_figure(result: HorizonResult) -> Figure:
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
    ax.axhline(base_rate, color="#bbbbbb", linewidth=1, linestyle=":", label=f"failure rate {pct(base_rate)}")
    for level, threshold, point in _operating_points(result):
        ax.scatter(
            point["recall"],
            point["precision"],
            s=80,
            color=ALERT_COLOURS[level],
            edgecolor="white",
            linewidth=1.2,
            zorder=5,
            label=f"{level} ≥ {pct(threshold, 2)}: P {pct(point['precision'])}, R {pct(point['recall'])}",
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


def roc_figure(result: HorizonResult) -> Figure:
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
                label=f"{level} ≥ {pct(threshold, 2)}" if axes is ax else None,
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
    inset.set_title(f"first {pct(inset_fpr, 0)} of false alarms", fontsize=8)
    ax.set_xlabel("false-positive rate: share of non-failing rows alerted")
    ax.set_ylabel("true-positive rate (recall)")
    ax.legend(loc="lower right", fontsize=8.5, frameon=False)
    _title(ax, "ROC", result)
    return figure


def distribution_figure(result: HorizonResult) -> Figure:
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
        label=f"did not fail ({num(survived.sum())})",
    )
    ax.hist(
        clipped,
        bins=edges,
        weights=failed,
        histtype="step",
        color=FAILED_COLOUR,
        linewidth=1.6,
        log=True,
        label=f"failed within {result.horizon} months ({num(failed.sum())})",
    )
    for level in ALERT_LEVELS:
        if level in result.thresholds:
            ax.axvline(
                result.thresholds[level],
                color=ALERT_COLOURS[level],
                linewidth=1.6,
                linestyle="--",
                label=f"{level} threshold {pct(result.thresholds[level], 2)}",
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


def alerts_figure(result: HorizonResult) -> Figure:
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


def importance_figure(result: HorizonResult) -> Figure:
    top = result.importance.nlargest(TOP_IMPORTANCE, "importance")
    figure = _new_figure(6, 0.26 * len(top) + 1.6)
    ax = figure.add_subplot()
    _feature_bars(ax, top, "importance")
    _percent_axis(ax.xaxis, log=False)
    ax.set_xlabel("share of the model's total importance")
    _topic_legend(ax, top["topic"], loc="lower right")
    _title(ax, f"Top {len(top)} features", result)
    return figure


def shap_summary_figure(result: HorizonResult) -> Figure:
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


def beeswarm_figure(result: HorizonResult) -> Figure:
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
