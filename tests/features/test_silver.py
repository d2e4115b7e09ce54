"""Silver builders on hand-written rows: the point-in-time rules, one by one."""

from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality

from sf_spark.features import silver
from sf_spark.features.inputs import CANONICAL

D = dt.date
SIRET = "12345678900011"


def _debit(spark, rows):
    return spark.createDataFrame(rows, CANONICAL["debit"])


def test_debt_state_recorded_after_the_20th_counts_from_next_month(spark):
    debit = _debit(
        spark,
        [
            (SIRET, "A1", D(2020, 1, 1), "1", 1, D(2020, 3, 20), 100.0, 200.0),  # counts in March
            (SIRET, "A1", D(2020, 2, 1), "2", 1, D(2020, 3, 21), 10.0, 20.0),  # counts in April
        ],
    )
    out = silver.debt_by_siret_month(debit, "2020-05-01").orderBy("periode")
    expected = spark.createDataFrame(
        [
            (SIRET, "123456789", D(2020, 3, 1), 100.0, 200.0),
            (SIRET, "123456789", D(2020, 4, 1), 110.0, 220.0),
            (SIRET, "123456789", D(2020, 5, 1), 110.0, 220.0),
        ],
        "siret string, siren string, periode date, arrears_employee_eur double, arrears_employer_eur double",
    )
    assert_df_equality(out, expected, ignore_nullable=True)


def test_debt_takes_latest_state_up_to_month_and_forward_fills(spark):
    debit = _debit(
        spark,
        [
            (SIRET, "A1", D(2020, 1, 1), "1", 1, D(2020, 2, 5), 100.0, 0.0),
            (SIRET, "A1", D(2020, 1, 1), "1", 2, D(2020, 4, 10), 40.0, 0.0),  # partial payment in April
            (SIRET, "A1", D(2020, 1, 1), "1", 3, D(2020, 6, 2), 0.0, 0.0),  # paid off in June
        ],
    )
    out = silver.debt_by_siret_month(debit, "2020-07-01").select("periode", "arrears_employee_eur")
    assert [tuple(r) for r in out.orderBy("periode").collect()] == [
        (D(2020, 2, 1), 100.0),
        (D(2020, 3, 1), 100.0),
        (D(2020, 4, 1), 40.0),
        (D(2020, 5, 1), 40.0),
        (D(2020, 6, 1), 0.0),
    ]


def test_a_later_state_never_changes_earlier_months(spark):
    base = [(SIRET, "A1", D(2020, 1, 1), "1", 1, D(2020, 2, 5), 100.0, 0.0)]
    later = [(SIRET, "A1", D(2020, 1, 1), "1", 2, D(2020, 9, 5), 999.0, 0.0)]
    before = silver.debt_by_siret_month(_debit(spark, base), "2020-08-01")
    after = silver.debt_by_siret_month(_debit(spark, base + later), "2020-08-01")
    assert_df_equality(before, after, ignore_row_order=True)


def test_contributions_of_a_quarter_spread_over_its_months(spark):
    cotisation = spark.createDataFrame(
        [(SIRET, D(2020, 1, 1), D(2020, 4, 1), 300.0, 240.0), (SIRET, D(2020, 2, 1), D(2020, 3, 1), 30.0, 0.0)],
        CANONICAL["cotisation"],
    )
    out = silver.contributions_by_month(cotisation).select("periode", "contribution_due_eur", "collected_eur")
    assert [tuple(r) for r in out.orderBy("periode").collect()] == [
        (D(2020, 1, 1), 100.0, 80.0),
        (D(2020, 2, 1), 130.0, 80.0),
        (D(2020, 3, 1), 100.0, 80.0),
    ]


def test_latest_headcount_delivery_wins_and_company_file_first(spark):
    company = spark.createDataFrame(
        [("123456789", D(2020, 1, 1), 12, D(2020, 2, 10), 2), ("123456789", D(2020, 1, 1), 15, D(2020, 5, 10), 2)],
        CANONICAL["headcount_siren"],
    )
    sites = spark.createDataFrame(
        [(SIRET, D(2020, 1, 1), 3, D(2020, 2, 10), 2), (SIRET, D(2020, 2, 1), 4, D(2020, 3, 10), 2)],
        CANONICAL["headcount_siret"],
    )
    out = silver.headcount_by_siren_month(company, sites).orderBy("periode")
    assert [tuple(r) for r in out.collect()] == [("123456789", D(2020, 1, 1), 15), ("123456789", D(2020, 2, 1), 4)]


def test_retroactive_authorisation_counts_only_from_its_decision(spark):
    requests = spark.createDataFrame(
        [
            ("R1", SIRET, D(2020, 4, 15), D(2020, 3, 1), D(2020, 6, 30), 400.0, 1),
            ("R2", SIRET, D(2020, 4, 1), D(2020, 4, 1), D(2020, 4, 30), 10.0, 7),
        ],  # reason 7 excluded
        CANONICAL["ap_requests"],
    )
    consumption = spark.createDataFrame([("R1", SIRET, D(2020, 4, 1), 50.0)], CANONICAL["ap_consumption"])
    out = silver.partial_activity_by_month(requests, consumption).orderBy("periode")
    assert [tuple(r) for r in out.collect()] == [
        ("123456789", D(2020, 4, 1), 100.0, 50.0, 1),
        ("123456789", D(2020, 5, 1), 100.0, None, None),
        ("123456789", D(2020, 6, 1), 100.0, None, None),
    ]


def test_accounts_are_usable_from_closing_plus_lag_and_keep_the_most_complete_return(spark):
    returns = spark.createDataFrame(
        [
            ("123456789", D(2019, 12, 31), D(2020, 8, 1), 1000.0, None),
            ("123456789", D(2019, 12, 31), D(2020, 9, 1), 1000.0, 50.0),
            ("123456789", D(2018, 12, 31), D(2019, 8, 1), 800.0, 40.0),
        ],
        "siren string, closed_on date, delivery_date date, turnover_eur double, ebitda_eur double",
    )
    out = silver.usable_accounts(returns, 7, ["turnover_eur", "ebitda_eur"]).orderBy("closed_on")
    assert [tuple(r) for r in out.collect()] == [
        ("123456789", D(2018, 12, 31), D(2019, 7, 1), 800.0, 40.0, None, None),
        ("123456789", D(2019, 12, 31), D(2020, 7, 1), 1000.0, 50.0, 800.0, 40.0),
    ]


def test_proceedings_first_opening_from_either_source_and_closing_after_it(spark):
    procol = spark.createDataFrame(
        [
            ("123456789", D(2021, 5, 10), "redressement", "ouverture"),
            ("123456789", D(2019, 1, 10), "sauvegarde", "fin_procedure"),
            ("123456789", D(2022, 1, 10), "redressement", "fin_procedure"),
        ],
        CANONICAL["procol"],
    )
    judgments = spark.createDataFrame(
        [("123456789", D(2021, 5, 7), "3"), ("123456789", D(2020, 1, 1), "5")], CANONICAL["judgments"]
    )
    out = silver.proceedings(procol, judgments)
    assert [tuple(r) for r in out.collect()] == [("123456789", D(2021, 5, 7), D(2022, 1, 10))]
