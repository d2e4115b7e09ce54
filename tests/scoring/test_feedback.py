"""News that respects the agents' ratings, and their last rating and follow-up in the month's rows: one
hand-written firm per rule."""

from __future__ import annotations

import datetime as dt

import pytest

from sf_spark.scoring.feedback import feedback_summary, with_feedback
from sf_spark.scoring.history import with_history
from sf_spark.scoring.settings import FeedbackSettings

D = dt.date
MONTH = D(2023, 6, 1)  # scored month: ratings and follow-ups dated before 2023-08-01 count
SCORED = "siren string, periode date, horizon int, alert_level string, probability double"
EARLIER = "siren string, periode date, horizon int, alert_level string, probability double, months_alerted int"
RATINGS = "siren string, list_month date, profile string, rated_on date, rating string, reason string"
FOLLOWUPS = "siren string, started_on date, ended_on date, stage string, measures string"

# siren -> (level now, probability now, earlier rows [(month, level, probability)],
#           ratings [(list, date, rating, reason)])
FIRMS = {
    "known_same": (
        "orange",
        0.10,
        [(D(2023, 3, 1), "orange", 0.09)],
        [(D(2023, 3, 1), D(2023, 5, 10), "inutile", "deja_connue")],
    ),
    "known_rises": (
        "red",
        0.30,
        [(D(2023, 3, 1), "orange", 0.09)],
        [(D(2023, 3, 1), D(2023, 5, 10), "inutile", "deja_connue")],
    ),
    "sound_doubles": (
        "orange",
        0.20,
        [(D(2023, 3, 1), "orange", 0.10)],
        [(D(2023, 3, 1), D(2023, 5, 1), "inutile", "situation_saine")],
    ),
    "sound_unscored_orange": ("orange", 0.20, [], [(D(2022, 1, 1), D(2022, 3, 1), "inutile", "situation_saine")]),
    "sound_unscored_red": ("red", 0.40, [], [(D(2022, 1, 1), D(2022, 3, 1), "inutile", "situation_saine")]),
    "useful_before": ("orange", 0.10, [], [(D(2023, 1, 1), D(2023, 3, 2), "utile", "contact_pris")]),
    "never_rated": ("orange", 0.10, [], []),
    "never_rated_up": ("red", 0.30, [(D(2023, 5, 1), "orange", 0.10)], []),
    "rated_too_late": ("orange", 0.10, [], [(D(2023, 4, 1), D(2023, 8, 1), "inutile", "deja_connue")]),
    "rated_this_list": ("orange", 0.10, [], [(D(2023, 6, 1), D(2023, 7, 20), "inutile", "deja_connue")]),
    "revised": (
        "orange",
        0.10,
        [(D(2023, 2, 1), "orange", 0.1)],
        [
            (D(2023, 2, 1), D(2023, 4, 3), "utile", "contact_pris"),
            (D(2023, 2, 1), D(2023, 6, 9), "inutile", "situation_saine"),
        ],
    ),
    "green": ("green", 0.01, [], [(D(2023, 3, 1), D(2023, 5, 10), "inutile", "deja_connue")]),
}
FOLLOWED = [
    ("known_same", D(2023, 5, 3), None, "diagnostic", "ccsf"),
    ("never_rated", D(2022, 1, 3), D(2022, 9, 30), "cloture", "aucun"),  # over
    ("never_rated_up", D(2023, 2, 1), D(2023, 8, 15), "accompagnement", "delai_urssaf,mediation_credit"),
    ("useful_before", D(2023, 8, 1), None, "contact", "aucun"),  # started after the limit
]


@pytest.fixture(scope="module")
def rows(spark):
    scored = spark.createDataFrame([(s, MONTH, 18, lvl, p) for s, (lvl, p, _, _) in FIRMS.items()], SCORED)
    earlier = spark.createDataFrame(
        [(s, m, 18, lvl, p, 1) for s, (_, _, before, _) in FIRMS.items() for m, lvl, p in before], EARLIER
    )
    ratings = spark.createDataFrame(
        [(s, lst, "crp", on, r, why) for s, (_, _, _, rated) in FIRMS.items() for lst, on, r, why in rated], RATINGS
    )
    followups = spark.createDataFrame(FOLLOWED, FOLLOWUPS)
    out = with_feedback(with_history(scored, earlier), ratings, followups, earlier, MONTH, FeedbackSettings())
    return {r["siren"]: r.asDict() for r in out.collect()}


@pytest.mark.parametrize(
    ("siren", "first_alert", "news_reason"),
    [
        ("known_same", False, None),  # rated already known, same level: not news
        ("known_rises", False, "rating_level_up"),  # orange when rated, red now
        ("sound_doubles", False, "rating_probability_up"),  # 0.10 when rated, 0.20 now (factor 1.5)
        ("sound_unscored_orange", False, None),  # the rated list is not scored: taken as orange
        ("sound_unscored_red", False, "rating_level_up"),
        ("useful_before", False, None),  # rated: it was on a list, not a first alert; same level
        ("never_rated", True, "first_alert"),
        ("never_rated_up", False, "level_up"),
        ("rated_too_late", True, "first_alert"),  # rated on 2023-08-01: unknown to the list of 2023-06
        ("rated_this_list", True, "first_alert"),  # a rating of this very list cannot be known before it
        ("revised", False, None),  # the latest rating wins: situation_saine
        ("green", False, None),
    ],
)
def test_news_respects_the_ratings(rows, siren, first_alert, news_reason):
    row = rows[siren]
    assert (row["first_alert"], row["news_reason"], row["news"]) == (first_alert, news_reason, news_reason is not None)


def test_the_last_rating_and_the_follow_up_in_force(rows):
    assert {
        k: rows["revised"][k] for k in ("last_rating", "last_rating_reason", "last_rating_list", "last_rated_on")
    } == {
        "last_rating": "inutile",
        "last_rating_reason": "situation_saine",
        "last_rating_list": D(2023, 2, 1),
        "last_rated_on": D(2023, 6, 9),
    }
    assert rows["rated_too_late"]["last_rating"] is None
    followed = {s: (r["followed_since"], r["followup_stage"], r["followup_measures"]) for s, r in rows.items()}
    assert followed["known_same"] == (D(2023, 5, 3), "diagnostic", "ccsf")
    assert followed["never_rated_up"] == (D(2023, 2, 1), "accompagnement", "delai_urssaf,mediation_credit")
    assert followed["never_rated"] == (None, None, None)  # ended before the limit
    assert followed["useful_before"] == (None, None, None)  # started on the limit: not known yet


def test_the_probability_factor_is_configurable(spark):
    scored = spark.createDataFrame([("a", MONTH, 18, "orange", 0.12)], SCORED)
    earlier = spark.createDataFrame([("a", D(2023, 3, 1), 18, "orange", 0.10, 1)], EARLIER)
    ratings = spark.createDataFrame([("a", D(2023, 3, 1), "crp", D(2023, 5, 2), "inutile", "deja_connue")], RATINGS)
    strict = FeedbackSettings(news_probability_factor=1.2)
    [row] = with_feedback(with_history(scored, earlier), ratings, None, earlier, MONTH, strict).collect()
    assert row["news_reason"] == "rating_probability_up"
    quiet_only_known = FeedbackSettings(quiet_reasons=["situation_saine"])
    [row] = with_feedback(with_history(scored, earlier), ratings, None, earlier, MONTH, quiet_only_known).collect()
    assert row["news_reason"] is None  # not quiet: same level as last month, not a first alert (rated)


def test_the_monthly_summary_of_ratings(spark):
    ratings = spark.createDataFrame(
        [
            ("a", D(2023, 3, 1), "crp", D(2023, 5, 2), "inutile", "hors_perimetre"),
            ("a", D(2023, 3, 1), "urssaf", D(2023, 5, 3), "utile", None),
            ("b", D(2023, 4, 1), "crp", D(2023, 6, 2), "inutile", "deja_connue"),
            ("b", D(2023, 4, 1), "crp", D(2023, 6, 9), "utile", "contact_pris"),  # revised: the latest counts
            ("c", D(2022, 4, 1), "crp", D(2022, 6, 2), "utile", None),  # a list older than 12 months
        ],
        RATINGS,
    )
    scores = spark.createDataFrame([("a", D(2023, 3, 1), 18, "red", 0.3, 1)], EARLIER)
    features = spark.createDataFrame(
        [("a", D(2023, 3, 1), "K", 12), ("b", D(2023, 4, 1), "C", 300)],
        "siren string, periode date, naf_section string, headcount int",
    )
    summary = feedback_summary(ratings, scores, features, MONTH, 18, FeedbackSettings())
    assert summary["lists"] == "2022-06..2023-05"
    assert (summary["rated"], summary["useful_share"]) == (3, 2 / 3)
    assert summary["by_level"] == {"red": {"rated": 2, "useful": 1}, "unknown": {"rated": 1, "useful": 1}}
    assert summary["useless_reasons"] == {"hors_perimetre": 1}
    assert summary["out_of_scope"].to_dict("records") == [
        {"naf_section": "K", "size_band": "10-49", "rated": 2, "out_of_scope": 1}
    ]
