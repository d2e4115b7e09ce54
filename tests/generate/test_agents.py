"""The synthetic agents: their tool's exports follow the contract, their ratings follow the firms' true
state, and their follow-ups lower the hazard exactly while they run."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from sf_spark.generate import GeneratorParams, generate_world
from tests.generate.conftest import SMALL_WORLD
from tests.generate.contract_parsers import read_delivery

REASONS_USELESS = {"deja_connue", "situation_saine", "hors_perimetre", "donnees_erronees", "autre"}
REASONS_USEFUL = {"contact_pris", "accompagnement", "autre"}
STAGES = {"contact", "diagnostic", "accompagnement", "cloture"}
MEASURES = {"delai_urssaf", "ccsf", "activite_partielle", "mediation_credit", "conciliation", "pret_etat", "aucun"}


def exports(world, prefix: str) -> pd.DataFrame:
    frames = []
    for path in world.files(prefix):
        frame = read_delivery(path, world.bad_lines(path))
        frame["delivered"] = path.parent.name
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def test_ratings_follow_the_contract(world):
    ratings = exports(world, "suivi_avis")
    assert len(ratings) > 500
    assert set(ratings["avis"]) == {"utile", "inutile"}
    useless = ratings[ratings["avis"] == "inutile"]
    assert useless["motif"].notna().all() and set(useless["motif"]) == REASONS_USELESS
    assert set(ratings.loc[ratings["avis"] == "utile", "motif"].dropna()) == REASONS_USEFUL
    rated = pd.to_datetime(ratings["date_avis"])
    listed = pd.to_datetime(ratings["liste"] + "-01")
    assert ratings["liste"].str.fullmatch(r"\d{4}-\d{2}").all()
    assert (rated >= listed + pd.DateOffset(months=2)).all()  # a list is rated once received
    assert (rated < pd.to_datetime(ratings["delivered"])).all()
    assert ratings["siren"].isin(world.firms["siren"]).all()
    first_list = pd.Timestamp(ratings["liste"].min() + "-01")
    start = pd.Timestamp(world.params.agents.start + "-01")
    assert start <= first_list < start + pd.DateOffset(months=3)


def test_a_later_export_repeats_earlier_lines_with_their_updates(world):
    ratings = exports(world, "suivi_avis")
    key = ["siren", "liste", "profil"]
    repeated = ratings.groupby(key)["delivered"].nunique()
    assert (repeated > 1).mean() > 0.9
    versions = ratings.drop_duplicates([*key, "date_avis", "avis", "motif"]).groupby(key).size()
    assert (versions > 1).sum() > 10  # revised ratings: a later export carries the new version
    followups = exports(world, "suivi_accompagnement")
    stages = followups.groupby(["siren", "date_debut"])["etape"].nunique()
    assert (stages > 1).mean() > 0.5  # stages move on from one export to the next
    assert set(followups["etape"]) == STAGES
    closed = followups["etape"] == "cloture"
    assert followups.loc[closed, "date_fin"].notna().all() and followups.loc[~closed, "date_fin"].isna().all()
    assert set(m for v in followups["dispositif"] for m in v.split(",")) == MEASURES
    assert (
        pd.to_datetime(followups.loc[closed, "date_fin"]) < pd.to_datetime(followups.loc[closed, "delivered"])
    ).all()


def test_useful_ratings_are_for_riskier_firms(world):
    """Firms rated useful were riskier, by their true probability at the list month, than those rated sound."""
    ratings = exports(world, "suivi_avis").drop_duplicates(["siren", "liste", "profil"], keep="last")
    truth = pd.read_parquet(world.truth / "probabilities", columns=["siren", "periode", "p_18"])
    truth["liste"] = pd.to_datetime(truth["periode"]).dt.strftime("%Y-%m")
    rated = ratings.merge(truth, on=["siren", "liste"])
    assert len(rated) > 0.95 * len(ratings)
    useful = rated.loc[rated["avis"] == "utile", "p_18"].median()
    sound = rated.loc[rated["motif"] == "situation_saine", "p_18"].median()
    assert useful > 2 * sound
    alerted_share = (rated["p_18"] > truth["p_18"].quantile(0.9)).mean()
    assert alerted_share > 0.8  # the lists the agents receive are the riskiest firms


def test_help_lowers_the_hazard_while_a_follow_up_runs(world):
    truth = pd.read_parquet(world.truth / "probabilities")
    factor = world.params.agents.help_hazard_factor
    helped = truth["helped"]
    assert 0.002 < helped.mean() < 0.05
    present = truth["hazard_without_help"].notna()
    expected = np.where(helped, factor, 1.0) * truth["hazard_without_help"]
    assert np.allclose(truth.loc[present, "hazard"], expected[present])
    followups = exports(world, "suivi_accompagnement").drop_duplicates(["siren", "date_debut"], keep="last")
    last_month = pd.Timestamp(f"{world.params.end}-01")
    spans = followups.assign(
        first=pd.to_datetime(followups["date_debut"]).dt.to_period("M").dt.to_timestamp() + pd.DateOffset(months=1),
        last=pd.to_datetime(followups["date_fin"]).dt.to_period("M").dt.to_timestamp().fillna(last_month),
    )
    months = truth.loc[helped, ["siren", "periode"]].merge(spans, on="siren")
    inside = (months["periode"] >= months["first"]) & (months["periode"] <= months["last"])
    covered = months[inside].drop_duplicates(["siren", "periode"])
    # every helped month lies inside a delivered follow-up (those still exported at the world's end)
    assert len(covered) >= 0.95 * helped.sum()


def test_without_agents_the_same_world_fails_at_least_as_often(tmp_path, world):
    params = GeneratorParams(**{**SMALL_WORLD.model_dump(), "agents": {"enabled": False}})
    summary = generate_world(tmp_path / "RAW", tmp_path / "TRUTH", params)
    assert not list((tmp_path / "RAW").rglob("suivi_*"))
    assert summary["failures"] >= world.summary["failures"]
    unhelped = pd.read_parquet(tmp_path / "TRUTH" / "failures.parquet")
    truth = pd.read_parquet(world.truth / "probabilities", columns=["siren", "helped"])
    never_helped = set(truth["siren"]) - set(truth.loc[truth["helped"], "siren"])
    ours = world.failures[world.failures["siren"].isin(never_helped)]
    theirs = unhelped[unhelped["siren"].isin(never_helped)]
    pd.testing.assert_frame_equal(ours.reset_index(drop=True), theirs.reset_index(drop=True))
    assert set(world.failures["siren"]) <= set(unhelped["siren"])
    assert dt.date.fromisoformat(f"{params.start}-01") < dt.date.fromisoformat(f"{params.agents.start}-01")
