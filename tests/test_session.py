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
