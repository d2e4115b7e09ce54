"""The agents' tool exports (`suivi_avis`, `suivi_accompagnement`) read like any partner source: typed,
their codes checked, their rules across fields enforced by quarantine, owner `agents`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sf_spark.ingest import ingest_raw
from sf_spark.ingest.sources import SOURCES_BY_NAME
from tests.ingest.test_ingest_files import rows, write

RATINGS = "siren;liste;date_avis;avis;motif;departement;profil\n"
FOLLOWUPS = "siren;date_debut;date_fin;etape;dispositif;departement\n"


def test_ratings_and_follow_ups_land_typed_and_bad_lines_go_to_quarantine(spark, lake, tmp_path: Path):
    raw = tmp_path / "raw"
    write(
        raw / "2023-07-01" / "suivi_avis_202307.csv",
        (
            RATINGS
            + "12345678;2023-04;2023-06-12;utile;contact_pris;75;crp\n"
            + "123456782;2023-04;2023-06-14;INUTILE;deja_connue;75;urssaf\n"
            + "123456783;2023-05;2023-06-20;utile;;13;crp\n"
            + "123456784;2023-05;2023-06-21;inutile;;13;crp\n"  # inutile without a reason
            + "123456785;2023-05;2023-06-21;utile;situation_saine;13;crp\n"  # a reason of inutile
            + "123456786;2023-05;2023-04-30;utile;autre;13;crp\n"  # rated before its list
            + "123456787;2023-05;2023-07-02;utile;autre;13;crp\n"  # after the export
            + "123456788;2023-5;2023-06-21;peut-etre;autre;13;crp\n"
        ).encode(),
    )
    write(
        raw / "2023-07-01" / "suivi_accompagnement_202307.csv",
        (
            FOLLOWUPS
            + "123456782;2023-06-15;;diagnostic;ccsf, delai_urssaf;75\n"
            + "123456783;2022-01-10;2022-09-30;cloture;aucun;13\n"
            + "123456784;2023-03-01;2023-02-01;cloture;ccsf;13\n"  # ends before it starts
            + "123456785;2023-03-01;;accompagnement;ccsf,pret_bancaire;13\n"  # an unknown measure
        ).encode(),
    )
    summary = ingest_raw(lake, str(raw))
    assert SOURCES_BY_NAME["agents_feedback"].owner == "agents"
    good = [
        {k: r[k] for k in ("siren", "list_month", "rated_on", "rating", "reason", "profile")}
        for r in rows(lake, "bronze/agents_feedback")
    ]
    assert good == [
        {
            "siren": "012345678",
            "list_month": date(2023, 4, 1),
            "rated_on": date(2023, 6, 12),
            "rating": "utile",
            "reason": "contact_pris",
            "profile": "crp",
        },
        {
            "siren": "123456782",
            "list_month": date(2023, 4, 1),
            "rated_on": date(2023, 6, 14),
            "rating": "inutile",
            "reason": "deja_connue",
            "profile": "urssaf",
        },
        {
            "siren": "123456783",
            "list_month": date(2023, 5, 1),
            "rated_on": date(2023, 6, 20),
            "rating": "utile",
            "reason": None,
            "profile": "crp",
        },
    ]
    followups = [
        {k: r[k] for k in ("siren", "started_on", "ended_on", "stage", "measures")}
        for r in rows(lake, "bronze/agents_followup")
    ]
    assert followups == [
        {
            "siren": "123456782",
            "started_on": date(2023, 6, 15),
            "ended_on": None,
            "stage": "diagnostic",
            "measures": "ccsf,delai_urssaf",
        },
        {
            "siren": "123456783",
            "started_on": date(2022, 1, 10),
            "ended_on": date(2022, 9, 30),
            "stage": "cloture",
            "measures": "aucun",
        },
    ]
    reasons = {(r["source"], r["line"]): r["reason"] for r in rows(lake, "bronze/_quarantine")}
    assert reasons == {
        ("agents_feedback", 5): "motif: does not fit avis (required when inutile)",
        ("agents_feedback", 6): "motif: does not fit avis (required when inutile)",
        ("agents_feedback", 7): "date_avis: before the month of its list",
        ("agents_feedback", 8): "date_avis: '2023-07-02' is before 1900-01-01 or after the delivery",
        ("agents_feedback", 9): "liste: cannot read '2023-5' as month yyyy-MM; avis: cannot read 'peut-etre' as "
        "one of utile, inutile",
        ("agents_followup", 4): "date_fin: before date_debut",
        ("agents_followup", 5): "dispositif: cannot read 'ccsf,pret_bancaire' as codes among delai_urssaf, ccsf, "
        "activite_partielle, mediation_credit, conciliation, pret_etat, aucun",
    }
    assert summary["sources"]["agents_feedback"]["rows_accepted"] == 3
