"""The Spark session factory."""

from __future__ import annotations

from sf_spark.config import SparkSettings
from sf_spark.session import REQUIRED_PROPERTIES, local_properties, submitted_fill_ins


def test_local_properties_hold_the_required_ones_and_the_extra():
    props = local_properties(SparkSettings(master="local[3]", extra={"spark.x": "1"}))
    assert props["spark.master"] == "local[3]"
    assert props["spark.x"] == "1"
    for key, value in REQUIRED_PROPERTIES.items():
        assert props[key] == value


def test_under_spark_submit_the_configuration_fills_in_everything_but_the_master_and_resources():
    settings = SparkSettings(master="local[3]", driver_memory="9g", shuffle_partitions=7,
                             extra={"spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
                                    "spark.executor.memory": "1g", "spark.default.parallelism": "7"})  # fmt: skip
    fill_ins = submitted_fill_ins(settings)
    assert fill_ins["spark.sql.shuffle.partitions"] == "7"
    assert fill_ins["spark.default.parallelism"] == "7"
    assert fill_ins["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert not {"spark.master", "spark.driver.memory", "spark.executor.memory"} & fill_ins.keys()
    for key, value in REQUIRED_PROPERTIES.items():
        assert fill_ins[key] == value


def test_test_session_is_utc_with_microsecond_timestamps(spark):
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.conf.get("spark.sql.parquet.outputTimestampType") == "TIMESTAMP_MICROS"
    assert spark.sparkContext.master == "local[2]"


def test_the_projects_delta_jars_go_on_a_local_session_with_the_delta_extension(tmp_path):
    from sf_spark.session import DELTA_PROPERTIES

    (tmp_path / "delta-spark_4.2_2.13-4.4.0.jar").write_bytes(b"")
    (tmp_path / "delta-storage-4.4.0.jar").write_bytes(b"")
    props = local_properties(SparkSettings(delta_jars=str(tmp_path)))
    assert props["spark.jars"].split(",") == [str(tmp_path / "delta-spark_4.2_2.13-4.4.0.jar"),
                                              str(tmp_path / "delta-storage-4.4.0.jar")]  # fmt: skip
    assert {k: props[k] for k in DELTA_PROPERTIES} == DELTA_PROPERTIES
    fill_ins = submitted_fill_ins(SparkSettings(delta_jars=str(tmp_path)))
    assert "spark.jars" not in fill_ins and not DELTA_PROPERTIES.keys() & fill_ins.keys()
    none = local_properties(SparkSettings(delta_jars="none"))
    assert "spark.jars" not in none and "spark.sql.extensions" not in none


def test_a_named_jar_folder_without_delta_spark_is_an_error(tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError, match="no delta-spark_"):
        local_properties(SparkSettings(delta_jars=str(tmp_path)))
