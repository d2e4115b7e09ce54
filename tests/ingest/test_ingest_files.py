"""File-level behaviour: encodings, compression, headers, rejection, idempotence, crash recovery."""

from __future__ import annotations

import gzip
import shutil
from datetime import date
from pathlib import Path

import pytest

from sf_spark.ingest import ingest_raw
from sf_spark.lake import Lake

DELAI_HEADER = (
    "Urssaf_gestion;Dep;Siret;Numero_compte_externe;Numero_structure;Date_creation;Date_echeance;Duree_delai;"
    "Denomination_premiere_ligne;Indic_6M;Annee_creation;Montant_global_echeancier;Code_externe_stade;"
    "Code_externe_action"
)
DELAI_ROW = (
    "117;75;1234567800012;7001;55;01/02/2020;01/08/2020;182;Société Générale d'Été;INF;2020;5065,79;APPROB;DELAI"
)
CCSF = (
    "Urssaf_gestion;Dep;Siret;Compte;Date_de_traitement;Code_externe_stade;Code_externe_action\n"
    "117;75;12345678000123;7001;1180130;DEBUT;CCSF\n"
    "117;75;12345678000123;7001;1181332;FIN;CCSF\n"
)
# shuffled, upper-case headers, an extra column, a siren that lost its leading zero
PROCOL = (
    "LIB_ACTX_STDX;DT_EFFET;SIREN;CAT_V2;SIRET;COMMENTAIRE\n"
    "Liquidation_ouverture;26MAY2014;12345678;1;1234567800012;x\n"
)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def rows(lake: Lake, table: str) -> list[dict]:
    df = lake.read(table)
    order = ["_source_file", "_line_number"] if "_source_file" in df.columns else ["file", "line"]
    return [r.asDict() for r in df.orderBy(*order).collect()]


def log(lake: Lake) -> list[dict]:
    return [r.asDict() for r in lake.read("bronze/_ingest_log").orderBy("ingested_at", "path").collect()]


@pytest.fixture
def raw(tmp_path) -> Path:
    folder = tmp_path / "raw"
    write(folder / "2024-01-05" / "Sigfaible_delais_2401.csv", f"{DELAI_HEADER}\r\n{DELAI_ROW}\r\n".encode("latin-1"))
    write(folder / "2024-01-05" / "Sigfaible_ccsf_2401.csv.gz", gzip.compress(CCSF.encode("utf-8")))
    write(folder / "2024-02-05" / "Sigfaible_pcoll_2402.csv", PROCOL.encode("utf-8"))
    return folder


def test_latin1_gzip_shuffled_headers_and_extra_columns(spark, lake, raw):
    summary = ingest_raw(lake, str(raw))
    [delai] = rows(lake, "bronze/urssaf_delai")
    assert delai["company_name"] == "Société Générale d'Été"
    assert (delai["siret"], delai["plan_amount_eur"], delai["created_date"]) == (
        "01234567800012",
        5065.79,
        date(2020, 2, 1),
    )
    [ccsf] = rows(lake, "bronze/urssaf_ccsf")
    assert (ccsf["processed_date"], ccsf["_line_number"]) == (date(2018, 1, 30), 2)
    [bad] = rows(lake, "bronze/_quarantine")
    assert (bad["file"], bad["line"], bad["raw_text"]) == (
        "2024-01-05/Sigfaible_ccsf_2401.csv.gz",
        3,
        "117;75;12345678000123;7001;1181332;FIN;CCSF",
    )
    assert bad["reason"] == "Date_de_traitement: cannot read '1181332' as URSSAF date (Y)YYMMDD"
    [procol] = rows(lake, "bronze/urssaf_procol")
    assert (procol["siren"], procol["procedure"], procol["stage"], procol["effective_date"]) == (
        "012345678",
        "liquidation",
        "ouverture",
        date(2014, 5, 26),
    )
    assert procol["_delivery_date"] == date(2024, 2, 5)
    entries = {e["path"]: e for e in log(lake)}
    assert entries["2024-01-05/Sigfaible_delais_2401.csv"]["encoding"] == "latin-1"
    assert entries["2024-01-05/Sigfaible_ccsf_2401.csv.gz"]["compressed"]
    assert entries["2024-02-05/Sigfaible_pcoll_2402.csv"]["message"] == "extra columns ignored: COMMENTAIRE"
    assert summary["sources"]["urssaf_ccsf"] | {"seconds": 0} == {
        "files_new": 1,
        "files_duplicate": 0,
        "files_rejected": 0,
        "rows_read": 2,
        "rows_accepted": 1,
        "rows_quarantined": 1,
        "seconds": 0,
    }


def test_missing_column_rejects_the_file_and_writes_nothing_of_it(spark, lake, raw):
    broken = CCSF.replace("Date_de_traitement;", "").replace("1180130;", "").replace("1181332;", "")
    write(raw / "2024-03-05" / "Sigfaible_ccsf_2403.csv", broken.encode())
    summary = ingest_raw(lake, str(raw))
    [message] = summary["rejected"]
    assert "2024-03-05/Sigfaible_ccsf_2403.csv" in message and "'Date_de_traitement'" in message
    assert {r["_source_file"] for r in rows(lake, "bronze/urssaf_ccsf")} == {"2024-01-05/Sigfaible_ccsf_2401.csv.gz"}
    assert {r["file"] for r in rows(lake, "bronze/_quarantine")} == {"2024-01-05/Sigfaible_ccsf_2401.csv.gz"}
    rejected = [e for e in log(lake) if e["status"] == "rejected"]
    assert [e["path"] for e in rejected] == ["2024-03-05/Sigfaible_ccsf_2403.csv"]


def test_rerun_and_duplicate_content_under_another_name(spark, lake, raw):
    ingest_raw(lake, str(raw))
    versions = {t: lake.version(t) for t in ("bronze/urssaf_delai", "bronze/urssaf_ccsf", "bronze/_quarantine")}
    again = ingest_raw(lake, str(raw))
    assert again["sources"] == {} and again["files_unchanged"] == 3
    assert {t: lake.version(t) for t in versions} == versions
    write(raw / "2024-03-05" / "Sigfaible_pcoll_2403.csv", PROCOL.replace("26MAY2014", "27MAY2014").encode())
    shutil.copyfile(raw / "2024-02-05" / "Sigfaible_pcoll_2402.csv", raw / "2024-03-05" / "SIGFAIBLE_PCOLL_copy.csv")
    third = ingest_raw(lake, str(raw))
    assert third["sources"]["urssaf_procol"]["files_new"] == 1
    assert third["sources"]["urssaf_procol"]["files_duplicate"] == 1
    duplicate = next(e for e in log(lake) if e["status"] == "duplicate")
    assert duplicate["path"] == "2024-03-05/SIGFAIBLE_PCOLL_copy.csv"
    assert duplicate["message"] == "same content as 2024-02-05/Sigfaible_pcoll_2402.csv"
    assert len(rows(lake, "bronze/urssaf_procol")) == 2
    assert len(rows(lake, "bronze/urssaf_delai")) == 1


def ingest_crashing_on(lake: Lake, raw: Path, crashing: str, monkeypatch) -> None:
    """An ingest that crashes when it appends to the table `crashing` (the tables before it have landed)."""
    original = Lake.append

    def crash(self, df, table, *args, **kwargs):
        if table == crashing:
            raise RuntimeError("simulated crash")
        return original(self, df, table, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Lake, "append", crash)
        with pytest.raises(RuntimeError, match="simulated crash"):
            ingest_raw(lake, str(raw))


def test_crash_mid_ingest_leaves_the_lake_as_before_and_a_rerun_completes_it(spark, lake, raw, monkeypatch):
    ingest_crashing_on(lake, raw, "bronze/urssaf_procol", monkeypatch)
    assert not lake.exists("bronze/urssaf_procol")
    assert not lake.exists("bronze/_ingest_log")
    assert len(rows(lake, "bronze/urssaf_ccsf")) == 1  # landed before the crash, tagged with its checksum
    summary = ingest_raw(lake, str(raw))
    assert summary["sources"]["urssaf_procol"]["files_new"] == 1
    assert len(rows(lake, "bronze/urssaf_ccsf")) == 1
    assert len(rows(lake, "bronze/_quarantine")) == 1
    assert len(rows(lake, "bronze/urssaf_procol")) == 1
    assert sorted(e["path"] for e in log(lake)) == [
        "2024-01-05/Sigfaible_ccsf_2401.csv.gz",
        "2024-01-05/Sigfaible_delais_2401.csv",
        "2024-02-05/Sigfaible_pcoll_2402.csv",
    ]


def test_the_saved_freshness_follows_each_ingest_as_a_scan_of_bronze_would(spark, lake, raw, monkeypatch):
    """Freshness is updated from the rows each ingest appends; after a run that stopped between two sources'
    commits, the source already landed is scanned whole, so nothing is counted twice or missed."""
    from sf_spark.ingest.freshness import freshness, saved_freshness

    ingest_raw(lake, str(raw))
    assert saved_freshness(lake) == freshness(lake)
    write(
        raw / "2024-03-05" / "Sigfaible_delais_2403.csv",
        f"{DELAI_HEADER}\n{DELAI_ROW.replace('2020', '2021')}\n".encode(),
    )
    write(raw / "2024-03-05" / "Sigfaible_pcoll_2403.csv", PROCOL.replace("26MAY2014", "27MAY2015").encode())
    ingest_crashing_on(lake, raw, "bronze/urssaf_procol", monkeypatch)
    summary = ingest_raw(lake, str(raw))
    assert summary["freshness"] == saved_freshness(lake) == freshness(lake)
    by_source = {r["source"]: r for r in summary["freshness"]}
    assert by_source["urssaf_delai"]["rows"] == 2 and by_source["urssaf_procol"]["rows"] == 2
    assert by_source["urssaf_delai"]["latest_delivery"] == "2024-03-05"
