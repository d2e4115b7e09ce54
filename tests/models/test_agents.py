"""Alerts as the agents judged them next to the failures, and training that accounts for their help."""

from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import functions as F

from sf_spark.features import feature_catalogue
from sf_spark.models.agents import agents_judgement, agents_metrics
from sf_spark.models.engine import model_inputs
from sf_spark.models.rows import HELP_WEIGHT, accounting_for_help, with_weights
from sf_spark.models.settings import FollowupSettings, ModelSettings

D = dt.date
ROWS = "siren string, periode date, region string, naf_section string, label double, alert_level string"
RATINGS = "siren string, list_month date, profile string, rated_on date, rating string, reason string"


def test_precision_as_the_agents_judged_it_next_to_the_failures(spark):
    rows = spark.createDataFrame(
        [
            ("a", D(2021, 1, 1), "IDF", "C", 1.0, "red"),
            ("b", D(2021, 1, 1), "IDF", "C", 0.0, "red"),
            ("c", D(2021, 1, 1), "BRE", "F", 0.0, "red"),
            ("d", D(2021, 2, 1), "BRE", "F", 0.0, "orange"),
            ("e", D(2021, 2, 1), "BRE", "F", 1.0, "green"),  # not alerted: not counted
        ],
        ROWS,
    )
    ratings = spark.createDataFrame(
        [
            ("a", D(2021, 1, 1), "crp", D(2021, 3, 2), "utile", "contact_pris"),
            ("b", D(2021, 1, 1), "crp", D(2021, 3, 2), "utile", None),
            ("b", D(2021, 1, 1), "urssaf", D(2021, 4, 9), "inutile", "situation_saine"),  # later: it wins
            ("d", D(2021, 2, 1), "crp", D(2021, 4, 1), "inutile", "deja_connue"),
            ("c", D(2020, 12, 1), "crp", D(2021, 2, 1), "utile", None),  # another list than the row's
            ("e", D(2021, 2, 1), "crp", D(2021, 4, 1), "utile", None),
        ],
        RATINGS,
    )
    table, reasons = agents_judgement(rows, ratings)
    overall = table[table["dimension"] == "all"].set_index("alert_level")
    assert overall.loc["red", ["alerts", "failures", "rated", "useful"]].tolist() == [3, 1.0, 2, 1]
    assert overall.loc["red", "failure_precision"] == pytest.approx(1 / 3)
    assert overall.loc["red", "agents_precision"] == pytest.approx(1 / 2)
    assert overall.loc["orange", ["alerts", "rated", "useful", "agents_precision"]].tolist() == [1, 1, 0, 0.0]
    by_region = table[(table["dimension"] == "region") & (table["alert_level"] == "red")].set_index("group")
    assert by_region["rated"].to_dict() == {"BRE": 0, "IDF": 2}
    assert by_region.loc["BRE", "agents_precision"] != by_region.loc["BRE", "agents_precision"]  # NaN: none rated
    assert sorted(table.loc[table["dimension"] == "month", "group"].unique()) == ["2021-01", "2021-02"]
    assert reasons.to_dict("records") == [
        {"alert_level": "orange", "reason": "deja_connue", "ratings": 1, "share": 1.0},
        {"alert_level": "red", "reason": "situation_saine", "ratings": 1, "share": 1.0},
    ]
    assert agents_metrics(table) == {
        "agents_rated_orange": 1.0,
        "agents_precision_orange": 0.0,
        "agents_rated_red": 2.0,
        "agents_precision_red": 0.5,
    }


HELP = "siren string, periode date, label double, failure_12 int, followup_from date, help_censored_12 boolean"


@pytest.fixture
def helped_rows(spark):
    return spark.createDataFrame(
        [
            ("plain", D(2020, 1, 1), 0.0, 0, None, False),
            ("censored", D(2020, 1, 1), 0.0, 0, D(2020, 6, 1), True),
            ("failed_first", D(2020, 1, 1), 1.0, 1, D(2020, 9, 1), False),  # failed before the help began
            ("help_later", D(2020, 1, 1), 0.0, 0, D(2021, 3, 1), False),  # help after the 12-month window
        ],
        HELP,
    )


@pytest.mark.parametrize(
    ("policy", "kept", "weights"),
    [
        ("naive", ["censored", "failed_first", "help_later", "plain"], None),
        ("censor", ["failed_first", "help_later", "plain"], None),
        ("exclude", ["help_later", "plain"], None),
        ("weight", ["censored", "failed_first", "help_later", "plain"], {"censored": 0.25}),
    ],
)
def test_each_policy_keeps_the_rows_it_says(helped_rows, policy, kept, weights):
    settings = ModelSettings(followup=FollowupSettings(policy=policy))
    out = accounting_for_help(helped_rows, 12, settings)
    assert sorted(r["siren"] for r in out.collect()) == kept
    if weights is not None:
        weighted, _ = with_weights(out, settings)
        got = {r["siren"]: r["_weight"] for r in weighted.select("siren", F.col("weight").alias("_weight")).collect()}
        assert got == {"censored": 0.25, "failed_first": 1.0, "help_later": 1.0, "plain": 1.0}
        assert HELP_WEIGHT in out.columns


def test_no_model_input_comes_from_the_agents():
    catalogue = feature_catalogue()
    assert [f.name for f in catalogue if "agents" in f.sources] == []
    columns = [f.name for f in catalogue] + ["followup_from", "help_censored_12", "help_censored_18"]
    inputs = model_inputs(columns, [f.name for f in catalogue], ModelSettings())
    assert not {"followup_from", "help_censored_12"} & set(inputs.columns)


@pytest.mark.parametrize("policy", ["naive", "censor", "exclude", "weight"])
def test_every_policy_fits_and_censoring_trains_on_fewer_rows(spark, panel, model_settings, policy):
    from sf_spark.models.fitting import fit_procedure
    from sf_spark.models.splits import fit_windows
    from tests.models.conftest import INPUTS

    followed = (F.substring("siren", 9, 1) == "0") & (F.col("periode") >= F.lit(D(2016, 6, 1)))
    helped = panel.withColumns(
        {
            "followup_from": F.when(F.substring("siren", 9, 1) == "0", F.lit(D(2017, 1, 10))),
            "help_censored_12": followed & (F.col("failure_12") == 0),
        }
    )
    settings = model_settings.model_copy(update={"followup": FollowupSettings(policy=policy)})
    windows = fit_windows([12], D(2015, 1, 1), D(2017, 12, 1), settings.splits)
    fitted, _ = fit_procedure(helped, INPUTS, windows, settings, seed=1)
    plain = model_settings.model_copy(update={"followup": FollowupSettings(policy="naive")})
    naive, _ = fit_procedure(helped, INPUTS, windows, plain, seed=1)
    rows, naive_rows = fitted[12].rows, naive[12].rows
    fewer = {"naive": False, "censor": True, "exclude": True, "weight": False}[policy]
    assert (rows["train_rows"] < naive_rows["train_rows"]) == fewer
    assert fitted[12].trees_kept >= 1 and fitted[12].thresholds
