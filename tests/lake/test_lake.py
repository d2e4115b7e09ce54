"""The lake layer: real Delta tables, atomic writes, partition overwrite, time travel."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from sf_spark.lake import Lake, TableNotFoundError

CONTRIBUTION = StructType(
    [StructField("feature", StringType()), StructField("value", DoubleType()), StructField("topic", StringType())]
)
ALL_TYPES = StructType(
    [
        StructField("siren", StringType()),
        StructField("periode", DateType()),
        StructField("headcount", IntegerType()),
        StructField("arrears_cents", LongType()),
        StructField("probability", DoubleType()),
        StructField("recorded_at", TimestampType()),
        StructField("first_alert", BooleanType()),
        StructField("top_features", ArrayType(StringType())),
        StructField("contributions", ArrayType(CONTRIBUTION)),
        StructField("topic_sums", StructType([StructField("social_debt", DoubleType())])),
    ]
)


def _rows(periode: dt.date, sirens: list[str], value: float = 0.5) -> list[tuple]:
    return [
        (
            siren,
            periode,
            12,
            123_456_789_012,
            value,
            dt.datetime(2020, 3, 18, 10, 30, 15, 123456),
            True,
            ["arrears_to_contribution_12m", "headcount_change_12m"],
            [("arrears_to_contribution_12m", 0.75, "social_debt"), ("headcount_change_12m", -0.1, "employment")],
            (0.65,),
        )
        for siren in sirens
    ]


@pytest.fixture(params=["delta-rs", "native"])
def lake(request, spark, tmp_path):
    """An empty lake under each writer; the native one needs the delta-spark JARs (`make jars`)."""
    from sf_spark.lake.core import delta_classes_on_classpath

    if request.param == "native" and not delta_classes_on_classpath(spark):
        pytest.skip("no delta-spark JARs on the session's classpath (make jars)")
    return Lake(spark, str(tmp_path / "lake"), request.param)


def delta_rs_only(lake):
    if lake.backend.name != "delta-rs":
        pytest.skip("the delta-rs commit path (staging, moved files) only")


@pytest.fixture
def frame(spark):
    def make(periode: dt.date, sirens: list[str], value: float = 0.5):
        return spark.createDataFrame(_rows(periode, sirens, value), ALL_TYPES)

    return make


JAN, FEB, MAR = dt.date(2020, 1, 1), dt.date(2020, 2, 1), dt.date(2020, 3, 1)


def test_round_trip_keeps_every_type(lake, frame):
    df = frame(JAN, ["000000001", "123456789"]).unionByName(frame(FEB, ["000000001"]))
    lake.append(df, "gold/scores", partition_by=["periode"])
    back = lake.read("gold/scores")
    assert back.schema == ALL_TYPES
    assert_df_equality(back, df, ignore_row_order=True)


def test_unpartitioned_round_trip(lake, frame):
    df = frame(JAN, ["000000001"])
    lake.overwrite(df, "silver/plain")
    assert_df_equality(lake.read("silver/plain"), df)


def test_append_adds_versions_and_time_travel_reads_the_past(lake, frame):
    assert lake.append(frame(JAN, ["000000001"]), "gold/scores", ["periode"]) == 0
    assert lake.append(frame(FEB, ["000000002"]), "gold/scores", ["periode"]) == 1
    assert lake.read("gold/scores").count() == 2
    assert [r.siren for r in lake.read("gold/scores", version=0).collect()] == ["000000001"]
    history = lake.history("gold/scores")
    assert [h["version"] for h in history] == [1, 0]


def test_partition_overwrite_leaves_other_partitions_untouched(lake, frame):
    lake.append(frame(JAN, ["000000001", "000000002"]).unionByName(frame(FEB, ["000000003"])), "t", ["periode"])
    lake.overwrite_partitions(frame(FEB, ["000000009"], value=0.9), "t", ["periode"])
    back = lake.read("t").select("siren", "periode", "probability").orderBy("siren")
    assert [tuple(r) for r in back.collect()] == [
        ("000000001", JAN, 0.5),
        ("000000002", JAN, 0.5),
        ("000000009", FEB, 0.9),
    ]


def test_partition_overwrite_twice_is_idempotent(lake, frame):
    lake.append(frame(JAN, ["000000001"]), "t", ["periode"])
    for _ in range(2):
        lake.overwrite_partitions(frame(MAR, ["000000005"]), "t", ["periode"])
    assert lake.read("t").count() == 2


def test_overwrite_replaces_the_whole_table(lake, frame):
    lake.append(frame(JAN, ["000000001"]).unionByName(frame(FEB, ["000000002"])), "t", ["periode"])
    lake.overwrite(frame(MAR, ["000000003"]), "t", ["periode"])
    assert [r.siren for r in lake.read("t").collect()] == ["000000003"]


def test_failed_write_leaves_previous_version_and_no_stray_files(lake, frame, spark):
    lake.append(frame(JAN, ["000000001"]), "t", ["periode"])
    before = sorted(p.name for p in Path(lake.path("t")).rglob("*.parquet"))

    @F.udf("double")
    def explode_on_second_firm(siren):
        if siren == "000000002":
            raise RuntimeError("simulated crash part-way through the write")
        return 1.0

    bad = frame(FEB, ["000000001", "000000002", "000000003"]).withColumn("probability", explode_on_second_firm("siren"))
    with pytest.raises(Exception, match="simulated crash"):
        lake.overwrite_partitions(bad, "t", ["periode"])
    assert lake.version("t") == 0
    assert [r.siren for r in lake.read("t").collect()] == ["000000001"]
    if lake.backend.name == "delta-rs":
        assert sorted(p.name for p in Path(lake.path("t")).rglob("*.parquet")) == before
    else:  # delta-spark's executors write in place: files of an aborted job are in no commit
        from deltalake import DeltaTable

        assert sorted(Path(f).name for f in DeltaTable(lake.path("t")).file_uris()) == before


def test_failed_commit_removes_moved_files(lake, frame, monkeypatch):
    delta_rs_only(lake)
    from sf_spark.lake import delta_rs

    lake.append(frame(JAN, ["000000001"]), "t", ["periode"])
    before = sorted(str(p) for p in Path(lake.path("t")).rglob("*.parquet"))

    def refuse(*args, **kwargs):
        raise OSError("simulated failure of the commit")

    monkeypatch.setattr(delta_rs.DeltaRsBackend, "_commit", refuse)
    with pytest.raises(OSError, match="simulated failure"):
        lake.append(frame(FEB, ["000000002"]), "t", ["periode"])
    assert sorted(str(p) for p in Path(lake.path("t")).rglob("*.parquet")) == before
    assert lake.read("t").count() == 1


def test_a_failure_after_the_commit_landed_keeps_its_files_and_says_so(lake, frame, monkeypatch):
    delta_rs_only(lake)
    from sf_spark.lake import LakeError, delta_rs

    lake.append(frame(JAN, ["000000001"]), "t", ["periode"])
    landed = delta_rs.DeltaRsBackend._commit

    def land_then_fail(self, *args, **kwargs):
        landed(self, *args, **kwargs)
        raise KeyboardInterrupt  # e.g. the job killed right after its commit

    monkeypatch.setattr(delta_rs.DeltaRsBackend, "_commit", land_then_fail)
    with pytest.raises(LakeError, match=r"the commit landed as version 1, then failed with KeyboardInterrupt"):
        lake.append(frame(FEB, ["000000002"]), "t", ["periode"])
    monkeypatch.undo()
    assert lake.version("t") == 1
    assert sorted(r["siren"] for r in lake.read("t").collect()) == ["000000001", "000000002"]


def test_restore_brings_a_table_back_or_removes_one_it_created(lake, frame):
    lake.append(frame(JAN, ["000000001"]), "t", ["periode"])
    lake.overwrite_partitions(frame(JAN, ["000000009"]), "t", ["periode"])
    lake.restore("t", 0)
    assert [r["siren"] for r in lake.read("t").collect()] == ["000000001"]
    lake.append(frame(JAN, ["000000002"]), "new", ["periode"])
    lake.restore("new", None)
    assert not lake.exists("new")


def test_independent_reader_agrees(lake, frame):
    """DuckDB's own Delta reader (delta-kernel, not delta-rs) sees the same rows."""
    duckdb = pytest.importorskip("duckdb")
    extension = pytest.importorskip("duckdb_extension_delta")
    lake.append(frame(JAN, ["000000001", "000000002"]), "t", ["periode"])
    lake.overwrite_partitions(frame(JAN, ["000000003"], value=0.25), "t", ["periode"])
    lake.append(frame(FEB, ["000000004"]), "t", ["periode"])
    binary = Path(extension.__file__).parent / "extensions" / f"v{duckdb.__version__}" / "delta.duckdb_extension"
    con = duckdb.connect()
    con.execute(f"LOAD '{binary}'")
    rows = con.execute(
        f"SELECT siren, periode, probability FROM delta_scan('{lake.path('t')}') ORDER BY siren"
    ).fetchall()
    assert rows == [("000000003", JAN, 0.25), ("000000004", FEB, 0.5)]


def test_missing_table_is_a_clear_error(lake):
    with pytest.raises(TableNotFoundError, match="bronze/nothing"):
        lake.read("bronze/nothing")


def test_invalid_table_names_are_refused(lake):
    for name in ["", "/abs", "../escape"]:
        with pytest.raises(ValueError, match="invalid table name"):
            lake.path(name)


def test_auto_writer_is_native_exactly_when_the_delta_classes_load(spark, tmp_path):
    from sf_spark.lake.core import delta_classes_on_classpath

    expected = "native" if delta_classes_on_classpath(spark) else "delta-rs"
    assert Lake(spark, str(tmp_path)).backend.name == expected


@pytest.mark.parametrize(("first", "second"), [("delta-rs", "native"), ("native", "delta-rs")])
def test_a_table_written_by_one_writer_is_read_and_appended_by_the_other(spark, tmp_path, frame, first, second):
    from deltalake import DeltaTable

    from sf_spark.lake.core import delta_classes_on_classpath

    if not delta_classes_on_classpath(spark):
        pytest.skip("no delta-spark JARs on the session's classpath (make jars)")
    Lake(spark, str(tmp_path / "l"), first).append(frame(JAN, ["000000001"]), "t", ["periode"])
    other = Lake(spark, str(tmp_path / "l"), second)
    assert [r["siren"] for r in other.read("t").collect()] == ["000000001"]
    other.append(frame(FEB, ["000000002"]), "t", ["periode"])
    other.overwrite_partitions(frame(JAN, ["000000003"]), "t", ["periode"])
    again = Lake(spark, str(tmp_path / "l"), first)
    assert sorted(r["siren"] for r in again.read("t").collect()) == ["000000002", "000000003"]
    assert sorted(DeltaTable(str(tmp_path / "l" / "t")).to_pandas()["siren"]) == ["000000002", "000000003"]
    assert again.version("t") == other.version("t") == 2


def _maintenance(**changes):
    from sf_spark.config import Settings

    return Settings.model_validate({"lake": {"maintenance": changes}})


def test_tables_lists_every_delta_table_of_the_lake(lake, frame):
    for name in ["bronze/urssaf_debit", "bronze/_quarantine", "gold/scores"]:
        lake.append(frame(JAN, ["000000001"]), name)
    (Path(lake.root) / "gold" / "not_a_table").mkdir(parents=True)
    assert lake.tables() == ["bronze/_quarantine", "bronze/urssaf_debit", "gold/scores"]


def test_maintain_compacts_clusters_by_siren_and_changes_no_row_nor_the_past(lake, frame):
    import pyarrow as pa
    from deltalake import DeltaTable

    from sf_spark.lake.maintain import maintain_lake

    sirens = [f"{n:09d}" for n in range(12)]
    for chunk in (sirens[8:], sirens[:4], sirens[4:8]):  # three writes, unordered sirens
        lake.append(frame(JAN, chunk).unionByName(frame(FEB, chunk)), "gold/scores", ["periode"])
    lake.append(frame(JAN, ["999999999"]), "silver/plain")
    lake.append(frame(JAN, ["999999998"]), "silver/plain")
    before = lake.read("gold/scores")
    version = lake.version("gold/scores")
    assert lake.live_files("gold/scores")[0] >= 6

    summary = maintain_lake(lake, _maintenance())

    assert summary["writer"] == lake.backend.name and summary["retention_hours"] == 168
    scores = summary["tables"]["gold/scores"]
    assert scores["clustered_by"] == ["siren"] and scores["live_files"][1] == 2  # one file a month
    assert scores["files_rewritten"] == scores["live_files"][0]
    assert summary["tables"]["silver/plain"]["clustered_by"] == []
    assert summary["tables"]["silver/plain"]["live_files"][1] == 1 < summary["tables"]["silver/plain"]["live_files"][0]
    assert_df_equality(lake.read("gold/scores"), before, ignore_row_order=True)
    # the files replaced stay within the retention: the previous version still reads, whole
    assert scores["stored_files"][1] == scores["stored_files"][0] + 2
    assert_df_equality(lake.read("gold/scores", version=version), before, ignore_row_order=True)
    # every file carries siren bounds: a reader skips files by siren
    files = pa.table(DeltaTable(lake.path("gold/scores")).get_add_actions(flatten=True)).to_pylist()
    assert all(f["min.siren"] == "000000000" and f["max.siren"] == "000000011" for f in files)
    if lake.backend.name == "native":
        return  # delta-spark's Z-order ranges rows across files, not within one
    for file in files:  # delta-rs sorts within a file too: a reader skips row groups
        rows = lake.spark.read.parquet(f"{lake.path('gold/scores')}/{file['path']}").collect()
        assert [r["siren"] for r in rows] == sirens


def test_vacuum_deletes_only_unneeded_files_older_than_the_retention(lake, frame):
    import os
    import shutil
    import time

    from sf_spark.lake.maintain import maintain_lake

    lake.append(frame(JAN, ["000000001"]), "gold/scores", ["periode"])
    lake.overwrite(frame(JAN, ["000000002"]), "gold/scores", ["periode"])  # the first file is still needed
    partition = next(p for p in Path(lake.path("gold/scores")).iterdir() if p.name.startswith("periode="))
    live = next(partition.glob("*.parquet"))
    old, recent = partition / "left-by-a-crash-old.parquet", partition / "left-by-a-crash-recent.parquet"
    for orphan in (old, recent):
        shutil.copy(live, orphan)
    ten_days_ago = time.time() - 10 * 24 * 3600
    os.utime(old, (ten_days_ago, ten_days_ago))

    maintain_lake(lake, _maintenance(), ["gold/scores"])

    assert not old.exists() and recent.exists()
    assert [r["siren"] for r in lake.read("gold/scores", version=0).collect()] == ["000000001"]
    assert [r["siren"] for r in lake.read("gold/scores").collect()] == ["000000002"]


def test_maintenance_refuses_a_retention_under_seven_days_and_unknown_tables(lake, frame):
    from pydantic import ValidationError

    from sf_spark.lake import LakeError
    from sf_spark.lake.maintain import maintain_lake

    lake.append(frame(JAN, ["000000001"]), "gold/scores", ["periode"])
    with pytest.raises(ValidationError, match="168"):
        _maintenance(retention_hours=24)
    with pytest.raises(ValueError, match="168 hours"):
        lake.vacuum("gold/scores", 24)
    with pytest.raises(LakeError, match="gold/featurez"):
        maintain_lake(lake, _maintenance(), ["gold/featurez"])
    with pytest.raises(LakeError, match="no column periodo"):
        maintain_lake(lake, _maintenance(zorder={"gold/scores": ["periodo"]}))
    assert lake.version("gold/scores") == 0
