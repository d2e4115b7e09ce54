"""Evaluation metrics of probability scores, computed exactly from a score histogram.

A histogram has one row per distinct score: `score`, `rows` (how many rows carry it) and
`positives` (how many of them failed). Spark builds it (`score_histogram`); everything else is
plain pandas/numpy, so the metrics are tested without Spark and never need firm-level rows on
the driver. Ties are handled exactly: rows sharing a score are alerted or not together, and
the equal-mass bins of the calibration error split a tie group in proportion.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

HISTOGRAM_COLUMNS = ["score", "rows", "positives"]
HISTOGRAM_DECIMALS = 7
ECE_BINS = 10


def score_histogram(df: DataFrame, score: str, label: str, decimals: int = HISTOGRAM_DECIMALS) -> pd.DataFrame:
    """Rows and positives per distinct score (rounded to `decimals`), sorted by decreasing score."""
    from pyspark.sql import functions as F

    grouped = (
        df.where(F.col(label).isNotNull() & F.col(score).isNotNull())
        .groupBy(F.round(F.col(score).cast("double"), decimals).alias("score"))
        .agg(F.count(F.lit(1)).alias("rows"), F.sum(F.col(label).cast("long")).alias("positives"))
    )
    return histogram(grouped.toPandas())


def lowest_rounding_to(score: float, decimals: int = HISTOGRAM_DECIMALS) -> float:
    """The lowest unrounded value that `score_histogram` rounds to `score`: a threshold read off a histogram
    alerts, on unrounded probabilities, exactly the rows the histogram counted at or above it."""
    return score - 0.5 * 10.0**-decimals


def histogram(frame: pd.DataFrame) -> pd.DataFrame:
    """A well-formed histogram: the three columns, integer counts, distinct scores, decreasing score."""
    missing = set(HISTOGRAM_COLUMNS) - set(frame.columns)
    if missing:
        raise ValueError(f"a score histogram needs columns {HISTOGRAM_COLUMNS}; missing {sorted(missing)}")
    out = frame[HISTOGRAM_COLUMNS].astype({"score": float, "rows": "int64", "positives": "int64"})
    out = out.groupby("score", as_index=False)[["rows", "positives"]].sum()
    return out.sort_values("score", ascending=False, ignore_index=True)


def histogram_of(scores: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """The histogram of individual (score, label) pairs; for tests and small samples."""
    frame = pd.DataFrame({"score": np.asarray(scores, float), "rows": 1, "positives": np.asarray(labels, "int64")})
    return histogram(frame)


def _cumulative(hist: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, int, int]:
    tp = hist["positives"].to_numpy().cumsum()
    fp = (hist["rows"] - hist["positives"]).to_numpy().cumsum()
    return tp, fp, int(tp[-1]) if len(tp) else 0, int(fp[-1]) if len(fp) else 0


def roc_auc(hist: pd.DataFrame) -> float:
    """Area under the ROC curve; a tie counts one half (trapezoid between tie groups)."""
    tp, fp, pos, neg = _cumulative(hist)
    if pos == 0 or neg == 0:
        return math.nan
    tpr = np.concatenate([[0.0], tp / pos])
    fpr = np.concatenate([[0.0], fp / neg])
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def average_precision(hist: pd.DataFrame) -> float:
    """Average precision (area under the precision-recall step curve), alerting tie groups whole."""
    tp, fp, pos, _ = _cumulative(hist)
    if pos == 0:
        return math.nan
    precision = tp / (tp + fp)
    recall_gain = hist["positives"].to_numpy() / pos
    return float(np.sum(precision * recall_gain))


def brier(hist: pd.DataFrame) -> float:
    """Mean squared difference between score and outcome."""
    p, n, k = (hist[c].to_numpy(dtype=float) for c in HISTOGRAM_COLUMNS)
    return float(np.sum(n * p * p - 2 * p * k + k) / n.sum())


def reliability(hist: pd.DataFrame, bins: int = ECE_BINS) -> pd.DataFrame:
    """Equal-mass bins by increasing score: rows, mean predicted probability and observed rate per bin.

    A tie group across a bin edge is split in proportion to the rows each bin takes (its
    positives too), so every bin holds exactly total/bins rows.
    """
    ordered = hist.sort_values("score", ignore_index=True)
    p, n, k = (ordered[c].to_numpy(dtype=float) for c in HISTOGRAM_COLUMNS)
    total = n.sum()
    end = n.cumsum()
    start = end - n
    rows_out, predicted, observed = [], [], []
    for b in range(bins):
        lo, hi = total * b / bins, total * (b + 1) / bins
        share = np.clip(np.minimum(end, hi) - np.maximum(start, lo), 0, None)
        weight = np.divide(share, n, out=np.zeros_like(share), where=n > 0)
        taken = share.sum()
        rows_out.append(taken)
        predicted.append(float(np.sum(share * p) / taken) if taken else math.nan)
        observed.append(float(np.sum(weight * k) / taken) if taken else math.nan)
    return pd.DataFrame(
        {"bin": range(1, bins + 1), "rows": rows_out, "mean_predicted": predicted, "observed_rate": observed}
    )


def expected_calibration_error(hist: pd.DataFrame, bins: int = ECE_BINS) -> float:
    """Row-weighted mean gap between predicted and observed rates over equal-mass bins."""
    curve = reliability(hist, bins)
    filled = curve[curve["rows"] > 0]
    gaps = (filled["mean_predicted"] - filled["observed_rate"]).abs()
    return float(np.sum(gaps * filled["rows"]) / filled["rows"].sum())


def f_beta(precision: float, recall: float, beta: float) -> float:
    """The F-beta score (beta < 1 favours precision, beta > 1 recall); 0 when both are 0."""
    b2 = beta * beta
    denominator = b2 * precision + recall
    return float((1 + b2) * precision * recall / denominator) if denominator > 0 else 0.0


def at_threshold(hist: pd.DataFrame, threshold: float, beta: float = 1.0) -> dict[str, float]:
    """Alerts (score >= threshold), their precision, the recall, and F-beta."""
    alerted = hist[hist["score"] >= threshold]
    alerts, caught = int(alerted["rows"].sum()), int(alerted["positives"].sum())
    positives = int(hist["positives"].sum())
    precision = caught / alerts if alerts else 0.0
    recall = caught / positives if positives else math.nan
    return {"alerts": alerts, "precision": precision, "recall": recall, "f_beta": f_beta(precision, recall, beta)}


def best_threshold(hist: pd.DataFrame, beta: float) -> dict[str, float]:
    """The score threshold that maximises F-beta (alert when score >= threshold), with its figures.

    Candidate thresholds are the distinct scores but the lowest (a level every row reaches is no list);
    among equal F-beta the highest threshold wins (the shorter list).
    """
    tp, fp, pos, _ = _cumulative(hist)
    if pos == 0:
        raise ValueError("no positive row: a threshold cannot be chosen")
    precision = tp / (tp + fp)
    recall = tp / pos
    b2 = beta * beta
    denominator = b2 * precision + recall
    scores = np.divide((1 + b2) * precision * recall, denominator, out=np.zeros_like(precision), where=denominator > 0)
    if len(scores) > 1:
        scores = scores[:-1]
    best = int(np.argmax(scores))
    return {
        "threshold": float(hist["score"].iloc[best]),
        "alerts": int(tp[best] + fp[best]),
        "precision": float(precision[best]),
        "recall": float(recall[best]),
        "f_beta": float(scores[best]),
    }


def curves(hist: pd.DataFrame) -> dict[str, np.ndarray]:
    """ROC (fpr, tpr) and precision-recall points, one per distinct score, for plots."""
    tp, fp, pos, neg = _cumulative(hist)
    return {
        "fpr": np.concatenate([[0.0], fp / max(neg, 1)]),
        "tpr": np.concatenate([[0.0], tp / max(pos, 1)]),
        "recall": tp / max(pos, 1),
        "precision": tp / np.maximum(tp + fp, 1),
    }


def binary_metrics(hist: pd.DataFrame, bins: int = ECE_BINS) -> dict[str, float]:
    """ROC AUC, average precision, Brier, ECE, rows, positives and base rate of one histogram."""
    rows, positives = int(hist["rows"].sum()), int(hist["positives"].sum())
    return {
        "roc_auc": roc_auc(hist),
        "aucpr": average_precision(hist),
        "brier": brier(hist) if rows else math.nan,
        "ece": expected_calibration_error(hist, bins) if rows else math.nan,
        "rows": rows,
        "positives": positives,
        "base_rate": positives / rows if rows else math.nan,
    }


def calibration_in_the_large(hist: pd.DataFrame) -> float:
    """Sum of the predicted probabilities over the number of failures (1: as many failures as announced)."""
    p, n, k = (hist[c].to_numpy(dtype=float) for c in HISTOGRAM_COLUMNS)
    return float(np.sum(n * p) / k.sum()) if k.sum() else math.nan


def log_loss(hist: pd.DataFrame, eps: float = 1e-15) -> float:
    """Mean negative log-likelihood of the outcomes under the scores (natural log)."""
    p, n, k = (hist[c].to_numpy(dtype=float) for c in HISTOGRAM_COLUMNS)
    p = np.clip(p, eps, 1 - eps)
    return float(-np.sum(k * np.log(p) + (n - k) * np.log1p(-p)) / n.sum())


def calibration_slope(hist: pd.DataFrame, eps: float = 1e-9, iterations: int = 100) -> float:
    """Slope b of the logistic regression logit P(y) = a + b logit(p) (1: spread right; below 1: scores too
    extreme), fitted by Newton's method with step halving on the histogram's distinct scores."""
    p, n, k = (hist[c].to_numpy(dtype=float) for c in HISTOGRAM_COLUMNS)
    if k.sum() == 0 or k.sum() == n.sum():
        return math.nan
    x = np.log(np.clip(p, eps, 1 - eps) / np.clip(1 - p, eps, 1 - eps))
    design = np.column_stack([np.ones_like(x), x])

    def loglik(beta: np.ndarray) -> float:
        z = design @ beta
        return float(np.sum(k * z - n * np.logaddexp(0.0, z)))

    beta = np.array([0.0, 1.0])
    current = loglik(beta)
    for _ in range(iterations):
        fitted = 1 / (1 + np.exp(-(design @ beta)))
        gradient = design.T @ (k - n * fitted)
        hessian = (design * (n * fitted * (1 - fitted))[:, None]).T @ design
        step = np.linalg.solve(hessian + 1e-9 * np.eye(2), gradient)
        scale = 1.0
        while scale > 1e-8 and loglik(beta + scale * step) < current:
            scale /= 2
        beta = beta + scale * step
        previous, current = current, loglik(beta)
        if abs(current - previous) < 1e-10 * max(1.0, abs(current)):
            break
    return float(beta[1])


def top_share(hist: pd.DataFrame, share: float = 0.1) -> pd.DataFrame:
    """The histogram of the `share` of rows with the highest scores (a tie group on the edge in proportion)."""
    ordered = histogram(hist)
    n = ordered["rows"].to_numpy(dtype=float)
    limit = share * n.sum()
    taken = np.clip(limit - (n.cumsum() - n), 0, n)
    fraction = np.divide(taken, n, out=np.zeros_like(taken), where=n > 0)
    return pd.DataFrame({"score": ordered["score"], "rows": taken, "positives": ordered["positives"] * fraction})[
        taken > 0
    ].reset_index(drop=True)


def calibration_figures(hist: pd.DataFrame) -> dict[str, float]:
    """Calibration beyond ECE: sum p / failures, slope, log loss, and the top decile's ECE and sum p / failures."""
    top = top_share(hist)
    return {
        "sum_p_to_failures": calibration_in_the_large(hist),
        "calibration_slope": calibration_slope(hist),
        "log_loss": log_loss(hist),
        "top_decile_ece": expected_calibration_error(top) if len(top) else math.nan,
        "top_decile_sum_p_to_failures": calibration_in_the_large(top) if len(top) else math.nan,
    }
