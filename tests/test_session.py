"""The Spark session factory."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sf_spark.config import SparkSettings
from sf_spark.session import REQUIRED_PROPERTIES, local_properties, submitted_fill_ins


def test_local_properties_hold_the_required_ones_and_the_extra():
    props = local_properties(SparkSettings(master="local[3]", extra={"spark.x": "1"}))
    assert props["spark.master"] == "local[3]"
    assert props["spark.x"] == "1"
    for key, value in REQUIRED_PROPERTIES.items():
        assert props[key] == value


def test_under_spark_submit_the_configuration_fills_in_everything_but_the_master_and_resources():
    settings = SparkSettings(
        master="local[3]",
        driver_memory="9g",
        shuffle_partitions=7,
        extra={
            "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
            "spark.executor.memory": "1g",
            "spark.default.parallelism": "7",
        },
    )
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
    assert props["spark.jars"].split(",") == [
        str(tmp_path / "delta-spark_4.2_2.13-4.4.0.jar"),
        str(tmp_path / "delta-storage-4.4.0.jar"),
    ]
    assert {k: props[k] for k in DELTA_PROPERTIES} == DELTA_PROPERTIES
    fill_ins = submitted_fill_ins(SparkSettings(delta_jars=str(tmp_path)))
    assert "spark.jars" not in fill_ins and not DELTA_PROPERTIES.keys() & fill_ins.keys()
    none = local_properties(SparkSettings(delta_jars="none"))
    assert "spark.jars" not in none and "spark.sql.extensions" not in none


def test_a_named_jar_folder_without_delta_spark_is_an_error(tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError, match="no delta-spark_"):
        local_properties(SparkSettings(delta_jars=str(tmp_path)))


def test_a_quiet_session_takes_the_projects_logging_and_keeps_the_submitters_java_options():
    from sf_spark.session import QUIET_LOGGING

    props = local_properties(SparkSettings(extra={"spark.driver.extraJavaOptions": "-Dx=1"}))
    assert props["spark.driver.extraJavaOptions"] == f"-Dx=1 -Dlog4j2.configurationFile={QUIET_LOGGING.as_uri()}"
    assert QUIET_LOGGING.is_file()
    verbose = local_properties(SparkSettings(quiet=False, extra={"spark.driver.extraJavaOptions": "-Dx=1"}))
    assert verbose["spark.driver.extraJavaOptions"] == "-Dx=1"
    assert verbose["spark.ui.showConsoleProgress"] == "false"


START_UP_NOTICES = (
    "NativeCodeLoader",
    "resolves to a loopback address",
    "Setting default log level",
    "Using incubator modules",
)


@pytest.mark.slow
@pytest.mark.parametrize("quiet", [True, False])
def test_a_quiet_session_starts_without_sparks_start_up_notices(quiet):
    """A session of its own process (the test session's JVM is already started): quiet, none of Spark's
    start-up notices on stderr; verbose, Spark's own logging says at least that it set the log level."""
    probe = (
        "from sf_spark.config import SparkSettings\n"
        "from sf_spark.session import get_spark\n"
        f"spark = get_spark(SparkSettings(master='local[1]', ui_enabled=False, quiet={quiet}))\n"
        "assert spark.range(5).count() == 5\n"
        "spark.stop()\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    shown = [notice for notice in START_UP_NOTICES if notice in result.stderr]
    if quiet:
        assert shown == [], result.stderr
    else:
        assert "Setting default log level" in shown, result.stderr


def test_the_jvm_notice_filter_drops_whole_notice_lines_and_passes_the_rest_as_it_comes():
    import os
    import threading

    from sf_spark.session import JVM_NOTICES, _forward

    read_end, write_end = os.pipe()
    out_read, out_write = os.pipe()
    forwarding = threading.Thread(target=_forward, args=(read_end, out_write, JVM_NOTICES))
    forwarding.start()
    for chunk in (
        b"WARNING: Using incu",
        b"bator modules: jdk.incubator.vector\n",
        b"[Stage 1:>   (0 + 2) / 4]\r",
        b"[16:11:31] Task 1 got rank 1\n",
        b"2026-12-03 16:11:49,617 INFO XGBoost-PySpark: Running xgboost-3.2.0 on 2 workers with\n",
        b"\tbooster params: {'objective': 'binary:logistic'}\n\tdmatrix_kwargs: {'nthread': 1}\n",
        b"12:00:01 ERROR Executor: failed\n\tat org.apache.spark.Thing(Thing.java:1)\n",
        b"2026-12-03 16:11:50,000 WARNING XGBoost-PySpark: a real warning\n",
    ):
        os.write(write_end, chunk)
    os.close(write_end)
    forwarding.join(timeout=10)
    with os.fdopen(out_read, "rb") as shown:
        assert shown.read() == (
            b"[Stage 1:>   (0 + 2) / 4]\r"
            b"12:00:01 ERROR Executor: failed\n\tat org.apache.spark.Thing(Thing.java:1)\n"
            b"2026-12-03 16:11:50,000 WARNING XGBoost-PySpark: a real warning\n"
        )
