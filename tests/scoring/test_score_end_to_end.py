"""`score_period` on the generated world: idempotent month, explanations that add up, news, drift, lists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from sf_spark.explain import BIAS, CONTRIBUTIONS, LOG_ODDS
from sf_spark.lake import tables
from sf_spark.models import load_champions
from sf_spark.scoring import score_period
from sf_spark.scoring.explanations import explained

pytestmark = pytest.mark.slow
STABLE = [
    "siren",
    "periode",
    "horizon",
    "probability",
    "alert_level",
    "model_version",
    "log_odds",
    "level_change",
    "first_alert",
    "months_alerted",
]


def test_scoring_a_month_twice_leaves_the_same_rows_and_other_months_untouched(
    spark, world_champions, world_settings, monkeypatch
):
    lake = world_champions
    read, tables_read = lake.read, []
    monkeypatch.setattr(lake, "read", lambda table, *a, **k: tables_read.append(table) or read(table, *a, **k))
    first = score_period(lake, world_settings, "2021-05")
    monkeypatch.undo()
    # the layer rule: scoring reads gold, and the sources' freshness that ingest saved to refuse stale input
    assert {tables.layer(t) for t in tables_read if t != tables.FRESHNESS} == {"gold"}
    assert tables.FRESHNESS in tables_read
    assert tables.FIRMS in tables_read
    assert {tables.AGENTS_RATINGS, tables.AGENTS_FOLLOWUPS} <= set(tables_read)
    score_period(lake, world_settings, "2021-06")
    before = lake.read("gold/scores").where("periode = '2021-05-01'").select(STABLE)
    may = before.collect()
    again = score_period(lake, world_settings, "2021-06")
    assert again["firms"] == lake.read("gold/scores").where("periode = '2021-06-01' AND horizon = 12").count()
    assert_df_equality(
        lake.read("gold/scores").where("periode = '2021-05-01'").select(STABLE),
        spark.createDataFrame(may, before.schema),
        ignore_row_order=True,
    )
    scores = lake.read("gold/scores")
    assert scores.groupBy("siren", "periode", "horizon").count().where("count > 1").count() == 0
    assert first["unexplained_alerts"] == 0 and first["firms"] > 0
    # June's news is read from May: a firm alerted both months has a streak of at least 2
    june = scores.where("periode = '2021-06-01'")
    both = june.join(
        scores.where("periode = '2021-05-01' AND alert_level != 'green'").select("siren", "horizon"),
        ["siren", "horizon"],
    ).where("alert_level != 'green'")
    assert both.where("months_alerted < 2 OR first_alert").count() == 0
    # the agents of the generated world rated earlier lists: their word is in the month's rows
    assert again["agents"]["rated"] > 0 and 0 < again["agents"]["useful_share"] < 1
    assert june.where("last_rating IS NOT NULL").count() > 0
    assert june.where("first_alert AND last_rating IS NOT NULL").count() == 0
    quiet = "last_rating_reason IN ('deja_connue', 'situation_saine')"
    assert june.where(f"news AND {quiet} AND news_reason NOT LIKE 'rating_%'").count() == 0


def test_explanations_add_up_to_the_log_odds_before_calibration(spark, world_champions, world_settings):
    _, model = load_champions(world_settings.models, [12])[12]
    rows = world_champions.read("gold/features").where("periode = '2021-03-01' AND NOT in_proceedings").limit(300)
    out = explained(model, rows, _topics(), k=5).withColumn(
        "total", F.aggregate(CONTRIBUTIONS, F.lit(0.0), lambda a, b: a + b) + F.col(BIAS)
    )
    gaps = out.select(F.max(F.abs(F.col("total") - F.col(LOG_ODDS)))).first()[0]
    assert gaps < 1e-6
    topics = out.select(
        F.aggregate(F.map_values("topic_contributions"), F.lit(0.0), lambda a, b: a + b).alias("t"),
        F.aggregate(CONTRIBUTIONS, F.lit(0.0), lambda a, b: a + b).alias("c"),
    ).toPandas()
    assert (topics["t"] - topics["c"]).abs().max() < 1e-9
    # the classifier's log-odds is the model score before calibration
    score = model.transform(rows).select("siren", "model_score")
    joined = out.select("siren", LOG_ODDS).join(score, "siren").toPandas()
    expected = np.log(joined["model_score"] / (1 - joined["model_score"]))
    assert np.allclose(joined[LOG_ODDS], expected, atol=1e-6)


def test_lists_obey_profiles_and_the_drift_table_exists(spark, world_champions, world_settings):
    summary = score_period(world_champions, world_settings, "2020-04")
    assert summary["exports"]["firms"] > 0, "no firm alerted: the lists cannot be checked"
    folder = summary["exports"]["folder"]
    files = Path(folder)
    score_only = next((files / "score_only").glob("region_*.csv"))
    columns = pd.read_csv(score_only, sep=";", encoding="utf-8-sig", nrows=1).columns
    assert "Dette sociale (EUR)" not in columns and "Probabilité de défaillance à 12 mois" in columns
    full = pd.read_excel(next((files / "full").glob("region_*.xlsx")), engine="openpyxl")
    assert "Dette sociale (EUR)" in full.columns
    # the agents' own tool is seen by every profile that sees scores
    assert {"Nouveauté", "Dernier avis", "Motif du dernier avis", "Suivie depuis", "Dispositifs"} <= set(columns)
    drift = world_champions.read("gold/drift").where("periode = '2020-04-01'").toPandas()
    assert set(drift["status"]) <= {"stable", "moderate", "shift", "unknown"} and len(drift) > 50


def _topics():
    from sf_spark.features import feature_topics

    return feature_topics()


def test_a_failed_commit_leaves_the_months_previous_outputs_and_lists(
    spark, world_champions, world_settings, monkeypatch
):
    from sf_spark.lake import Lake

    lake = world_champions  # 2021-06 was scored by the first test of this module (else: nothing to keep)
    folder = Path(world_settings.paths.work_dir) / "exports" / "2021-06"
    listed = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    versions = {t: lake.version(t) for t in ("gold/scores", "gold/strong_signals", "gold/drift")}
    rows = lake.read("gold/scores").where("periode = '2021-06-01'").select(STABLE).collect()
    original = Lake.overwrite_partitions

    def fail_on_drift(self, df, table, *args, **kwargs):
        if table == "gold/drift":
            raise OSError("disk full while writing gold/drift")
        return original(self, df, table, *args, **kwargs)

    monkeypatch.setattr(Lake, "overwrite_partitions", fail_on_drift)
    with pytest.raises(OSError, match="disk full"):
        score_period(lake, world_settings, "2021-06")
    monkeypatch.undo()
    after = lake.read("gold/scores").where("periode = '2021-06-01'").select(STABLE)
    assert_df_equality(after, spark.createDataFrame(rows, after.schema), ignore_row_order=True)
    assert lake.version("gold/drift") == versions["gold/drift"]  # never committed
    assert {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()} == listed
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".")] == []
    assert lake.version("gold/strong_signals") == versions["gold/strong_signals"] + 2  # committed, then restored


def test_a_stale_source_stops_scoring_before_anything_is_written(spark, world_champions, world_settings):
    lake = world_champions
    versions = {t: lake.version(t) for t in ("gold/scores", "gold/strong_signals", "gold/drift")}
    exports = Path(world_settings.paths.work_dir) / "exports"
    listed = sorted(p.relative_to(exports) for p in exports.rglob("*")) if exports.exists() else []
    strict = world_settings.model_copy(deep=True)
    strict.scoring.freshness = {"urssaf_cotisation": 2, "dgfip_liasses": 0, "bdf_ratios": 0}
    summary = score_period(lake, strict, "2021-12")
    assert summary["stopped"].startswith("2 source(s) too stale to score 2021-12; nothing written")
    assert [p.split(":")[0] for p in summary["problems"]] == ["stale input", "stale input"]
    assert {t: lake.version(t) for t in versions} == versions
    assert (sorted(p.relative_to(exports) for p in exports.rglob("*")) if exports.exists() else []) == listed
