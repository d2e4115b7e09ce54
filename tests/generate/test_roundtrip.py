"""Parse what was written with independent parsers and get the generator's world back."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .contract_parsers import (
    comma_number,
    day_month_year,
    effectif_month,
    headcount_value,
    read_delivery,
    urssaf_date,
    urssaf_period,
)


def test_headcount_latest_delivery_wins_gives_the_panel_back(world):
    cells = []
    for order, path in enumerate(world.files("Sigfaible_effectif_siren")):
        frame = read_delivery(path, world.bad_lines(path))
        wide = frame.drop(columns="rais_soc").set_index("siren")
        long = wide.stack().rename("value").reset_index()
        long.columns = ["siren", "column", "value"]
        long["order"] = order
        cells.append(long)
    cells = pd.concat(cells)
    cells["siren"] = cells["siren"].str.zfill(9)
    cells["periode"] = cells["column"].map(effectif_month)
    cells["headcount"] = cells["value"].map(headcount_value)
    latest = cells.sort_values("order").groupby(["siren", "periode"]).last().reset_index()
    panel = pd.read_parquet(world.truth / "panel")
    panel["periode"] = pd.to_datetime(panel["periode"]).dt.date
    merged = latest.merge(panel, on=["siren", "periode"], how="outer", indicator=True)
    final_month = merged["periode"].max()
    settled = merged[merged["periode"] < final_month]
    assert (settled["_merge"] == "both").all()
    assert (settled["headcount_x"] == settled["headcount_y"]).all()


def test_contributions_and_first_debt_states_agree_in_cents(world):
    cotisations = pd.concat(read_delivery(p, world.bad_lines(p)) for p in world.files("Sigfaible_cotisdues"))
    cotisations["Siret"] = cotisations["Siret"].str.zfill(14)
    cotisations["unpaid"] = np.rint(
        (cotisations["cotis_due"].map(comma_number) - cotisations["enc_direct"].map(comma_number)) * 100
    ).astype(int)
    cotisations["period"] = cotisations["periode"].map(lambda v: urssaf_period(v)[0])
    debts = pd.concat(read_delivery(p, world.bad_lines(p)) for p in world.files("Sigfaible_debits"))
    first = debts[debts["Num_Hist_Ecn"] == "1"].copy()
    first["amount"] = first["Mt_PO"].astype(int) + first["Mt_PP"].astype(int)
    first["period"] = first["Periode"].map(lambda v: urssaf_period(v)[0])
    merged = first.merge(cotisations, on=["Siret", "period"], how="left")
    assert merged["unpaid"].notna().mean() > 0.95
    matched = merged.dropna(subset=["unpaid"])
    assert (matched["amount"] == matched["unpaid"]).all()
    spans = {urssaf_period(v)[1] for v in cotisations["periode"]}
    assert spans == {1, 3}


def test_judgments_give_the_failure_dates_back(world):
    judgments = pd.concat(read_delivery(p, world.bad_lines(p)) for p in world.files("jugements"))
    openings = judgments[judgments["najug"].isin(["1", "2", "3", "4", "8"])].copy()
    openings["date"] = openings["djug"].map(lambda v: dt.datetime.strptime(v, "%Y%m%d").date())
    first = openings.groupby("siren")["date"].min()
    truth = world.failures.set_index("siren")["failure_date"].map(pd.Timestamp).dt.date
    assert set(first.index) <= set(truth.index)
    assert (first == truth[first.index]).all()
    assert len(first) > 0.8 * len(truth)


def test_urssaf_proceedings_dates_are_close_to_the_judgments(world):
    procol = pd.concat(read_delivery(p, world.bad_lines(p)) for p in world.files("Sigfaible_pcoll"))
    opening = procol[procol["Lib_actx_stdx"].str.lower().str.startswith("ouverture_")].copy()
    opening["Siren"] = opening["Siren"].str.zfill(9)
    opening["date"] = opening["Dt_effet"].map(day_month_year)
    first = opening.groupby("Siren")["date"].min()
    truth = world.failures.set_index("siren")["failure_date"].map(pd.Timestamp).dt.date
    gap = np.array([(first[s] - truth[s]).days for s in first.index])
    assert (np.abs(gap) <= 7).all() and (gap != 0).any() and (gap == 0).mean() > 0.5


def test_last_sirene_snapshot_gives_creation_and_closing_back(world):
    path = world.files("StockUniteLegale")[-1]
    units = read_delivery(path).set_index("siren")
    firms = world.firms.set_index("siren")
    firms = firms[pd.to_datetime(firms["creation_date"]).dt.date <= dt.date.fromisoformat(path.parent.name)]
    assert set(units.index) == set(firms.index)
    assert (
        units["dateCreationUniteLegale"]
        == pd.to_datetime(firms["creation_date"]).dt.strftime("%Y-%m-%d").reindex(units.index)
    ).all()
    closed = units[units["etatAdministratifUniteLegale"] == "C"]
    closing = pd.to_datetime(firms.loc[closed.index, "closing_date"]).dt.strftime("%Y-%m-%d")
    assert len(closed) > 0 and (closed["dateDebut"] == closing).all()


def test_bdf_closing_dates_parse_in_english_and_french(world):
    frames = [read_delivery(p, world.bad_lines(p)) for p in world.files("bdf")]
    bdf = pd.concat(frames)
    dates = bdf["ARRETE_BILAN"].map(day_month_year)
    assert bdf["ARRETE_BILAN"].str.contains("[a-zéû]", regex=True).any()
    assert bdf["ARRETE_BILAN"].str.contains("[A-Z]{3}", regex=True).any()
    assert all((d + dt.timedelta(days=1)).day == 1 for d in dates)
    siren = bdf["D1"].str.replace(" ", "")
    closing_month = world.firms.set_index("siren")["accounts_closing_month"]
    assert (dates.map(lambda d: d.month).to_numpy() == closing_month[siren].to_numpy()).all()
    assert bdf["D1"].str.contains(" ").any()


def test_urssaf_sees_proceedings_only_after_the_judgment(world):
    debts = pd.concat(read_delivery(p, world.bad_lines(p)) for p in world.files("Sigfaible_debits"))
    flagged = debts[debts["Cd_pro_col"] != "0"]
    recorded = flagged["Dt_trt_ecn"].map(urssaf_date)
    failure_dates = world.failures.set_index("siren")["failure_date"].map(pd.Timestamp).dt.date
    failure = flagged["Siren"].map(failure_dates)
    assert len(flagged) > 0 and failure.notna().all() and (recorded >= failure).all()
