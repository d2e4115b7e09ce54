"""A firm's file: histories of one siren, what a profile may see, the default firm, reasons in words."""

from __future__ import annotations

import datetime as dt

import pytest
from chispa import assert_df_equality

from sf_spark.explore import (
    FIRM_SOURCES,
    alert_reasons,
    alerted_firm,
    firm_file,
    firm_rows,
    firm_scores,
    last_scored_month,
    project_root,
    visible_to,
)
from sf_spark.features.catalogue import Feature

JAN, FEB, MAR = dt.date(2023, 1, 1), dt.date(2023, 2, 1), dt.date(2023, 3, 1)
SOURCE = {s.name: s for s in FIRM_SOURCES}
DEBT = "siret string, siren string, periode date, arrears_employee_eur double, arrears_employer_eur double"
SCORES = (
    "siren string, periode date, horizon int, probability double, alert_level string, "
    "top_features array<struct<feature:string,value:string,contribution:double>>, "
    "topic_contributions map<string,double>"
)


def test_establishment_arrears_are_summed_per_month_for_the_siren_only(spark):
    debt = spark.createDataFrame(
        [
            ("11111111100011", "111111111", FEB, 10.0, 20.0),
            ("11111111100029", "111111111", FEB, 0.1, 0.2),
            ("11111111100011", "111111111", JAN, 5.0, 5.0),
            ("22222222200018", "222222222", JAN, 99.0, 99.0),
        ],
        DEBT,
    )
    expected = spark.createDataFrame(
        [("111111111", JAN, 5.0, 5.0), ("111111111", FEB, 10.1, 20.2)],
        "siren string, periode date, arrears_employee_eur double, arrears_employer_eur double",
    )
    assert_df_equality(debt.transform(firm_rows(SOURCE["arrears"], "111111111")), expected, ignore_nullable=True)


def test_monthly_rows_of_a_siren_come_oldest_first(spark):
    headcount = spark.createDataFrame(
        [("111111111", MAR, 12), ("111111111", JAN, 10), ("222222222", FEB, 3)],
        "siren string, periode date, headcount int",
    )
    expected = spark.createDataFrame([("111111111", JAN, 10), ("111111111", MAR, 12)], headcount.schema)
    assert_df_equality(headcount.transform(firm_rows(SOURCE["headcount"], "111111111")), expected)


def test_a_profile_sees_public_sources_and_its_own_administrations_only():
    assert visible_to(None, ["urssaf", "dgfip"])
    assert visible_to([], ["insee"]) and visible_to([], ["score"])
    assert visible_to(["dgfip", "bdf"], ["dgfip"])
    assert not visible_to(["dgfip"], ["urssaf", "dgfip"])


def test_firm_file_reads_the_visible_sources_that_exist(spark, lake):
    lake.overwrite(spark.createDataFrame([("11111111100011", "111111111", JAN, 1.0, 2.0)], DEBT), "silver/debt_monthly")
    lake.overwrite(
        spark.createDataFrame(
            [("111111111", dt.date(2022, 12, 31), dt.date(2023, 7, 1), 1000.0)],
            "siren string, closed_on date, usable_from date, turnover_eur double",
        ),
        "silver/accounts_dgfip",
    )
    everything = firm_file(lake, "111111111")
    assert list(everything) == ["arrears", "tax_returns"]
    assert everything["arrears"].to_dict("records") == [
        {"siren": "111111111", "periode": JAN, "arrears_employee_eur": 1.0, "arrears_employer_eur": 2.0}
    ]
    assert list(firm_file(lake, "111111111", ["dgfip", "bdf"])) == ["tax_returns"]


def test_firm_scores_come_as_plain_python_values(spark, lake):
    top = [("arrears_total_eur", "1200.5", 0.8)]
    rows = [
        ("111111111", FEB, 12, 0.3, "red", top, {"social_debt": 0.8}),
        ("111111111", JAN, 12, 0.01, "green", None, None),
        ("222222222", FEB, 12, 0.5, "red", top, {"social_debt": 0.8}),
    ]
    lake.overwrite(spark.createDataFrame(rows, SCORES), "gold/scores", ["periode"])
    scores = firm_scores(lake, "111111111")
    assert scores["periode"].tolist() == [JAN, FEB]
    assert scores["top_features"].tolist() == [
        None,
        [{"feature": "arrears_total_eur", "value": "1200.5", "contribution": 0.8}],
    ]
    assert scores["topic_contributions"].tolist() == [None, {"social_debt": 0.8}]
    assert type(scores["top_features"].iloc[1]) is list


def test_the_default_firm_is_the_most_likely_alerted_one_of_the_month(spark):
    scores = spark.createDataFrame(
        [
            ("333333333", FEB, 12, 0.40, "red", None, None),
            ("111111111", FEB, 12, 0.40, "red", None, None),  # same probability: the smaller siren
            ("222222222", FEB, 18, 0.90, "red", None, None),  # another horizon
            ("444444444", JAN, 12, 0.95, "red", None, None),  # another month
            ("555555555", FEB, 12, 0.02, "green", None, None),
        ],
        SCORES,
    )
    assert last_scored_month(scores) == FEB
    assert alerted_firm(scores, FEB, 12) == "111111111"
    assert alerted_firm(scores.where("alert_level = 'green'"), FEB, 12) is None


CATALOGUE = [
    Feature("arrears_total_eur", "social", "social_debt", "EUR", ("urssaf",), "r", "outstanding arrears"),
    Feature("ebitda_to_turnover", "financial", "financial_health", "ratio", ("dgfip",), "r", "EBITDA / turnover"),
    Feature("firm_age_months", "identity", "identity", "months", ("insee",), "r", "months since creation"),
]


def test_reasons_name_topics_up_then_down_and_the_top_features_with_units():
    topics = {"social_debt": 1.2, "financial_health": -0.3, "identity": 0.01}
    top = [
        {"feature": "arrears_total_eur", "value": "12345.6", "contribution": 1.2},
        {"feature": "ebitda_to_turnover", "value": None, "contribution": -0.3},
        {"feature": "firm_age_months", "value": "30", "contribution": 0.01},
    ]
    assert alert_reasons(topics, top, CATALOGUE) == [
        "Raise the risk: social debt (URSSAF arrears) +1.20 (log-odds).",
        "Lower the risk: financial health (accounts) -0.30 (log-odds).",
        "arrears_total_eur = 12,346 EUR (outstanding arrears): +1.20 log-odds",
        "ebitda_to_turnover = missing (EBITDA / turnover): -0.30 log-odds",
        "firm_age_months = 30 months (months since creation): +0.01 log-odds",
    ]
    assert alert_reasons(topics, top, CATALOGUE, ["dgfip"]) == [
        "Lower the risk: financial health (accounts) -0.30 (log-odds).",
        "ebitda_to_turnover = missing (EBITDA / turnover): -0.30 log-odds",
        "firm_age_months = 30 months (months since creation): +0.01 log-odds",
    ]
    assert alert_reasons(None, None, CATALOGUE) == []


def test_the_project_root_is_found_from_a_subfolder(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "local.yaml").write_text("{}\n")
    (tmp_path / "sf_spark").mkdir()
    (tmp_path / "sf_spark" / "__init__.py").write_text("")
    (tmp_path / "notebooks").mkdir()
    assert project_root(tmp_path / "notebooks") == tmp_path.resolve()
    with pytest.raises(FileNotFoundError, match="no project folder"):
        project_root(tmp_path.parent)


def test_plain_turns_rows_into_dicts_at_any_depth():
    import numpy as np
    from pyspark.sql import Row

    from sf_spark.explore.firms import plain

    row = Row(feature="arrears_total_eur", value="1200.5", contribution=0.8)
    assert plain(row) == {"feature": "arrears_total_eur", "value": "1200.5", "contribution": 0.8}
    array = np.empty(1, dtype=object)  # as Arrow hands an array of structs to pandas
    array[0] = row
    assert plain([row]) == plain((row,)) == plain(array) == [plain(row)]
    assert plain(None) is None and plain(3) == 3
