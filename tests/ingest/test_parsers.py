"""Each parser on hand-written values: the expected column beside the actual one."""

from __future__ import annotations

from datetime import date

import pytest
from chispa import assert_column_equality
from pyspark.sql import functions as F

from sf_spark.ingest import parsers as p


def check(spark, parser: p.Parser, cases: list[tuple[str | None, object]]) -> None:
    schema = f"raw STRING, expected {parser.data_type.simpleString()}"
    df = spark.createDataFrame(cases, schema).select(parser(p.clean(F.col("raw"))).alias("actual"), "expected")
    assert_column_equality(df, "actual", "expected")


def test_urssaf_date(spark):
    check(
        spark,
        p.URSSAF_DATE,
        [
            ("1160318", date(2016, 3, 18)),
            ("990612", date(1999, 6, 12)),
            ("1180130", date(2018, 1, 30)),
            ("1160231", None),
            ("16-03-18", None),
            ("", None),
            (None, None),
        ],
    )


def test_urssaf_period_start_and_end(spark):
    cases = [
        ("201712", date(2017, 2, 1), date(2017, 3, 1)),
        ("201631", date(2016, 7, 1), date(2016, 8, 1)),
        ("1031", date(2010, 7, 1), date(2010, 8, 1)),
        ("0232", date(2002, 8, 1), date(2002, 9, 1)),
        ("9943", date(1999, 12, 1), date(2000, 1, 1)),
        ("201630", date(2016, 7, 1), date(2016, 10, 1)),
        ("201662", date(2016, 1, 1), date(2017, 1, 1)),
        ("199904", None, None),
        ("201654", None, None),
        ("2016", None, None),
    ]
    df = spark.createDataFrame(cases, "raw STRING, start DATE, end DATE").select(
        p.PERIOD_START(F.col("raw")).alias("actual_start"),
        "start",
        p.PERIOD_END(F.col("raw")).alias("actual_end"),
        "end",
    )
    assert_column_equality(df, "actual_start", "start")
    assert_column_equality(df, "actual_end", "end")


@pytest.mark.parametrize(
    ("code", "bounds"),
    [
        ("201712", (date(2017, 2, 1), date(2017, 3, 1))),
        ("1031", (date(2010, 7, 1), date(2010, 8, 1))),
        ("201630", (date(2016, 7, 1), date(2016, 10, 1))),
        ("201662", (date(2016, 1, 1), date(2017, 1, 1))),
        ("199904", None),
        ("20163", None),
    ],
)
def test_urssaf_period_bounds_on_the_driver(code, bounds):
    assert p.urssaf_period_bounds(code) == bounds


def test_cents_to_euros(spark):
    check(spark, p.CENTS, [("195907", 1959.07), ("-3", -0.03), ("0", 0.0), ("12,5", None), ("x", None)])


def test_decimal_number_with_comma_or_dot(spark):
    check(
        spark,
        p.DECIMAL,
        [
            ("5065,79", 5065.79),
            ("5065.79", 5065.79),
            ("-68231", -68231.0),
            ("1 234,5", 1234.5),
            ("1e5", None),
            ("NaN", None),
            ("12,3,4", None),
        ],
    )


def test_day_month_name_year_english_and_french(spark):
    check(
        spark,
        p.DAY_MONTH_NAME_YEAR,
        [
            ("26MAY2014", date(2014, 5, 26)),
            ("04oct2017", date(2017, 10, 4)),
            ("31déc2015", date(2015, 12, 31)),
            ("31DÉC2015", date(2015, 12, 31)),
            ("1févr2016", date(2016, 2, 1)),
            ("15août2019", date(2019, 8, 15)),
            ("31DEC2015", date(2015, 12, 31)),
            ("30FEB2015", None),
            ("31XYZ2015", None),
            ("2015-12-31", None),
        ],
    )


def test_slash_iso_and_compact_dates(spark):
    check(spark, p.SLASH_DATE, [("04/01/2001", date(2001, 1, 4)), ("4/1/2001", date(2001, 1, 4)), ("31/02/2001", None)])
    check(spark, p.ISO_DATE, [("2007-04-20", date(2007, 4, 20)), ("invalid_date", None), ("2007-4-20", None)])
    check(spark, p.ISO_MONTH, [("2020-12-30", date(2020, 12, 1))])
    check(spark, p.YYYYMMDD, [("20150708", date(2015, 7, 8)), ("2015078", None)])


def test_identifiers_get_back_their_leading_zeros(spark):
    check(
        spark, p.SIREN, [("12345678", "012345678"), ("123 456 789", "123456789"), ("1234567890", None), ("12a", None)]
    )
    check(spark, p.SIRET, [("1234567800012", "01234567800012"), ("00000000000000", "00000000000000")])
    check(spark, p.NIC, [("1", "00001")])


def test_counts_flags_and_integers(spark):
    check(spark, p.HEADCOUNT, [("089", 89), ("1 234", 1234), ("12.345", 12345), ("-3", None), ("1.5", None)])
    check(spark, p.WHOLE_NUMBER, [("559.0", 559), ("8", 8), ("8.5", None)])
    check(spark, p.INTEGER, [("-12", -12), ("12.0", None), ("99999999999", None)])
    check(spark, p.FLAG, [("1", True), ("0", False), ("TRUE", True), ("2", None)])


def test_procol_label_splits_into_procedure_and_stage(spark):
    check(
        spark,
        p.PROCEDURE,
        [("Solde_procedure_redressement", "redressement"), ("Liquidation_ouverture", "liquidation"), ("x", None)],
    )
    check(
        spark,
        p.STAGE,
        [("Solde_procedure_redressement", "solde_procedure"), ("Plan_continuation_sauvegarde", "plan_continuation")],
    )
