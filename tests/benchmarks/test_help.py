"""The arithmetic of the help-aware benchmark: soft-label AP and AUC, ratios, firm-clustered differences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks.bench_help import compare, figures, soft_average_precision, soft_roc_auc


def test_soft_labels_reduce_to_hard_ones():
    score = np.array([0.9, 0.8, 0.3, 0.1])
    labels = np.array([1.0, 0.0, 1.0, 0.0])
    assert soft_average_precision(score, labels) == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert soft_roc_auc(score, labels) == pytest.approx(3 / 4)
    assert soft_roc_auc(score, np.array([0.5, 0.5, 0.5, 0.5])) == pytest.approx(0.5)


def frame(scores, truths, levels=None, helped=None):
    n = len(scores)
    return pd.DataFrame(
        {
            "siren": [f"{i // 2:09d}" for i in range(n)],
            "periode": [pd.Timestamp("2023-01-01") + pd.DateOffset(months=i % 2) for i in range(n)],
            "p_18": scores,
            "true_18": truths,
            "level_18": levels or ["green"] * n,
            "helped": helped or [False] * n,
        }
    )


def test_ratios_and_differences_against_the_first_policy():
    truth = [0.4, 0.2, 0.1, 0.05, 0.02, 0.01]
    naive = frame(
        [0.2, 0.1, 0.05, 0.05, 0.02, 0.01], truth, ["red", "orange"] + ["green"] * 4, [True] * 2 + [False] * 4
    )
    aware = frame(truth, truth, ["red", "orange"] + ["green"] * 4, [True] * 2 + [False] * 4)
    f = figures(naive, 18)
    assert f["alerted_p_to_true"] == pytest.approx(0.3 / 0.6) and f["helped_p_to_true"] == pytest.approx(0.5)
    assert f["p_to_true"] == pytest.approx(0.43 / 0.78)
    out = compare({"naive": naive, "censor": aware}, 18, replicates=50)
    assert out["censor"]["p_to_true"] == pytest.approx(1.0)
    assert out["censor"]["p_to_true_diff"] == pytest.approx(1 - 0.43 / 0.78)
    assert out["censor"]["p_to_true_diff_low"] <= out["censor"]["p_to_true_diff_high"]
    with pytest.raises(ValueError, match="same rows"):
        compare({"naive": naive, "censor": aware.iloc[::-1].reset_index(drop=True)}, 18, replicates=1)


def test_sums_of_p_against_the_paired_control():
    from benchmarks.bench_help import against_control

    control = {
        "naive": {"p_to_true": 1.2, "top_decile_p_to_true": 1.3, "alerted_p_to_true": 1.0, "helped_p_to_true": 1.1}
    }
    world = {
        "naive": {"p_to_true": 0.96, "top_decile_p_to_true": 1.04, "alerted_p_to_true": 0.9, "helped_p_to_true": 0.88},
        "censor": {"p_to_true": 1.2, "top_decile_p_to_true": 1.3, "alerted_p_to_true": 1.0, "helped_p_to_true": 1.1},
    }
    out = against_control(world, control)
    assert out["naive"] == pytest.approx(
        {
            "p_to_true_to_control": 0.8,
            "top_decile_p_to_true_to_control": 0.8,
            "alerted_p_to_true_to_control": 0.9,
            "helped_p_to_true_to_control": 0.8,
        }
    )
    assert set(out["censor"].values()) == {1.0}
