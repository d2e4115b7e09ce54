"""The Spark session factory."""

from __future__ import annotations

from sf_spark.config import SparkSettings
from sf_spark.session import REQUIRED_PROPERTIES, local_properties


def test_local_properties_hold_the_required_ones_and_the_extra():
    props = local_properties(SparkSettings(master="local[3]", extra={"spark.x": "1"}))
    assert props["spark.master"] == "local[3]"
    assert props["spark.x"] == "1"
    for key, value in REQUIRED_PROPERTIES.items():
        assert props[key] == value


def test_test_session_is_utc_with_microsecond_timestamps(spark):
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.conf.get("spark.sql.parquet.outputTimestampType") == "TIMESTAMP_MICROS"
    assert spark.sparkContext.master == "local[2]"
