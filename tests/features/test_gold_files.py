"""gold/features on disk: one file per month, rows in siren order, so the same panel gives the same files
(and a model fitted with row sampling the same model) whatever order a cluster's shuffle delivers rows in."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.slow


def test_gold_features_are_one_file_per_month_in_siren_order(world_features):
    from deltalake import DeltaTable

    files = DeltaTable(world_features.path("gold/features")).file_uris()
    months = world_features.read("gold/features").select("periode").distinct().count()
    assert len(files) == months
    for file in files:
        sirens = pq.read_table(file, columns=["siren"]).column("siren").to_pylist()
        assert sirens == sorted(sirens), f"{file} is not in siren order"


def test_the_feature_step_writes_every_silver_table_of_the_catalogue_and_the_firms_names(world_features):
    from sf_spark.lake import tables

    assert [n for n in tables.SILVER if not world_features.exists(tables.silver(n))] == []
    names = world_features.read(tables.FIRMS)
    assert names.columns == ["siren", "name"]
    assert names.count() == world_features.read(tables.silver("firms")).count()
    assert names.where("name IS NOT NULL").count() > 0
