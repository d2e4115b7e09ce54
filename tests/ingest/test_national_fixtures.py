"""The national programme's samples, read in place, must give the values its own parsers found.

Policy differences (package docstring): rows whose period or date cannot be decoded are
quarantined, not read with a guess (period `199904`; Sirene `invalid_date`).
"""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest

from sf_spark.ingest import ingest_raw
from sf_spark.lake import Lake

# sample -> a file name of the contract, inside a delivery folder
CONTRACT_NAMES = {
    "cotisationTestData.csv": "Sigfaible_cotisdues_sample.csv",
    "debitTestData.csv": "Sigfaible_debits_sample.csv",
    "debitCorrompuTestData.csv": "Sigfaible_debits_corrompu.csv",
    "delaiTestData.csv": "Sigfaible_delais_sample.csv",
    "ccsfTestData.csv": "Sigfaible_ccsf_sample.csv",
    "procolTestData.csv": "Sigfaible_pcoll_sample.csv",
    "effectifTestData.csv": "Sigfaible_effectif_siret_sample.csv",
    "effectifEntTestData.csv": "Sigfaible_effectif_siren_sample.csv",
    "apdemandeTestData.csv": "act_partielle_ddes_sample.csv",
    "apconsoTestData.csv": "act_partielle_conso_sample.csv",
    "sireneTestData.csv": "StockEtablissement_sample.csv",
    "sireneULTestData.csv": "StockUniteLegale_sample.csv",
}
DELIVERY = "2024-01-05"


@pytest.fixture(scope="module")
def ingested(spark, national_fixtures, tmp_path_factory):
    root = tmp_path_factory.mktemp("national")
    folder = root / "raw" / DELIVERY
    folder.mkdir(parents=True)
    for sample, name in CONTRACT_NAMES.items():
        shutil.copyfile(national_fixtures / sample, folder / name)
    lake = Lake(spark, str(root / "lake"), "delta-rs")
    summary = ingest_raw(lake, str(root / "raw"))
    return lake, summary, national_fixtures


def expected(fixtures, name: str) -> list[dict]:
    return json.loads((fixtures / name).read_text(encoding="utf-8"))["tuples"]


def day(value: str) -> date:
    return date.fromisoformat(value[:10])


def rows(lake, table: str, file: str | None = None) -> list[dict]:
    df = lake.read(f"bronze/{table}")
    if file:
        df = df.where(df._source_file == f"{DELIVERY}/{file}")
    return [r.asDict() for r in df.orderBy("_source_file", "_line_number").collect()]


def quarantined(lake, file: str) -> dict[int, str]:
    df = lake.read("bronze/_quarantine").where(f"file = '{DELIVERY}/{file}'")
    return {r["line"]: r["reason"] for r in df.collect()}


def test_cotisation(ingested):
    lake, _, fixtures = ingested
    got = rows(lake, "urssaf_cotisation")
    want = expected(fixtures, "expectedCotisation.json")
    assert [
        (r["compte"], r["period_start"], r["period_end"], r["collected_eur"], r["contribution_due_eur"]) for r in got
    ] == [(t["numero_compte"], day(t["periode_debut"]), day(t["periode_fin"]), t["encaisse"], t["du"]) for t in want]
    assert got[0]["siret"] == "11111111111111" and got[0]["_line_number"] == 2


def debit_tuple(r: dict) -> tuple:
    return (
        r["compte"],
        r["debt_number"],
        r["processed_date"],
        r["employee_share_eur"],
        r["employer_share_eur"],
        r["history_number"],
        r["account_state"],
        r["proceedings_code"],
        r["period_start"],
        r["period_end"],
        r["operation_code"],
        r["operation_reason"],
        r["appeal_pending"],
    )


def expected_debit_tuple(t: dict) -> tuple:
    return (
        t["numero_compte"],
        t["numero_ecart_negatif"],
        day(t["date_traitement"]),
        t["part_ouvriere"],
        t["part_patronale"],
        t["numero_historique"],
        t["etat_compte"],
        t["code_procedure_collective"],
        day(t["periode_debut"]),
        day(t["periode_fin"]),
        t["code_operation_ecart_negatif"],
        t["code_motif_ecart_negatif"],
        t["recours_en_cours"],
    )


def test_debit_keeps_rows_and_quarantines_the_undecodable_period(ingested):
    lake, _, fixtures = ingested
    got = [debit_tuple(r) for r in rows(lake, "urssaf_debit", "Sigfaible_debits_sample.csv")]
    want = [expected_debit_tuple(t) for t in expected(fixtures, "expectedDebit.json")]
    assert got == want[:2]
    assert quarantined(lake, "Sigfaible_debits_sample.csv") == {
        4: "Periode: cannot read '199904' as URSSAF period (YY)YYQM"
    }


def test_corrupted_debit_quarantines_broken_lines_and_keeps_good_ones(ingested):
    lake, summary, fixtures = ingested
    got = [debit_tuple(r) for r in rows(lake, "urssaf_debit", "Sigfaible_debits_corrompu.csv")]
    assert got == [expected_debit_tuple(expected(fixtures, "expectedDebitCorrompu.json")[0])]
    assert quarantined(lake, "Sigfaible_debits_corrompu.csv") == {
        3: "wrong number of fields: expected 17, got 4",
        4: "Periode: cannot read '199904' as URSSAF period (YY)YYQM",
        5: "wrong number of fields: expected 17, got 1",
        6: "Periode: cannot read '199904' as URSSAF period (YY)YYQM",
    }
    file = next(f for f in summary["files"] if f["file"].endswith("corrompu.csv"))
    assert (file["rows_read"], file["rows_accepted"], file["rows_quarantined"]) == (5, 1, 4)


def test_golden_debit_amounts(ingested):
    lake, _, fixtures = ingested
    golden = [line.split() for line in (fixtures / "golden_clean_debit.txt").read_text().splitlines()[1:]]
    by_siret = {r["siret"]: r for r in rows(lake, "urssaf_debit", "Sigfaible_debits_sample.csv")}
    for siret, _, _, employee, employer, _ in golden:
        if siret in by_siret:
            assert (by_siret[siret]["employee_share_eur"], by_siret[siret]["employer_share_eur"]) == (
                float(employee),
                float(employer),
            )
    assert len(by_siret) == 2


def test_delai(ingested):
    lake, _, fixtures = ingested
    got = [
        (
            r["compte"],
            r["structure_number"],
            r["created_date"],
            r["due_date"],
            r["duration_days"],
            r["company_name"],
            r["over_6_months"],
            r["created_year"],
            r["plan_amount_eur"],
            r["stage"],
            r["action"],
        )
        for r in rows(lake, "urssaf_delai")
    ]
    want = [
        (
            t["numero_compte"],
            t["numero_contentieux"],
            day(t["date_creation"]),
            day(t["date_echeance"]),
            t["duree_delai"],
            t["denomination"],
            t["indic_6m"],
            t["annee_creation"],
            t["montant_echeancier"],
            t["stade"],
            t["action"],
        )
        for t in expected(fixtures, "expectedDelai.json")
    ]
    assert got == want


def test_ccsf_and_procol(ingested):
    lake, _, fixtures = ingested
    assert [(r["processed_date"], r["stage"], r["action"]) for r in rows(lake, "urssaf_ccsf")] == [
        (day(t["date_traitement"]), t["stade"], t["action"]) for t in expected(fixtures, "expectedCcsf.json")
    ]
    assert [(r["effective_date"], r["procedure"], r["stage"]) for r in rows(lake, "urssaf_procol")] == [
        (day(t["date_effet"]), t["action_procol"], t["stade_procol"]) for t in expected(fixtures, "expectedProcol.json")
    ]


def test_ap_demande(ingested):
    lake, _, fixtures = ingested
    columns = {
        "id_demande": "request_id",
        "effectif_entreprise": "company_headcount",
        "effectif": "establishment_headcount",
        "date_statut": "status_date",
        "periode_debut": "start_date",
        "periode_fin": "end_date",
        "hta": "authorised_hours",
        "mta": "authorised_amount_eur",
        "effectif_autorise": "authorised_headcount",
        "motif_recours_se": "reason_code",
        "heures_consommees": "consumed_hours",
        "montant_consomme": "consumed_amount_eur",
        "effectif_consomme": "consumed_headcount",
        "perimetre": "scope_code",
    }
    got = rows(lake, "ap_demande")
    for row, want in zip(got, expected(fixtures, "expectedApdemande.json"), strict=True):
        for key, value in want.items():
            assert row[columns[key]] == (day(value) if key.startswith(("date", "periode")) else value), key
    assert rows(lake, "ap_conso")[2]["periode"] == date(2020, 12, 1)


def test_sirene_etablissements(ingested):
    lake, _, fixtures = ingested
    by_siren = {r["siren"]: r for r in rows(lake, "sirene_etab")}
    for want in expected(fixtures, "expectedSirene.json"):
        row = by_siren[want["siren"]]
        assert row["nic"] == want["nic"]
        assert len(row["siret"]) == 14
        assert (row["postal_code"], row["commune_code"], row["activity_code"]) == (
            want["code_postal"],
            want["code_commune"],
            want["ape"],
        )
        assert row["created_date"] == (day(want["date_creation"]) if "date_creation" in want else None)
        assert row["is_head_office"] is want.get("siege", False)
        assert (row["administrative_state"] == "A") is want["est_actif"]
    assert len(by_siren) == 5  # the sample's filtered row (NAF rev. 1, closed) is kept in bronze


def test_sirene_unites_legales(ingested):
    lake, _, fixtures = ingested
    by_siren = {r["siren"]: r for r in rows(lake, "sirene_ul")}
    for want in expected(fixtures, "expectedSireneUL.json"):
        if want["siren"] == "789211558":
            continue  # quarantined: its creation date is `invalid_date`
        row = by_siren[want["siren"]]
        assert (row["legal_category"], row["activity_code"]) == (want["categorie_juridique"], want["ape"])
        assert row["name"] == (want["raison_sociale"] or None)
        assert row["created_date"] == (day(want["date_creation"]) if "date_creation" in want else None)
        assert (row["administrative_state"] == "A") is want["est_actif"]
    assert quarantined(lake, "StockUniteLegale_sample.csv") == {
        3: "dateCreationUniteLegale: cannot read 'invalid_date' as date yyyy-MM-dd"
    }


def test_wide_headcount_to_long(ingested):
    lake, _, _ = ingested
    siret = {(r["siret"], r["periode"]): r["headcount"] for r in rows(lake, "urssaf_effectif")}
    assert siret[("54236870268934", date(2010, 1, 1))] == 629
    assert siret[("54236870268934", date(2010, 7, 1))] == 89  # `089`
    assert siret[("54236870268934", date(2016, 11, 1))] == 0  # `000` in eff201642
    assert len(siret) == 2 * 112 + 93  # the third establishment has 19 blank months
    siren = {r["periode"]: r["headcount"] for r in rows(lake, "urssaf_effectif_ent")}
    assert siren == {
        date(2010, 1, 1): 629,
        date(2010, 2, 1): 536,
        date(2010, 3, 1): 209,
        date(2010, 4, 1): 0,
        date(2010, 5, 1): 585,
    }


def test_lineage_and_log(ingested):
    lake, summary, _ = ingested
    row = rows(lake, "urssaf_ccsf")[0]
    assert row["_source_file"] == f"{DELIVERY}/Sigfaible_ccsf_sample.csv"
    assert row["_delivery_date"] == date(2024, 1, 5)
    assert len(row["_file_checksum"]) == 64 and row["_ingested_at"] is not None
    log = lake.read("bronze/_ingest_log").collect()
    assert len(log) == len(CONTRACT_NAMES) and {r["status"] for r in log} == {"ingested"}
    assert summary["sources"]["urssaf_debit"]["rows_quarantined"] == 5
