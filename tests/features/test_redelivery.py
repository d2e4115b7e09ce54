"""Delivery semantics: per business key, the latest delivery replaces the earlier ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from chispa import assert_df_equality

from sf_spark.features import silver
from sf_spark.features.inputs import from_bronze
from sf_spark.ingest import ingest_raw

HEADER = "Urssaf_gestion;Dep;Siret;Compte;periode;mer;enc_direct;cotis_due"
ROWS = [
    "117;75;12345678000123;7001;201911;1;1000,00;1200,00",  # January 2019
    "117;75;12345678000123;7001;201912;1;900,00;1100,00",  # February 2019
    "117;75;98765432100017;8001;201911;1;50,00;60,00",
]


def deliver(raw: Path, folder: str, name: str, lines: list[str], newline: str = "\n") -> None:
    path = raw / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(newline.join([HEADER, *lines, ""]).encode())


def contributions(lake):
    return silver.contributions_by_month(from_bronze(lake, "cotisation")).orderBy("siret", "periode")


@pytest.fixture
def delivered(spark, lake, tmp_path):
    raw = tmp_path / "raw"
    deliver(raw, "2019-03-05", "Sigfaible_cotisdues_1903.csv", ROWS)
    ingest_raw(lake, str(raw))
    return raw


def test_a_corrected_redelivery_replaces_the_amount(spark, lake, delivered):
    corrected = [ROWS[0].replace("1200,00", "1250,00"), *ROWS[1:]]
    deliver(delivered, "2019-04-05", "Sigfaible_cotisdues_1903_corrige.csv", corrected)
    ingest_raw(lake, str(delivered))
    assert lake.read("bronze/urssaf_cotisation").count() == 6  # bronze keeps both deliveries
    due = {(r["siret"], f"{r['periode']:%Y-%m}"): r["contribution_due_eur"] for r in contributions(lake).collect()}
    assert due == {
        ("12345678000123", "2019-01"): 1250.0,
        ("12345678000123", "2019-02"): 1100.0,
        ("98765432100017", "2019-01"): 60.0,
    }


def test_an_identical_redelivery_shuffled_with_crlf_under_a_new_name_changes_nothing(spark, lake, delivered):
    before = contributions(lake).collect()
    deliver(delivered, "2019-04-05", "SIGFAIBLE_COTISDUES_renvoi.csv", list(reversed(ROWS)), newline="\r\n")
    summary = ingest_raw(lake, str(delivered))
    assert summary["sources"]["urssaf_cotisation"]["files_new"] == 1  # other bytes: a new file for the log
    assert_df_equality(contributions(lake), spark.createDataFrame(before, contributions(lake).schema))


def test_an_older_delivery_ingested_late_does_not_replace_a_newer_one(spark, lake, delivered):
    stale = [ROWS[0].replace("1200,00", "1.00"), *ROWS[1:]]
    deliver(delivered, "2019-02-05", "Sigfaible_cotisdues_1902.csv", stale)
    ingest_raw(lake, str(delivered))
    due = {(r["siret"], f"{r['periode']:%Y-%m}"): r["contribution_due_eur"] for r in contributions(lake).collect()}
    assert due[("12345678000123", "2019-01")] == 1200.0
