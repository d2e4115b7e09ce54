"""One factory for the Spark session, local or under spark-submit.

Locally it builds the session from the configuration. Under `spark-submit` (the process was
started by Spark, which passes it a gateway port) the submitter's master and resources win:
the configured properties the submitter did not set are added when the session starts, so
static ones (e.g. the Delta SQL extensions of `spark.extra`) take effect too.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from pyspark import SparkConf, SparkContext
from pyspark.sql import SparkSession

from sf_spark.config import SparkSettings

# Properties every run needs, whatever the platform: dates and timestamps in UTC,
# parquet timestamps in microseconds (what Delta readers expect), adaptive execution.
REQUIRED_PROPERTIES = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
}


PROJECT_JARS = Path(__file__).resolve().parents[1] / ".cache" / "jars"
QUIET_LOGGING = Path(__file__).resolve().parent / "log4j2-quiet.properties"
DELTA_PROPERTIES = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}


def delta_jars(setting: str) -> list[Path]:
    """The delta-spark JARs `spark.delta_jars` names (none for 'none' or when 'auto' finds none)."""
    if setting == "none":
        return []
    folder = PROJECT_JARS if setting == "auto" else Path(setting)
    jars = sorted(folder.glob("*.jar")) if folder.is_dir() else []
    if setting != "auto" and not any(j.name.startswith("delta-spark_") for j in jars):
        raise FileNotFoundError(f"spark.delta_jars={setting}: no delta-spark_*.jar in that folder")
    return jars if any(j.name.startswith("delta-spark_") for j in jars) else []


def delta_properties(settings: SparkSettings) -> dict[str, str]:
    """`spark.jars` and the Delta SQL extension and catalog, when the JARs are there."""
    jars = delta_jars(settings.delta_jars)
    if not jars:
        return {}
    return {"spark.jars": ",".join(str(j) for j in jars), **DELTA_PROPERTIES}


def under_spark_submit() -> bool:
    """True when this Python process was launched by spark-submit (or a notebook's running JVM)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def logging_properties(settings: SparkSettings) -> dict[str, str]:
    """The driver's logging configuration and console progress bar (only when `quiet`): Spark's
    start-up notices silenced, the progress bar where a person watches (stderr is a terminal)."""
    if not settings.quiet:
        return {"spark.ui.showConsoleProgress": "false"}
    options = " ".join(
        filter(
            None,
            [
                settings.extra.get("spark.driver.extraJavaOptions"),
                f"-Dlog4j2.configurationFile={QUIET_LOGGING.as_uri()}",
            ],
        )
    )
    return {"spark.driver.extraJavaOptions": options, "spark.ui.showConsoleProgress": str(sys.stderr.isatty()).lower()}


def local_properties(settings: SparkSettings) -> dict[str, str]:
    """Properties of a session this process starts itself."""
    return {
        "spark.master": settings.master,
        "spark.app.name": settings.app_name,
        "spark.driver.memory": settings.driver_memory,
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
        # delta-spark rebuilds a table's state in 50 partitions by default: our logs are small, and 50
        # tasks per table read cost seconds (a read 1.4 -> 0.5 s, measured on local[2])
        "spark.databricks.delta.snapshotPartitions": str(settings.shuffle_partitions),
        "spark.ui.enabled": str(settings.ui_enabled).lower(),
        **REQUIRED_PROPERTIES,
        **delta_properties(settings),
        **settings.extra,
        **logging_properties(settings),
    }


def submitted_fill_ins(settings: SparkSettings) -> dict[str, str]:
    """Properties a spark-submit session takes from the configuration where the submitter set none:
    every local property except the master, the driver's and executors' resources and the project's
    delta-spark JARs (the submitter passes JARs, `--packages` or `--jars`; `spark.extra` may then name
    the Delta extension and catalog)."""
    local = {
        **REQUIRED_PROPERTIES,
        **{k: v for k, v in local_properties(settings).items() if k not in delta_properties(settings)},
    }
    local.update(settings.extra)
    return {
        key: value
        for key, value in local.items()
        if key != "spark.master" and not key.startswith(("spark.driver.", "spark.executor."))
    }


def get_spark(settings: SparkSettings, master: str | None = None) -> SparkSession:
    """The session of this process: built from `settings` locally, the submitter's otherwise.

    `master` (the `--master` option) overrides the configured master when this process starts
    its own session.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder
    if under_spark_submit():
        SparkContext._ensure_initialized()
        submitted = SparkConf()  # what spark-submit was given (command line, spark-defaults.conf)
        properties = {k: v for k, v in submitted_fill_ins(settings).items() if not submitted.contains(k)}
    else:
        properties = local_properties(settings)
        if master:
            properties["spark.master"] = master
    for key, value in properties.items():
        builder = builder.config(key, value)
    starts_jvm = settings.quiet and not under_spark_submit() and SparkContext._gateway is None
    with without_jvm_notices() if starts_jvm else contextlib.nullcontext():
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(settings.log_level)
    return spark


# Lines on the JVM's stderr that say nothing about the run: the JVM's own notice when Spark's launcher
# adds its modules (not a log line: log4j cannot silence it), and what XGBoost's tasks print there (the
# ranks of its workers; its INFO lines, whose continuation lines start with a tab).
JVM_NOTICES = re.compile(
    rb"WARNING: Using incubator modules"
    rb"|\[\d\d:\d\d:\d\d\] Task \d+ got rank \d+"
    rb"|\d{4}-\d\d-\d\d [\d:,]+ INFO XGBoost-PySpark: "
)


@contextlib.contextmanager
def without_jvm_notices(notices: re.Pattern[bytes] = JVM_NOTICES) -> Iterator[None]:
    """Start the JVM inside this block with its stderr going through a pipe: lines `notices` matches
    (and the tab-indented lines that continue them) are dropped, everything else reaches this process's
    stderr as it comes (a console progress bar's updates included), for the JVM's whole life."""
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    stderr = os.dup(2)
    os.dup2(write_end, 2)
    os.close(write_end)
    try:
        yield
    finally:
        os.dup2(stderr, 2)  # this process writes to its stderr again; the JVM keeps the pipe's write end
        threading.Thread(target=_forward, args=(read_end, stderr, notices), daemon=True).start()


def _write_all(out: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(out, view) :]


def _forward(read_end: int, out: int, notices: re.Pattern[bytes]) -> None:
    pending, dropping = b"", False
    while chunk := os.read(read_end, 65536):
        *lines, pending = (pending + chunk).split(b"\n")
        kept = []
        for line in lines:
            *updates, line = line.split(b"\r")  # progress-bar updates before the line, on the same line
            dropping = bool(notices.match(line)) or (dropping and line.startswith(b"\t"))
            kept.append(b"".join(u + b"\r" for u in updates) + (b"" if dropping else line + b"\n"))
        if b"\r" in pending:  # a console progress bar's update: shown now, it has no newline
            kept.append(pending)
            pending = b""
        _write_all(out, b"".join(kept))
    _write_all(out, pending)
    os.close(read_end)
    os.close(out)
