"""A generated world ingests with nothing quarantined but the generator's deliberate dirt."""

from __future__ import annotations

import json

import pytest

from sf_spark.ingest import SOURCES, ingest_raw
from sf_spark.lake import Lake

generate = pytest.importorskip("sf_spark.generate")


@pytest.mark.slow
def test_generated_world_quarantines_only_the_deliberate_dirt(spark, tmp_path):
    raw, truth = tmp_path / "raw", tmp_path / "truth"
    world = generate.generate_world(
        raw, truth, generate.GeneratorParams(firms=500, start="2019-01", end="2020-12", seed=7)
    )
    lake = Lake(spark, str(tmp_path / "lake"), "delta-rs")
    summary = ingest_raw(lake, str(raw))
    dirt = json.loads((truth / "dirt.json").read_text(encoding="utf-8"))

    assert summary["rejected"] == [] and summary["files_unclaimed"] == []
    duplicates = {f["file"] for f in summary["files"] if f["status"] == "duplicate"}
    # besides the deliberate copies, an agents' export identical to the previous one (nothing rated or
    # followed in between) is known content: logged as a duplicate, not read again
    repeated = duplicates - set(dirt["duplicated"])
    assert set(dirt["duplicated"]) <= duplicates and all(f.split("/")[-1].startswith("suivi_") for f in repeated)
    skipped_rows = {}
    for file in repeated:
        source = next(s.name for s in SOURCES if s.matches(file.split("/")[-1]))
        lines = (raw / file).read_text(encoding="utf-8").splitlines()
        skipped_rows[source] = skipped_rows.get(source, 0) + len(lines) - 1
    quarantined = {(r["file"], r["line"]) for r in lake.read("bronze/_quarantine").collect()}
    malformed = {(file, line) for file, lines in dirt["malformed_lines"].items() for line in lines}
    assert quarantined == {(file, line) for file, line in malformed if file not in duplicates}
    reasons = {r["reason"] for r in lake.read("bronze/_quarantine").collect()}
    assert all(reason.startswith("wrong number of fields") for reason in reasons)
    for source in SOURCES:
        if source.wide is None:
            expected = world["rows"][source.name] - skipped_rows.get(source.name, 0)
            assert summary["sources"][source.name]["rows_accepted"] == expected, source.name
    again = ingest_raw(lake, str(raw))
    assert again["sources"] == {}
    # the sources' freshness, saved for score, is the one this ingest computed from bronze
    from sf_spark.ingest.freshness import freshness, saved_freshness

    assert saved_freshness(lake) == again["freshness"] == freshness(lake)
    assert {r["source"] for r in again["freshness"] if r["rows"]} == {s.name for s in SOURCES}
