"""Agents' lists: profiles receive only the columns and explanations their administrations allow."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from sf_spark.scoring.exports import (
    PUBLIC,
    explanation_text,
    export_columns,
    factors_text,
    profile_frame,
    visible,
    write_lists,
)
from sf_spark.scoring.settings import DEFAULT_PROFILES

SOURCES = {
    "departement": ("insee",),
    "region": ("insee",),
    "naf_section": ("insee",),
    "headcount": ("urssaf",),
    "arrears_total_eur": ("urssaf",),
    "arrears_to_contribution_12m": ("urssaf",),
    "payment_plan_active": ("urssaf",),
    "ap_hours_consumed_12m": ("dgefp",),
    "ebitda_to_turnover": ("dgfip",),
    "bdf_margin_rate": ("bdf",),
}
TOPICS = {
    "departement": "identity",
    "region": "identity",
    "naf_section": "sector",
    "headcount": "employment",
    "arrears_total_eur": "social_debt",
    "arrears_to_contribution_12m": "social_debt",
    "payment_plan_active": "payment_plans",
    "ap_hours_consumed_12m": "partial_activity",
    "ebitda_to_turnover": "financial_health",
    "bdf_margin_rate": "financial_health",
}
COLUMNS = export_columns(SOURCES, [12, 18, 24])


def alerts() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "siren": "000000001",
                "name": "ATELIERS DU NORD",
                "departement": "59",
                "region": "32",
                "naf_section": "C",
                "alert_level": "red",
                "probability_12": 0.1,
                "probability_18": 0.2,
                "probability_24": 0.3,
                "first_alert": True,
                "news_reason": "first_alert",
                "level_change": "up",
                "months_alerted": 1,
                "followed_since": dt.date(2024, 1, 15),
                "followup_stage": "diagnostic",
                "followup_measures": "ccsf,delai_urssaf",
                "last_rating": "inutile",
                "last_rating_reason": "deja_connue",
                "last_rating_list": dt.date(2023, 12, 1),
                "topic_contributions": {
                    "social_debt": 1.2,
                    "financial_health": 0.6,
                    "partial_activity": -0.3,
                    "identity": 0.01,
                },
                "top_features": [
                    {"feature": "arrears_total_eur", "value": "52000.0", "contribution": 0.9},
                    {"feature": "ebitda_to_turnover", "value": "-0.2", "contribution": 0.6},
                    {"feature": "naf_section", "value": "C", "contribution": 0.2},
                ],
                "headcount": 12,
                "arrears_total_eur": 52000.0,
                "arrears_to_contribution_12m": 1.3,
                "payment_plan_active": 0,
                "ap_hours_consumed_12m": 0.0,
                "ebitda_to_turnover": -0.2,
                "bdf_margin_rate": None,
            }
        ]
    )


@pytest.mark.parametrize("profile", sorted(DEFAULT_PROFILES))
def test_a_profile_never_receives_a_column_of_an_administration_it_may_not_see(profile):
    allowed = PUBLIC | set(DEFAULT_PROFILES[profile])
    frame = profile_frame(alerts(), DEFAULT_PROFILES[profile], COLUMNS, SOURCES, TOPICS)
    labels = {c.label: c for c in COLUMNS}
    for label in frame.columns:
        assert labels[label].sources <= allowed, f"{profile} received {label}"


def test_score_only_sees_scores_and_identity_and_no_financial_or_urssaf_word():
    frame = profile_frame(alerts(), [], COLUMNS, SOURCES, TOPICS)
    assert "Dette sociale (EUR)" not in frame.columns and "Taux d'EBE (liasse fiscale)" not in frame.columns
    assert "Probabilité de défaillance à 18 mois" in frame.columns and "Raison sociale" in frame.columns
    text = frame.iloc[0]["Explication"] + frame.iloc[0]["Principaux facteurs"]
    for word in ("dette", "financière", "arrears", "ebitda", "activité partielle"):
        assert word not in text
    assert frame.iloc[0]["Niveau d'alerte"] == "rouge" and frame.iloc[0]["Première alerte"] == "oui"


def test_urssaf_profile_sees_social_debt_but_not_accounts():
    frame = profile_frame(alerts(), ["urssaf"], COLUMNS, SOURCES, TOPICS)
    row = frame.iloc[0]
    assert row["Dette sociale (EUR)"] == 52000.0 and "Taux d'EBE (liasse fiscale)" not in frame.columns
    assert row["Explication"] == "risque accru par dette sociale (+1.20)"
    assert row["Principaux facteurs"] == "arrears_total_eur = 52000.0 (+0.90); naf_section = C (+0.20)"


def test_explanation_words_up_then_down_and_small_topics_silent():
    text = explanation_text(
        {"social_debt": 1.2, "financial_health": 0.6, "partial_activity": -0.3, "identity": 0.01},
        {"social_debt", "financial_health", "partial_activity", "identity"},
    )
    assert text == (
        "risque accru par dette sociale (+1.20), santé financière (+0.60); atténué par activité partielle (-0.30)"
    )
    assert factors_text(None, set()) == "" and explanation_text(None, set()) == ""


def test_visible_keeps_public_columns_for_everyone():
    names = {c.name for c in visible(COLUMNS, [])}
    assert {"siren", "name", "region", "probability_18", "explanation"} <= names
    assert not names & {"headcount", "arrears_total_eur", "ap_hours_consumed_12m", "bdf_margin_rate"}


def test_lists_open_with_pandas_and_openpyxl(tmp_path):
    frame = profile_frame(alerts(), ["urssaf", "dgefp", "bdf", "dgfip"], COLUMNS, SOURCES, TOPICS)
    written = write_lists(frame, tmp_path)
    assert sorted(p.name for p in written) == [
        "departement_59.csv",
        "departement_59.xlsx",
        "region_32.csv",
        "region_32.xlsx",
    ]
    back = pd.read_csv(tmp_path / "region_32.csv", sep=";", encoding="utf-8-sig", dtype={"SIREN": str})
    assert back.loc[0, "SIREN"] == "000000001" and list(back.columns) == list(frame.columns)
    book = pd.read_excel(tmp_path / "region_32.xlsx", sheet_name=None, engine="openpyxl")
    assert set(book) == {"Région", "Dép. 59"}


HOSTILE = ['=HYPERLINK("http://x","clic")', "+33 1 23", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "SAFE & SOUND"]


def test_hostile_names_never_become_formulas_in_csv_or_xlsx(tmp_path):
    import csv

    import openpyxl

    frame = pd.concat([alerts()] * len(HOSTILE), ignore_index=True)
    frame["name"] = HOSTILE
    frame["siren"] = [f"{i:09d}" for i in range(len(HOSTILE))]
    frame["arrears_total_eur"] = -52000.0  # a plain negative number stays a number
    lists = profile_frame(frame, ["urssaf", "dgefp", "bdf", "dgfip"], COLUMNS, SOURCES, TOPICS)
    written = write_lists(lists, tmp_path)
    for path in (p for p in written if p.suffix == ".xlsx"):
        for sheet in openpyxl.load_workbook(path).worksheets:
            cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
            assert not [c.coordinate for c in cells if c.data_type == "f"], path.name
            values = {c.value for c in cells}
            assert values >= {"'" + h for h in HOSTILE[:5]} | {"SAFE & SOUND"}
            assert next(v for v in values if isinstance(v, str) and v.endswith("CR")).startswith("'")
    for path in (p for p in written if p.suffix == ".csv"):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            fields = [f for row in csv.reader(handle, delimiter=";") for f in row]
        risky = [f for f in fields if f[:1] in ("=", "+", "-", "@", "\t", "\r")]
        assert risky and all(f.replace(".", "", 1).lstrip("-").isdigit() for f in risky), risky


def test_lists_are_private_to_owner_and_group(tmp_path):
    frame = profile_frame(alerts(), [], COLUMNS, SOURCES, TOPICS)
    written = write_lists(frame, tmp_path / "lists", file_mode=0o640, folder_mode=0o750)
    assert {p.stat().st_mode & 0o777 for p in written} == {0o640}
    assert (tmp_path / "lists").stat().st_mode & 0o777 == 0o750


def test_publishing_swaps_the_month_whole_and_the_manifest_checks_every_file(tmp_path):
    import hashlib
    import json

    from sf_spark.scoring.exports import publish, staging_folder, write_manifest

    month = tmp_path / "exports" / "2024-01"
    (month / "full").mkdir(parents=True)
    (month / "full" / "region_84.csv").write_text("old list of a région without alerts now")
    staged = staging_folder(month)
    written = write_lists(profile_frame(alerts(), [], COLUMNS, SOURCES, TOPICS), staged / "score_only")
    write_manifest(staged, {"periode": "2024-01"})
    publish(staged, month)
    files = sorted(p.relative_to(month).as_posix() for p in month.rglob("*") if p.is_file())
    assert files == sorted(["manifest.json", *[f"score_only/{p.name}" for p in written]])
    manifest = json.loads((month / "manifest.json").read_text())
    assert manifest["periode"] == "2024-01"
    assert {f["file"]: f["sha256"] for f in manifest["files"]} == {
        f: hashlib.sha256((month / f).read_bytes()).hexdigest() for f in files if f != "manifest.json"
    }
    assert [p.name for p in month.parent.iterdir()] == ["2024-01"]  # no staging or retired folder left
