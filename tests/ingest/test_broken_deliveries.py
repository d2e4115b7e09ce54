"""A corpus of broken deliveries: each bad file is rejected by name or its bad rows quarantined with
a reason; the good files of the same run land; nothing crashes; the run's status says so; a second
run changes nothing; no message repeats a firm-level value."""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path

import pytest

from sf_spark import pipeline
from sf_spark.ingest import ingest_raw
from sf_spark.ingest.run import IngestSettings, _scan_new, discover
from tests.ingest.test_ingest_files import CCSF, DELAI_HEADER, DELAI_ROW, rows, write

GOOD = "2024-01-05/Sigfaible_ccsf_2401.csv"
SIRET = "12345678000123"
EFFECTIF_HEADER = "siret;compte;eff202401;eff202402"
COTISATION = "Urssaf_gestion;Dep;Siret;Compte;periode;mer;enc_direct;cotis_due\n"


@pytest.fixture
def raw(tmp_path) -> Path:
    folder = tmp_path / "raw"
    write(folder / GOOD, CCSF.encode())
    return folder


def _gzip_truncated() -> bytes:
    return gzip.compress((CCSF * 200).encode())[:-40]


def _gzip_corrupt() -> bytes:
    data = bytearray(gzip.compress((CCSF * 200).encode()))
    data[30:60] = b"\x00" * 30
    return bytes(data)


# file name -> (bytes, words the rejection must contain)
REJECTED = {
    "truncated_gzip": ("Sigfaible_ccsf_2402.csv.gz", _gzip_truncated(), "truncated or corrupt gzip"),
    "corrupt_gzip": ("Sigfaible_ccsf_2403.csv.gz", _gzip_corrupt(), "truncated or corrupt gzip"),
    "utf16": ("Sigfaible_ccsf_2404.csv", CCSF.encode("utf-16"), "UTF-16"),
    "binary": ("Sigfaible_ccsf_2405.csv", b"PK\x03\x04\x00\x00binary", "binary content"),
    "huge_header": ("Sigfaible_ccsf_2406.csv", ("x" * 200_000 + "\n1;2\n").encode(), "header line longer"),
    "unsplittable_header": ("act_partielle_conso_2401.csv", b'"ID_DA,"ETAB_SIRET\n1,2\n', "cannot be split"),
    "year_zero_headcount": (
        "Sigfaible_effectif_siret_2401.csv",
        f"siret;compte;eff000011\n{SIRET};1;3\n".encode(),
        "is not a monthly eff<YYYYQM>",
    ),
    "missing_column": (
        "Sigfaible_cotisdues_2401.csv",
        COTISATION.replace(";cotis_due", "").encode() + f"1;75;{SIRET};7001;2401;1;10\n".encode(),
        "'cotis_due'",
    ),
    "no_header": ("Sigfaible_ccsf_2407.csv", f"117;75;{SIRET};7001;1180130;DEBUT;CCSF\n".encode(), "missing header"),
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_a_bad_file_is_rejected_by_name_and_the_others_land(spark, lake, raw, case):
    name, data, words = REJECTED[case]
    write(raw / "2024-02-05" / name, data)
    summary = ingest_raw(lake, str(raw))
    relative = f"2024-02-05/{name}"
    [problem] = summary["problems"]
    assert problem.startswith(f"rejected {relative}: ") and words in problem
    assert pipeline.exit_status(summary) == pipeline.PROBLEMS
    assert SIRET not in problem and "7001" not in problem.removeprefix(f"rejected {relative}")
    assert {r["_source_file"] for r in rows(lake, "bronze/urssaf_ccsf")} == {GOOD}
    versions = {t: lake.version(t) for t in ("bronze/urssaf_ccsf", "bronze/_ingest_log")}
    again = ingest_raw(lake, str(raw))
    assert again["files_unchanged"] == 2 and again["problems"] == []
    assert {t: lake.version(t) for t in versions} == versions


def test_glob_characters_in_a_file_name_are_read_literally(spark, lake, raw):
    write(raw / "2024-02-05" / "Sigfaible_ccsf_[v2]{a}*?.csv", CCSF.replace("7001", "7002").encode())
    write(raw / "2024-02-05" / "Sigfaible_ccsf_v.csv", CCSF.replace("7001", "7003").encode())
    summary = ingest_raw(lake, str(raw))
    assert summary["problems"] == []
    by_file = {}
    for r in rows(lake, "bronze/urssaf_ccsf"):
        by_file.setdefault(r["_source_file"], set()).add(r["compte"])
    assert by_file == {
        GOOD: {"7001"},
        "2024-02-05/Sigfaible_ccsf_[v2]{a}*?.csv": {"7002"},
        "2024-02-05/Sigfaible_ccsf_v.csv": {"7003"},
    }


@pytest.mark.parametrize(
    ("encoding", "prefix"), [("cp1252", b""), ("latin-1", b"\xef\xbb\xbf"), ("cp1252", b"\xef\xbb\xbf")]
)
def test_windows_1252_and_a_byte_order_mark_on_latin1_are_read(spark, lake, raw, encoding, prefix):
    row = DELAI_ROW.replace("Société Générale d'Été", "L’Œuvre – café €" if encoding == "cp1252" else "Société Été")
    write(raw / "2024-02-05" / "Sigfaible_delais_2402.csv", prefix + f"{DELAI_HEADER}\n{row}\n".encode(encoding))
    summary = ingest_raw(lake, str(raw))
    assert summary["problems"] == [] and summary["sources"]["urssaf_delai"]["rows_accepted"] == 1
    [delai] = rows(lake, "bronze/urssaf_delai")
    assert delai["company_name"] == ("L’Œuvre – café €" if encoding == "cp1252" else "Société Été")


def test_sentinel_dates_and_negative_amounts_go_to_quarantine(spark, lake, raw):
    plans = [
        DELAI_ROW,
        DELAI_ROW.replace("01/08/2020", "31/12/9999"),
        DELAI_ROW.replace("01/02/2020", "01/01/1800"),
        DELAI_ROW.replace("5065,79", "-5065,79"),
        DELAI_ROW.replace(";182;", ";-182;"),
    ]
    write(raw / "2024-02-05" / "Sigfaible_delais_2402.csv", "\n".join([DELAI_HEADER, *plans, ""]).encode("utf-8"))
    ingest_raw(lake, str(raw))
    assert len(rows(lake, "bronze/urssaf_delai")) == 1
    reasons = sorted(r["reason"] for r in rows(lake, "bronze/_quarantine") if r["source"] == "urssaf_delai")
    assert reasons == [
        "Date_creation: '01/01/1800' is before 1900-01-01 or more than 10 years after the delivery",
        "Date_echeance: '31/12/9999' is before 1900-01-01 or more than 10 years after the delivery",
        "Duree_delai: '-182' is below 0",
        "Montant_global_echeancier: '-5065,79' is below 0",
    ]


def test_a_file_mostly_in_quarantine_fails_the_run(spark, lake, raw):
    bad = "".join(f"117;75;{SIRET};{7000 + i};2024-13-45;DEBUT;CCSF\n" for i in range(150))
    write(raw / "2024-02-05" / "Sigfaible_ccsf_2402.csv", (CCSF + bad).encode())
    summary = ingest_raw(lake, str(raw), None)
    [problem] = summary["problems"]
    assert problem.startswith("2024-02-05/Sigfaible_ccsf_2402.csv: 151 of 152 rows in quarantine")
    assert pipeline.exit_status(summary) == pipeline.PROBLEMS
    assert len(rows(lake, "bronze/urssaf_ccsf")) == 2  # the good row of each file


def test_files_still_being_written_are_left_for_the_next_run(tmp_path):
    raw = tmp_path / "raw"
    write(raw / "a" / "Sigfaible_ccsf_1.csv.part", CCSF.encode())
    fresh = write(raw / "a" / "Sigfaible_ccsf_2.csv", CCSF.encode())
    old = write(raw / "a" / "Sigfaible_ccsf_3.csv", CCSF.encode())
    os.utime(old, (time.time() - 600, time.time() - 600))
    claimed, _ = discover(raw)
    assert sorted(p.name for p, _ in claimed) == ["Sigfaible_ccsf_2.csv", "Sigfaible_ccsf_3.csv"]
    files, _, in_progress = _scan_new(raw, claimed, {}, IngestSettings(settle_seconds=60))
    assert [f.relative for f in files] == ["a/Sigfaible_ccsf_3.csv"] and in_progress == ["a/Sigfaible_ccsf_2.csv"]
    assert fresh.exists()


def test_a_file_growing_during_its_scan_is_left_for_the_next_run(tmp_path, monkeypatch):
    from sf_spark.ingest import run

    raw = tmp_path / "raw"
    growing = write(raw / "a" / "Sigfaible_ccsf_1.csv", CCSF.encode())
    scan = run.scan_or_error

    def scan_then_append(path):
        result = scan(path)
        with growing.open("ab") as out:
            out.write(b"117;75;12345678000123;7001;1180130;DEBUT;CCSF\n")
        return result

    monkeypatch.setattr(run, "scan_or_error", scan_then_append)
    files, _, in_progress = _scan_new(raw, discover(raw)[0], {}, IngestSettings())
    assert files == [] and in_progress == ["a/Sigfaible_ccsf_1.csv"]
