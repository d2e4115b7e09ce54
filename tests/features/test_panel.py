"""The gold panel on a hand-written world: calendar-month windows, publication lags, labels, scope."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from sf_spark.config import ScopeSettings
from sf_spark.features import catalogue, panel
from sf_spark.features.build import Calendar, assemble_panel, silver_tables
from sf_spark.features.inputs import CANONICAL, empty
from sf_spark.features.settings import FeatureSettings

D = dt.date
SIREN, SIRET = "123456789", "12345678900011"
CALENDAR = Calendar("2019-01-01", "2021-06-01", "2021-12-31")


def months(first: dt.date, count: int) -> list[dt.date]:
    return [D(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1) for i in range(count)]


def world(spark, **rows):
    """Canonical inputs: a firm open since 2015 with 15 employees, plus the rows given."""
    base = {
        "legal_units": [(SIREN, D(2015, 1, 1), "A", D(2015, 1, 1), "5710", "25.62A", D(2021, 6, 1), 2, "NORD SA")],
        "establishments": [(SIREN, SIRET, D(2015, 1, 1), True, "59350", "A", D(2015, 1, 1), D(2021, 6, 1), 2)],
        "headcount_siren": [(SIREN, m, 15, D(2021, 6, 1), 2) for m in months(D(2019, 1, 1), 30)],
    }
    base.update(rows)
    return {
        name: spark.createDataFrame(base[name], ddl) if name in base else empty(spark, name)
        for name, ddl in CANONICAL.items()
    }


def build(spark, scope=None, **rows):
    tables = silver_tables(world(spark, **rows), CALENDAR, FeatureSettings())
    return assemble_panel(tables, CALENDAR, scope or ScopeSettings())


def by_month(df, *columns):
    return {r["periode"]: tuple(r[c] for c in columns) for r in df.select("periode", *columns).collect()}


def test_lag_across_a_missing_month_is_null_not_the_older_row(spark):
    df = spark.createDataFrame(
        [("a", 0, 10.0), ("a", 2, 30.0), ("a", 3, 40.0)], "siren string, month_idx int, arrears_total double"
    )
    out = df.select("month_idx", panel._at("arrears_total", 1).alias("lag1")).orderBy("month_idx")
    assert [tuple(r) for r in out.collect()] == [(0, None), (2, None), (3, 30.0)]


def test_twelve_month_mean_averages_exactly_twelve_months(spark):
    due = [
        (SIRET, m, D(m.year + m.month // 12, m.month % 12 + 1, 1), float(i + 1), 0.0)
        for i, m in enumerate(months(D(2019, 1, 1), 13))
    ]
    out = by_month(build(spark, cotisation=due), "contribution_due_mean_12m")
    assert out[D(2020, 1, 1)] == (pytest.approx(sum(range(2, 14)) / 12),)


def test_accounts_closed_in_december_are_invisible_until_july(spark):
    returns = [(SIREN, D(2019, 12, 31), D(2020, 8, 3), 1000.0, *([None] * 14))]
    out = by_month(build(spark, tax_returns=returns), "turnover_eur", "accounts_age_months")
    assert out[D(2020, 6, 1)] == (None, None)
    assert out[D(2020, 7, 1)] == (1000.0, 7)
    assert out[D(2021, 1, 1)] == (1000.0, 13)


def test_arrears_diffs_and_episode_are_calendar_based(spark):
    debit = [
        (SIRET, "A", D(2020, 1, 1), "1", 1, D(2020, 3, 10), 100.0, 0.0),
        (SIRET, "A", D(2020, 1, 1), "1", 2, D(2020, 6, 10), 0.0, 0.0),
    ]
    before_any = by_month(build(spark, debit=debit), "arrears_total_eur")
    assert before_any[D(2020, 2, 1)] == (None,)  # unknown to URSSAF yet: missing, not 0
    due = [(SIRET, D(2019, 1, 1), D(2019, 2, 1), 500.0, 500.0)]
    out = by_month(
        build(spark, debit=debit, cotisation=due),
        "arrears_total_eur",
        "arrears_total_diff_1m",
        "arrears_episode_months",
        "arrears_months_12m",
    )
    assert out[D(2020, 2, 1)] == (0.0, 0.0, 0, 0)
    assert out[D(2020, 3, 1)] == (100.0, 100.0, 1, 1)
    assert out[D(2020, 5, 1)] == (100.0, 0.0, 3, 3)
    assert out[D(2020, 6, 1)] == (0.0, -100.0, 0, 3)


def test_arrears_flows_are_in_months_of_contribution(spark):
    due = [(SIRET, m, D(m.year + m.month // 12, m.month % 12 + 1, 1), 100.0, 100.0) for m in months(D(2019, 1, 1), 24)]
    debit = [
        (SIRET, "A", D(2020, 1, 1), "1", 1, D(2020, 3, 10), 100.0, 0.0),
        (SIRET, "A", D(2020, 1, 1), "1", 2, D(2020, 5, 10), 300.0, 0.0),
        (SIRET, "A", D(2020, 1, 1), "1", 3, D(2020, 6, 10), 0.0, 0.0),
    ]
    columns = (
        "arrears_flow_to_contribution_1m",
        "arrears_flow_to_contribution_3m",
        "arrears_rise_to_contribution_6m",
        "arrears_rise_months_6m",
    )
    out = by_month(build(spark, debit=debit, cotisation=due), *columns)
    assert out[D(2020, 3, 1)] == (1.0, 1.0, 1.0, 1)
    assert out[D(2020, 4, 1)] == (0.0, 1.0, 1.0, 1)
    assert out[D(2020, 5, 1)] == (2.0, 3.0, 3.0, 2)  # 300 owed against 100 a month; 100 then 200 new
    assert out[D(2020, 6, 1)] == (-3.0, -1.0, 3.0, 2)  # repaid: the net flow falls, the rises stay counted
    assert out[D(2020, 11, 1)] == (0.0, 0.0, 0.0, 0)


def test_labels_strong_signal_and_censoring(spark):
    procol = [(SIREN, D(2020, 9, 15), "redressement", "ouverture")]
    out = by_month(build(spark, procol=procol), "failure_12", "failure_18", "failure_24", "in_proceedings")
    assert out[D(2019, 1, 1)] == (0, 0, 1, False)  # opening 20 months later: within 24 only
    assert out[D(2019, 3, 1)] == (0, 1, 1, False)  # 2020-09 is month m+18
    assert out[D(2019, 8, 1)] == (0, 1, 1, False)  # 2020-09 is month m+13
    assert out[D(2019, 9, 1)] == (1, 1, 1, False)  # 2020-09 is month m+12, whatever the day
    assert out[D(2020, 6, 1)] == (1, 1, None, False)  # 18-month window ends 2021-12-31: known
    assert out[D(2020, 7, 1)] == (1, None, None, False)  # windows ending past the known judgments
    assert out[D(2020, 8, 1)] == (1, None, None, False)  # 2020-09 is month m+1
    assert out[D(2020, 9, 1)] == (0, None, None, True)  # opened during the month: strong signal, not a label
    assert out[D(2020, 12, 1)] == (0, None, None, True)
    assert out[D(2021, 1, 1)] == (None, None, None, True)


@pytest.mark.parametrize("opened_on", [D(2020, 10, 1), D(2020, 10, 31)])
def test_labels_count_whole_months_m_plus_1_to_m_plus_h(spark, opened_on):
    procol = [(SIREN, opened_on, "redressement", "ouverture")]
    out = by_month(build(spark, procol=procol), "failure_12", "in_proceedings")
    assert out[D(2019, 9, 1)] == (0, False)  # 2020-10 is month m+13
    assert out[D(2019, 10, 1)] == (1, False)  # m+12, on its first or its last day
    assert out[D(2020, 9, 1)] == (1, False)  # m+1
    assert out[D(2020, 10, 1)] == (0, True)  # during m: in proceedings


def test_labels_are_censored_when_judgments_stop_inside_the_window(spark):
    known_mid_month = Calendar("2019-01-01", "2021-06-01", "2021-12-15")
    tables = silver_tables(world(spark), known_mid_month, FeatureSettings())
    out = by_month(assemble_panel(tables, known_mid_month, ScopeSettings()), "failure_12")
    assert out[D(2020, 11, 1)] == (0,)  # window ends 2021-11-30
    assert out[D(2020, 12, 1)] == (None,)  # window ends 2021-12-31, after 2021-12-15


def test_scope_drops_small_firms_and_public_sectors(spark):
    small = [(SIREN, m, 5, D(2021, 6, 1), 2) for m in months(D(2019, 1, 1), 30)]
    assert build(spark, headcount_siren=small).count() == 0
    public = [(SIREN, D(2015, 1, 1), "A", D(2015, 1, 1), "5710", "84.11Z", D(2021, 6, 1), 2, "MAIRIE")]
    assert build(spark, legal_units=public).count() == 0
    assert build(spark, scope=ScopeSettings(min_headcount=5), headcount_siren=small).count() == 30


def test_panel_has_every_catalogued_feature_once(spark):
    df = build(spark)
    names = catalogue.feature_names()
    assert len(names) == len(set(names))
    labels = ["failure_12", "failure_18", "failure_24"]
    help_columns = ["followup_from", "help_censored_12", "help_censored_18", "help_censored_24"]
    assert df.columns == ["siren", "periode", *names, "in_proceedings", *labels, *help_columns]
    assert df.where(F.col("region") != "32").count() == 0


def test_the_catalogue_as_data_is_the_declarations(spark):
    """`catalogue.json` and docs/feature-catalogue.md are the declarations' copies: `python -m sf_spark.features`
    rewrites both when a feature changes."""
    declared = panel.declared_catalogue()
    assert catalogue.feature_catalogue() == declared
    docs = Path(catalogue.__file__).resolve().parents[2] / "docs" / "feature-catalogue.md"
    assert docs.read_text(encoding="utf-8") == catalogue.catalogue_markdown(declared)


def test_listing_the_catalogue_needs_no_jvm():
    probe = (
        "import sys\n"
        "from sf_spark.features import feature_names, feature_topics\n"
        "assert len(feature_names()) == len(feature_topics()) > 50\n"
        "print('pyspark' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_the_catalogue_reads_from_the_package_zipped_as_spark_submit_ships_it(tmp_path):
    import zipfile

    package = Path(catalogue.__file__).resolve().parents[1]
    shipped = tmp_path / "sf_spark.zip"
    with zipfile.ZipFile(shipped, "w") as archive:
        for path in package.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(package.parent).as_posix())
    probe = (
        f"import sys; sys.path.insert(0, {str(shipped)!r})\n"
        "from sf_spark.features import catalogue\n"
        "assert '.zip' in catalogue.__file__, catalogue.__file__\n"
        "print(len(catalogue.feature_names()))\n"
    )
    result = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == len(catalogue.feature_names())


def followup(started_on, ended_on=None):
    return (SIREN, started_on, ended_on, "accompagnement", "ccsf", "59", D(2021, 6, 1), 2)


def test_follow_up_in_force_or_coming_censors_the_windows_it_meets(spark):
    out = by_month(
        build(spark, followups=[followup(D(2020, 3, 10), D(2020, 8, 31))]),
        "followup_from",
        "help_censored_12",
        "help_censored_24",
    )
    assert out[D(2019, 1, 1)] == (D(2020, 3, 10), False, True)  # starts in m+14: beyond 12 months
    assert out[D(2019, 3, 1)] == (D(2020, 3, 10), True, True)  # starts in m+12, whatever the day
    assert out[D(2019, 4, 1)] == (D(2020, 3, 10), True, True)
    assert out[D(2020, 3, 1)] == (D(2020, 3, 10), True, True)  # starts during m: in force
    assert out[D(2020, 8, 1)] == (D(2020, 3, 10), True, True)  # ends during m: still in force
    assert out[D(2020, 9, 1)] == (None, False, False)  # over


def test_a_failure_before_the_follow_up_keeps_its_label(spark):
    procol = [(SIREN, D(2020, 2, 20), "redressement", "ouverture")]
    out = by_month(
        build(spark, procol=procol, followups=[followup(D(2020, 3, 10))]),
        "failure_12",
        "help_censored_12",
    )
    assert out[D(2019, 6, 1)] == (1, False)  # opened before help began: the firm's own outcome
    assert out[D(2019, 1, 1)] == (0, False)  # neither the opening nor the help within 12 months


def test_without_follow_ups_nothing_is_censored(spark):
    censored = build(spark).agg(*[F.max(f"help_censored_{h}") for h in (12, 18, 24)]).first()
    assert tuple(censored) == (False, False, False)
