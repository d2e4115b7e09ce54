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
