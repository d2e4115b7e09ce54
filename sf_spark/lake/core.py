"""`Lake`: table names relative to a root, a writer chosen once per session."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pyspark.sql import DataFrame, SparkSession

from sf_spark.progress import say

log = logging.getLogger(__name__)

WriteMode = Literal["append", "overwrite", "overwrite_partitions"]
MIN_RETENTION_HOURS = 168  # Delta's own safety limit for VACUUM


def local_uri(path: str | os.PathLike[str]) -> str:
    """`file://` URI of a local or mounted path, for Spark to read or write.

    A path without a scheme is resolved by Spark against its default filesystem (HDFS on most
    YARN clusters), not the local disk: every path that is local by contract (raw deliveries, a
    delta-rs lake, the generator's truth) reaches Spark through this function.
    """
    text = os.fspath(path)
    if text.startswith("file:"):
        return text
    return "file://" + os.path.abspath(text)


class LakeError(RuntimeError):
    """A lake operation that could not be done; the table is left at its previous version."""


class TableNotFoundError(LakeError):
    """The table has never been written."""


class Backend(Protocol):
    """What a Delta writer must provide; paths are absolute table locations."""

    name: str

    def exists(self, path: str) -> bool: ...

    def read(self, path: str, version: int | None) -> DataFrame: ...

    def write(
        self,
        df: DataFrame,
        path: str,
        mode: WriteMode,
        partition_by: list[str],
        metadata: dict[str, Any],
    ) -> int: ...

    def version(self, path: str) -> int: ...

    def history(self, path: str) -> list[dict[str, Any]]: ...

    def restore(self, path: str, version: int | None) -> None: ...

    def live_files(self, path: str) -> tuple[int, int]: ...

    def optimize(self, path: str, zorder: list[str], target_bytes: int) -> dict[str, int]: ...

    def vacuum(self, path: str, retention_hours: int) -> None: ...


def delta_classes_on_classpath(spark: SparkSession) -> bool:
    """True when the JVM can load delta-spark's `DeltaTable` (the native writer is usable).

    JARs of `spark.jars` / `--packages` sit in Spark's own class loader, not the system one: the
    class is looked up through the thread's context loader, as Spark itself does.
    """
    jvm = spark._jvm
    try:
        loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
        jvm.java.lang.Class.forName("io.delta.tables.DeltaTable", False, loader)
    except Exception:
        try:
            jvm.java.lang.Class.forName("io.delta.tables.DeltaTable")
        except Exception:
            return False
    return True


def stored_files(spark: SparkSession, path: str, glob: bool = False) -> list[tuple[str, int]]:
    """(path, bytes) of every file under `path` (or of every entry matching the pattern `path` when `glob`),
    through Hadoop's filesystem so that local folders and object stores are listed alike."""
    jvm = spark._jvm
    target = jvm.org.apache.hadoop.fs.Path(path)
    fs = target.getFileSystem(spark._jsc.hadoopConfiguration())
    if glob:
        return [(status.getPath().toString(), 0) for status in (fs.globStatus(target) or [])]
    if not fs.exists(target):
        return []
    files, listing = [], fs.listFiles(target, True)
    while listing.hasNext():
        status = listing.next()
        files.append((status.getPath().toString(), int(status.getLen())))
    return files


_said_fallback: list[bool] = []


def _backend(spark: SparkSession, writer: str) -> Backend:
    from sf_spark.lake.delta_rs import DeltaRsBackend
    from sf_spark.lake.native import NativeBackend

    if writer == "auto":
        writer = "native" if delta_classes_on_classpath(spark) else "delta-rs"
        if writer == "delta-rs" and not _said_fallback:
            _said_fallback.append(True)
            say(
                "lake: delta-rs writer (no delta-spark classes on the classpath: `make jars` locally, "
                "--packages or spark.jars on a cluster)"
            )
    if writer == "native" and not delta_classes_on_classpath(spark):
        raise LakeError(
            "lake.writer: native needs the delta-spark JARs on the session's classpath: `make jars` "
            "(local sessions pick them up), or --packages io.delta:delta-spark_4.2_2.13:4.4.0 / spark.jars "
            "with spark-submit; or use lake.writer: delta-rs"
        )
    if writer == "native":
        return NativeBackend(spark)
    if writer == "delta-rs":
        return DeltaRsBackend(spark)
    raise ValueError(f"unknown lake writer {writer!r}: use 'auto', 'native' or 'delta-rs'")


@dataclass
class Lake:
    """Delta tables named like `bronze/urssaf_debit` under `root`.

    Every write is one Delta commit: it lands whole or not at all, and returns the new
    table version.
    """

    spark: SparkSession
    root: str
    writer: str = "auto"
    backend: Backend = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.root = self.root.rstrip("/")
        self.backend = _backend(self.spark, self.writer)
        log.info("lake at %s, writer %s", self.root, self.backend.name)

    def path(self, table: str) -> str:
        """Absolute location of a table, e.g. `<root>/gold/features`."""
        if not table or table.startswith("/") or ".." in table.split("/"):
            raise ValueError(f"invalid table name {table!r}: use a relative name like 'bronze/urssaf_debit'")
        return f"{self.root}/{table}"

    def exists(self, table: str) -> bool:
        return self.backend.exists(self.path(table))

    def read(self, table: str, version: int | None = None) -> DataFrame:
        """The table's rows at its latest version, or at `version` (time travel)."""
        path = self.path(table)
        if not self.backend.exists(path):
            raise TableNotFoundError(f"no Delta table at {path} (has the step that writes '{table}' run?)")
        return self.backend.read(path, version)

    def version(self, table: str) -> int:
        path = self.path(table)
        if not self.backend.exists(path):
            raise TableNotFoundError(f"no Delta table at {path}")
        return self.backend.version(path)

    def history(self, table: str) -> list[dict[str, Any]]:
        """Commits of a table, newest first: version, timestamp (ms), operation, metadata."""
        path = self.path(table)
        if not self.backend.exists(path):
            raise TableNotFoundError(f"no Delta table at {path}")
        return self.backend.history(path)

    def tables(self) -> list[str]:
        """Names of every Delta table of the lake (`bronze/urssaf_debit`, `gold/features`, ...), sorted."""
        root = local_uri(self.root) if self.backend.name == "delta-rs" else self.root
        found = stored_files(self.spark, f"{root}/*/*/_delta_log", glob=True)
        return sorted({"/".join(path.rstrip("/").split("/")[-3:-1]) for path, _ in found})

    def stored_files(self, table: str) -> tuple[int, int]:
        """Data files under a table's folder, referenced by a version or not, and their bytes."""
        path = self.path(table)
        files = stored_files(self.spark, local_uri(path) if self.backend.name == "delta-rs" else path)
        data = [size for name, size in files if "/_delta_log/" not in name and name.endswith(".parquet")]
        return len(data), sum(data)

    def live_files(self, table: str) -> tuple[int, int]:
        """Data files of a table's latest version, and their bytes."""
        return self.backend.live_files(self._existing(table))

    def optimize(self, table: str, zorder: list[str] | None = None, target_bytes: int = 128 * 2**20) -> dict[str, int]:
        """Rewrite small files of each partition into files of about `target_bytes` (one commit that changes no
        row); with `zorder`, every file of each partition rewritten clustered by those columns."""
        return self.backend.optimize(self._existing(table), list(zorder or []), target_bytes)

    def vacuum(self, table: str, retention_hours: int) -> None:
        """Delete the files that no version of the last `retention_hours` needs (at least 7 days)."""
        if retention_hours < MIN_RETENTION_HOURS:
            raise ValueError(
                f"a VACUUM retention under {MIN_RETENTION_HOURS} hours would break time travel and "
                "the restore of a failed run, and a reader still on an older version"
            )
        self.backend.vacuum(self._existing(table), retention_hours)

    def _existing(self, table: str) -> str:
        path = self.path(table)
        if not self.backend.exists(path):
            raise TableNotFoundError(f"no Delta table at {path}")
        return path

    def restore(self, table: str, version: int | None) -> None:
        """Bring a table back to `version` (a new commit); `None` removes a table that did not exist before."""
        log.warning("restoring %s to %s", table, "nothing" if version is None else f"version {version}")
        self.backend.restore(self.path(table), version)

    def append(
        self,
        df: DataFrame,
        table: str,
        partition_by: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> int:
        """Add rows; creates the table on first write. Returns the new version."""
        return self._write(df, table, "append", partition_by, metadata)

    def overwrite(
        self,
        df: DataFrame,
        table: str,
        partition_by: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> int:
        """Replace the whole table (schema included). Returns the new version."""
        return self._write(df, table, "overwrite", partition_by, metadata)

    def overwrite_partitions(
        self,
        df: DataFrame,
        table: str,
        partition_by: list[str],
        metadata: dict[str, Any] | None = None,
    ) -> int:
        """Replace only the partitions present in `df`; every other partition is untouched."""
        if not partition_by:
            raise ValueError("overwrite_partitions needs the partition columns")
        return self._write(df, table, "overwrite_partitions", partition_by, metadata)

    def _write(
        self,
        df: DataFrame,
        table: str,
        mode: WriteMode,
        partition_by: list[str] | None,
        metadata: dict[str, Any] | None,
    ) -> int:
        partition_by = list(partition_by or [])
        missing = [c for c in partition_by if c not in df.columns]
        if missing:
            raise ValueError(f"partition columns {missing} are not columns of the data written to {table}")
        version = self.backend.write(df, self.path(table), mode, partition_by, dict(metadata or {}))
        log.info("wrote %s (%s) -> version %d", table, mode, version)
        return version
