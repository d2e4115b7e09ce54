"""The delta-spark writer, for sessions that have the Delta classes on their classpath."""

from __future__ import annotations

import json
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from sf_spark.lake.core import WriteMode


class NativeBackend:
    """Reads and writes with `format("delta")`; partition overwrite is Delta's dynamic mode."""

    name = "native"

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark

    def _table(self, path: str) -> Any:
        from delta.tables import DeltaTable

        return DeltaTable.forPath(self.spark, path)

    def exists(self, path: str) -> bool:
        from delta.tables import DeltaTable

        return DeltaTable.isDeltaTable(self.spark, path)

    def read(self, path: str, version: int | None) -> DataFrame:
        reader = self.spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        return reader.load(path)

    def write(
        self,
        df: DataFrame,
        path: str,
        mode: WriteMode,
        partition_by: list[str],
        metadata: dict[str, Any],
    ) -> int:
        writer = df.write.format("delta").mode("append" if mode == "append" else "overwrite")
        if mode == "overwrite":
            # the session's dynamic partition overwrite would replace only the partitions written,
            # and delta-spark refuses it together with overwriteSchema: a full overwrite is static
            writer = writer.option("overwriteSchema", "true").option("partitionOverwriteMode", "static")
        if mode == "overwrite_partitions":
            writer = writer.option("partitionOverwriteMode", "dynamic")
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        if metadata:
            writer = writer.option("userMetadata", json.dumps(metadata, sort_keys=True, default=str))
        writer.save(path)
        return self.version(path)

    def version(self, path: str) -> int:
        return int(self._table(path).history(1).collect()[0]["version"])

    def history(self, path: str) -> list[dict[str, Any]]:
        return [
            {
                "version": row["version"],
                "timestamp": int(row["timestamp"].timestamp() * 1000),
                "operation": row["operation"],
                "parameters": dict(row["operationParameters"] or {}),
                "metadata": json.loads(row["userMetadata"]) if row["userMetadata"] else {},
            }
            for row in self._table(path).history().collect()
        ]

    def live_files(self, path: str) -> tuple[int, int]:
        detail = self._table(path).detail().first()
        return int(detail["numFiles"]), int(detail["sizeInBytes"])

    def optimize(self, path: str, zorder: list[str], target_bytes: int) -> dict[str, int]:
        self.spark.conf.set("spark.databricks.delta.optimize.maxFileSize", str(target_bytes))
        builder = self._table(path).optimize()
        result = builder.executeZOrderBy(*zorder) if zorder else builder.executeCompaction()
        metrics = result.first()["metrics"]
        return {"files_added": int(metrics["numFilesAdded"]), "files_removed": int(metrics["numFilesRemoved"])}

    def vacuum(self, path: str, retention_hours: int) -> None:
        # VACUUM lists the table in as many tasks as partition discovery allows (10,000 by default):
        # one task per core lists a lake of monthly partitions as fast, without 10,000 empty tasks
        key = "spark.sql.sources.parallelPartitionDiscovery.parallelism"
        previous = self.spark.conf.get(key, None)
        self.spark.conf.set(key, str(self.spark.sparkContext.defaultParallelism))
        try:
            self._table(path).vacuum(float(retention_hours))
        finally:
            if previous is None:
                self.spark.conf.unset(key)
            else:
                self.spark.conf.set(key, previous)

    def restore(self, path: str, version: int | None) -> None:
        if version is not None:
            self._table(path).restoreToVersion(version)
            return
        jvm = self.spark._jvm
        target = jvm.org.apache.hadoop.fs.Path(path)
        target.getFileSystem(self.spark._jsc.hadoopConfiguration()).delete(target, True)
