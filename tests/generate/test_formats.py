from __future__ import annotations

import datetime as dt
import fnmatch
import re

import pandas as pd

from .contract_parsers import (
    HEADERS,
    SIRENE_USED,
    day_month_year,
    effectif_month,
    prefix_of,
    read_delivery,
    read_text,
    urssaf_date,
)

PATTERNS = [
    "Sigfaible_cotisdues*.csv",
    "Sigfaible_debits*.csv",
    "Sigfaible_delais*.csv",
    "Sigfaible_ccsf*.csv",
    "Sigfaible_pcoll*.csv",
    "Sigfaible_effectif_siret*.csv",
    "Sigfaible_effectif_siren*.csv",
    "act_partielle_ddes*.csv",
    "act_partielle_conso*.csv",
    "StockUniteLegale*.csv",
    "StockEtablissement*.csv",
    "bdf*.csv",
    "liasses*.csv",
    "jugements*.csv",
    "suivi_avis*.csv",
    "suivi_accompagnement*.csv",
]

RECORD_DATES = {
    "Sigfaible_debits": {
        "Dt_trt_ecn": urssaf_date,
        "Dt_immat": lambda v: dt.datetime.strptime(v, "%Y%m%d").date(),
    },
    "Sigfaible_delais": {"Date_creation": lambda v: dt.datetime.strptime(v, "%d/%m/%Y").date()},
    "Sigfaible_ccsf": {"Date_de_traitement": urssaf_date},
    "Sigfaible_pcoll": {"Dt_effet": day_month_year},
    "act_partielle_ddes": {"DATE_STATUT": dt.date.fromisoformat},
    "act_partielle_conso": {"MOIS": dt.date.fromisoformat},
    "StockUniteLegale": {
        "dateCreationUniteLegale": dt.date.fromisoformat,
        "dateDebut": dt.date.fromisoformat,
    },
    "StockEtablissement": {
        "dateCreationEtablissement": dt.date.fromisoformat,
        "dateDebut": dt.date.fromisoformat,
    },
    "bdf": {"ARRETE_BILAN": day_month_year},
    "liasses": {"date_fin_exercice": dt.date.fromisoformat},
    "jugements": {"djug": lambda v: dt.datetime.strptime(v, "%Y%m%d").date()},
    "suivi_avis": {"date_avis": dt.date.fromisoformat},
    "suivi_accompagnement": {"date_debut": dt.date.fromisoformat, "date_fin": dt.date.fromisoformat},
}


def test_every_file_is_in_a_dated_folder_and_matches_one_pattern(world):
    files = [p for p in world.raw.rglob("*") if p.is_file()]
    assert len(files) > 500
    for path in files:
        dt.date.fromisoformat(path.parent.name)
        name = path.name.lower().removesuffix(".gz")
        assert sum(fnmatch.fnmatch(name, pattern.lower()) for pattern in PATTERNS) == 1, path
    assert {prefix_of(p) for p in files} == {p.split("*")[0] for p in PATTERNS}


def test_headers_follow_the_contract(world):
    for path in (p for p in world.raw.rglob("*") if p.is_file()):
        header = read_text(path).split("\n", 1)[0]
        prefix = prefix_of(path)
        if prefix in HEADERS:
            assert header == HEADERS[prefix], path
        elif prefix in SIRENE_USED:
            assert SIRENE_USED[prefix] <= set(header.split(",")), path
        elif prefix == "Sigfaible_effectif_siret":
            names = header.split(";")
            assert names[:5] == ["compte", "siret", "rais_soc", "ape_ins", "dep"] and names[-2:] == [
                "base",
                "UR_EMET",
            ]
            assert all(re.fullmatch(r"eff\d{4}[1-4][1-3]", n) for n in names[5:-2])
        else:
            names = header.split(";")
            assert names[0] == "siren" and names[-1] == "rais_soc"
            assert all(re.fullmatch(r"eff\d{4}[1-4][1-3]", n) for n in names[1:-1])


def test_nothing_in_a_delivery_is_dated_after_the_delivery(world):
    checked = 0
    for prefix, columns in RECORD_DATES.items():
        for path in world.files(prefix):
            delivered = dt.date.fromisoformat(path.parent.name)
            frame = read_delivery(path, world.bad_lines(path))
            for column, parse in columns.items():
                dates = frame[column].dropna().map(parse)
                assert (dates <= delivered).all(), (path, column)
                checked += len(dates)
    for prefix in ("Sigfaible_effectif_siret", "Sigfaible_effectif_siren"):
        for path in world.files(prefix):
            header = read_text(path).split("\n", 1)[0].split(";")
            months = [effectif_month(c) for c in header if c.startswith("eff")]
            last_day = pd.Timestamp(max(months)) + pd.offsets.MonthEnd(0)
            assert last_day.date() < dt.date.fromisoformat(path.parent.name)
    assert checked > 10_000


def test_debt_states_are_recorded_on_both_sides_of_the_20th(world):
    days = pd.concat(
        read_delivery(p, world.bad_lines(p))["Dt_trt_ecn"].map(urssaf_date) for p in world.files("Sigfaible_debits")
    ).map(lambda d: d.day)
    assert (days > 20).mean() > 0.1 and (days <= 20).mean() > 0.3


def test_every_delivery_month_has_its_monthly_files(world):
    for prefix in ("Sigfaible_debits", "Sigfaible_cotisdues", "jugements", "act_partielle_ddes"):
        months = {p.parent.name[:7] for p in world.files(prefix)}
        assert len(months) == 60 - 1 + world.params.delivery_tail_months, prefix
