"""Exact metrics from score histograms, checked on hand-computable cases (no Spark)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sf_spark.models.metrics import (
    at_threshold,
    average_precision,
    best_threshold,
    binary_metrics,
    brier,
    calibration_in_the_large,
    calibration_slope,
    expected_calibration_error,
    histogram,
    histogram_of,
    log_loss,
    reliability,
    roc_auc,
    top_share,
)


def test_perfect_and_reversed_ranking():
    scores, labels = [0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0]
    assert roc_auc(histogram_of(scores, labels)) == 1.0
    assert average_precision(histogram_of(scores, labels)) == 1.0
    assert roc_auc(histogram_of(scores, [0, 0, 1, 1])) == 0.0


def test_roc_auc_counts_a_tie_as_one_half():
    # one positive and one negative share a score: 3 of 4 pairs ranked right, 1 tied -> 3.5 / 4
    hist = histogram_of([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0])
    assert roc_auc(hist) == pytest.approx(0.875 - 0.0, abs=1e-12)


def test_average_precision_by_hand():
    # ranking: +, -, +  -> precision at each positive: 1/1 and 2/3; AP = (1 + 2/3) / 2
    hist = histogram_of([0.9, 0.8, 0.7], [1, 0, 1])
    assert average_precision(hist) == pytest.approx((1 + 2 / 3) / 2, abs=1e-12)


def test_average_precision_alerts_a_tie_group_whole():
    # two rows at 0.5, one positive: alerting the group gives precision 1/2 for that positive
    hist = histogram_of([0.9, 0.5, 0.5], [1, 1, 0])
    assert average_precision(hist) == pytest.approx((1 + 2 / 3) / 2, abs=1e-12)


def test_brier_by_hand():
    hist = histogram_of([0.2, 0.2, 0.9], [0, 1, 1])
    assert brier(hist) == pytest.approx((0.04 + 0.64 + 0.01) / 3, abs=1e-12)


def test_reliability_bins_hold_equal_mass_even_across_a_tie():
    # 10 rows at 0.1 (1 positive) and 10 rows at 0.3 (3 positives), 4 bins of 5 rows each
    hist = histogram(pd.DataFrame({"score": [0.1, 0.3], "rows": [10, 10], "positives": [1, 3]}))
    curve = reliability(hist, bins=4)
    assert curve["rows"].tolist() == [5, 5, 5, 5]
    assert curve["mean_predicted"].tolist() == pytest.approx([0.1, 0.1, 0.3, 0.3])
    assert curve["observed_rate"].tolist() == pytest.approx([0.1, 0.1, 0.3, 0.3])
    assert expected_calibration_error(hist, bins=4) == pytest.approx(0.0, abs=1e-12)


def test_ece_of_a_mis_scaled_score():
    # every row says 0.2 but 10 % fail: the single-score gap is 0.1 in every bin
    hist = histogram(pd.DataFrame({"score": [0.2], "rows": [100], "positives": [10]}))
    assert expected_calibration_error(hist) == pytest.approx(0.1, abs=1e-12)


def test_thresholds_maximise_f_beta_and_prefer_the_shorter_list():
    hist = histogram_of([0.9, 0.8, 0.7, 0.6, 0.5], [1, 1, 0, 1, 0])
    red = best_threshold(hist, beta=0.5)
    assert (red["threshold"], red["alerts"], red["precision"], red["recall"]) == (0.8, 2, 1.0, pytest.approx(2 / 3))
    orange = best_threshold(hist, beta=2.0)
    assert (orange["threshold"], orange["recall"]) == (0.6, 1.0)
    assert at_threshold(hist, 0.6, beta=2.0)["f_beta"] == pytest.approx(orange["f_beta"])


def test_a_threshold_never_alerts_every_row():
    hist = histogram_of([0.3, 0.2, 0.1], [0, 1, 1])  # F8 is highest alerting everything: the lowest score is no list
    assert best_threshold(hist, beta=8.0)["threshold"] == 0.2


def test_at_threshold_with_no_alert():
    out = at_threshold(histogram_of([0.1, 0.2], [0, 1]), threshold=0.5)
    assert (out["alerts"], out["precision"], out["recall"], out["f_beta"]) == (0, 0.0, 0.0, 0.0)


def test_metrics_agree_with_pairwise_definitions_on_random_rows():
    rng = np.random.default_rng(3)
    scores = np.round(rng.random(400), 2)
    labels = (rng.random(400) < scores * 0.4).astype(int)
    pos, neg = scores[labels == 1], scores[labels == 0]
    pairwise = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (
        len(pos) * len(neg)
    )
    figures = binary_metrics(histogram_of(scores, labels))
    assert figures["roc_auc"] == pytest.approx(pairwise, abs=1e-12)
    assert figures["brier"] == pytest.approx(np.mean((scores - labels) ** 2), abs=1e-12)
    assert (figures["rows"], figures["positives"]) == (400, labels.sum())


def test_no_positive_gives_nan_and_no_threshold():
    hist = histogram_of([0.1, 0.2], [0, 0])
    assert math.isnan(roc_auc(hist)) and math.isnan(average_precision(hist))
    with pytest.raises(ValueError, match="no positive"):
        best_threshold(hist, 0.5)


def test_histogram_merges_duplicate_scores_and_sorts():
    hist = histogram(pd.DataFrame({"score": [0.1, 0.5, 0.1], "rows": [1, 2, 3], "positives": [0, 1, 1]}))
    assert hist.to_dict("list") == {"score": [0.5, 0.1], "rows": [2, 4], "positives": [1, 1]}
    with pytest.raises(ValueError, match="missing"):
        histogram(pd.DataFrame({"score": [0.1]}))


def test_calibration_in_the_large_log_loss_and_top_share_by_hand():
    hist = histogram(pd.DataFrame({"score": [0.5, 0.1], "rows": [2, 10], "positives": [1, 1]}))
    assert calibration_in_the_large(hist) == pytest.approx((2 * 0.5 + 10 * 0.1) / 2)
    assert log_loss(hist) == pytest.approx(-(2 * math.log(0.5) + math.log(0.1) + 9 * math.log(0.9)) / 12)
    top = top_share(hist, 0.25)  # 3 rows: the two at 0.5 and one of the ten at 0.1 (a tenth of their failure)
    assert top["rows"].tolist() == [2.0, 1.0] and top["positives"].tolist() == pytest.approx([1.0, 0.1])


def test_calibration_slope_is_one_when_calibrated_and_below_one_when_too_extreme():
    rng = np.random.default_rng(3)
    p = rng.beta(0.6, 15, 200_000)
    y = (rng.random(p.size) < p).astype(int)
    assert calibration_slope(histogram_of(np.round(p, 4), y)) == pytest.approx(1.0, abs=0.05)
    logit = np.log(p / (1 - p))
    extreme = 1 / (1 + np.exp(-2 * logit))  # log-odds doubled: a slope of 1/2 brings them back
    assert calibration_slope(histogram_of(np.round(extreme, 6), y)) == pytest.approx(0.5, abs=0.05)
