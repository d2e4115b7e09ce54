"""The monthly debt of the national programme's sample, reproduced from its raw delivery."""

from __future__ import annotations

import datetime as dt
import shutil

from sf_spark.features import silver
from sf_spark.features.inputs import from_bronze
from sf_spark.ingest import ingest_raw


def _golden(path):
    rows = []
    for line in path.read_text().splitlines()[1:]:
        siret, periode, employee, employer, _ = (field.strip() for field in line.split("\t"))
        rows.append((siret, dt.date.fromisoformat(periode[:10]), float(employee), float(employer)))
    return rows


def test_golden_monthly_debt_from_debit_sample(national_fixtures, spark, lake, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(national_fixtures / "debitTestData.csv", raw / "Sigfaible_debits_sample.csv")
    ingest_raw(lake, str(raw))
    debt = silver.debt_by_siret_month(from_bronze(lake, "debit"), "2012-12-01")
    first_months = {
        (r["siret"], r["periode"]): (r["arrears_employee_eur"], r["arrears_employer_eur"])
        for r in debt.groupBy("siret")
        .agg({"periode": "min"})
        .withColumnRenamed("min(periode)", "periode")
        .join(debt, ["siret", "periode"])
        .collect()
    }
    expected = {(s, p): (e, r) for s, p, e, r in _golden(national_fixtures / "golden_clean_debit.txt")}
    # The project quarantines the sample's period 199904 (quarter 0, month 4) that the national
    # parser reads as January 1999: that siret's debt is absent here, every other one matches.
    quarantined = [r["raw_text"] for r in lake.read("bronze/_quarantine").collect()]
    assert len(quarantined) == 1 and ";22222222222222;" in quarantined[0]
    assert first_months == {k: v for k, v in expected.items() if k[0] != "22222222222222"}
