"""One row's contributions summarised: the features that weigh most, the sums by topic (log-odds)."""

from __future__ import annotations

import pytest

from sf_spark.explain import by_topic, top_contributions

NAMES = ["urssaf_debt", "partial_activity_hours", "margin", "headcount_change", "late_payments"]
ROW = [0.8, -0.1, 0.8, -1.5, 0.05]
TOPICS = {
    "urssaf_debt": "social debt",
    "partial_activity_hours": "partial activity",
    "margin": "financial health",
    "headcount_change": "employment",
    "late_payments": "social debt",
}


def test_top_contributions_by_absolute_value_ties_in_slot_order():
    assert top_contributions(NAMES, ROW, k=3) == [("headcount_change", -1.5), ("urssaf_debt", 0.8), ("margin", 0.8)]
    assert len(top_contributions(NAMES, ROW, k=10)) == len(NAMES)


def test_by_topic_sums_log_odds_so_topics_plus_bias_give_the_log_odds():
    bias = -2.0
    totals = by_topic(TOPICS, NAMES, ROW)
    assert totals == pytest.approx(
        {"social debt": 0.85, "partial activity": -0.1, "financial health": 0.8, "employment": -1.5}
    )
    assert list(totals) == ["social debt", "partial activity", "financial health", "employment"]
    assert sum(totals.values()) + bias == pytest.approx(sum(ROW) + bias)


def test_by_topic_names_unmapped_features_unless_told_where_they_go():
    topics = {k: v for k, v in TOPICS.items() if k != "margin"}
    with pytest.raises(ValueError, match="margin"):
        by_topic(topics, NAMES, ROW)
    assert by_topic(topics, NAMES, ROW, unassigned="other")["other"] == pytest.approx(0.8)


def test_summaries_refuse_contributions_that_do_not_match_the_names():
    with pytest.raises(ValueError, match="one row"):
        top_contributions(NAMES, [ROW, ROW])
