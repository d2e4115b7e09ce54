"""Delta commits without JARs: Spark writes parquet files, `deltalake` commits them.

A write goes through three steps, so that a failure at any of them leaves the table at its
previous version and no file visible to a Delta reader:

1. the executors write the data, partitioned, into `<table>/_staging/<write id>/` (so on a
   cluster the lake must be on a path every node sees, e.g. an NFS mount);
2. the driver moves each file to its partition folder of the table (files that no commit
   names are invisible to every Delta reader);
3. one Delta transaction adds them (and, for an overwrite, removes the files it replaces).

Should step 2 fail, or step 3 fail before its commit landed, the moved files are deleted again;
a failure raised after the commit landed (found in the Delta log by the files it adds) is
reported as such and deletes nothing; the staging folder is always removed.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import DeltaTable, Schema
from deltalake.transaction import AddAction, CommitProperties, RemoveAction, create_table_with_add_actions
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from sf_spark.lake.core import LakeError, WriteMode, local_uri

STAGING_DIR = "_staging"
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def local_path(path: str) -> str:
    """A local (or mounted) absolute path for `path`, which may be a `file:` URI."""
    parsed = urlparse(path)
    if parsed.scheme in ("", "file"):
        return os.path.abspath(parsed.path if parsed.scheme else path)
    raise LakeError(
        f"the delta-rs writer commits files on a local or mounted path, not {path!r}: "
        "use lake.writer: native (delta-spark) for an object store"
    )


def _parquet_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.parquet") if not p.name.startswith((".", "_")))


def _partition_values(relative: Path, partition_by: list[str]) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for part in relative.parent.parts:
        key, _, raw = part.partition("=")
        values[key] = None if raw == HIVE_NULL else unquote(raw)
    if sorted(values) != sorted(partition_by):
        raise LakeError(f"unexpected partition folders {relative.parent} for partition columns {partition_by}")
    return values


class DeltaRsBackend:
    """Spark writes files in parallel; the driver commits one Delta transaction with delta-rs."""

    name = "delta-rs"

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark

    def exists(self, path: str) -> bool:
        return DeltaTable.is_deltatable(local_path(path))

    def version(self, path: str) -> int:
        return DeltaTable(local_path(path)).version()

    def history(self, path: str) -> list[dict[str, Any]]:
        return [
            {
                "version": item["version"],
                "timestamp": item.get("timestamp"),
                "operation": item.get("operation"),
                "parameters": item.get("operationParameters", {}),
                "metadata": {k[3:]: v for k, v in item.items() if k.startswith("sf_")},
            }
            for item in DeltaTable(local_path(path)).history()
        ]

    def restore(self, path: str, version: int | None) -> None:
        if version is None:
            shutil.rmtree(local_path(path))
        else:
            DeltaTable(local_path(path)).restore(version)

    def live_files(self, path: str) -> tuple[int, int]:
        actions = pa.table(DeltaTable(local_path(path)).get_add_actions(flatten=True))
        return actions.num_rows, int(pc.sum(actions["size_bytes"]).as_py() or 0)

    def optimize(self, path: str, zorder: list[str], target_bytes: int) -> dict[str, int]:
        table = DeltaTable(local_path(path))
        if zorder:
            metrics = table.optimize.z_order(zorder, target_size=target_bytes)
        else:
            metrics = table.optimize.compact(target_size=target_bytes)
        return {"files_added": int(metrics["numFilesAdded"]), "files_removed": int(metrics["numFilesRemoved"])}

    def vacuum(self, path: str, retention_hours: int) -> None:
        # full: files no version names (left by a crashed writer) go too, once older than the retention
        DeltaTable(local_path(path)).vacuum(
            retention_hours=retention_hours, dry_run=False, enforce_retention_duration=True, full=True
        )

    def read(self, path: str, version: int | None) -> DataFrame:
        location = local_path(path)
        table = DeltaTable(location, version=version)
        schema = StructType.fromJson(json.loads(table.schema().to_json()))
        files = table.file_uris()
        if not files:
            return self.spark.createDataFrame([], schema)
        reader = self.spark.read.schema(schema).option("basePath", local_uri(location))
        df = reader.parquet(*[local_uri(f) for f in files])
        return df.select(*schema.fieldNames())

    def write(
        self,
        df: DataFrame,
        path: str,
        mode: WriteMode,
        partition_by: list[str],
        metadata: dict[str, Any],
    ) -> int:
        location = Path(local_path(path))
        write_id = uuid.uuid4().hex
        staging = location / STAGING_DIR / write_id
        moved: list[Path] = []
        committing = False
        try:
            writer = df.write.mode("errorifexists")
            if partition_by:
                writer = writer.partitionBy(*partition_by)
            writer.parquet(local_uri(staging))
            actions = []
            for file in _parquet_files(staging):
                relative = file.relative_to(staging)
                target = location / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(file, target)
                moved.append(target)
                actions.append(
                    AddAction(
                        path=relative.as_posix(),
                        size=target.stat().st_size,
                        partition_values=_partition_values(relative, partition_by),
                        modification_time=int(time.time() * 1000),
                        data_change=True,
                        stats=json.dumps({"numRecords": pq.read_metadata(target).num_rows}),
                    )
                )
            before = DeltaTable(str(location)).version() if DeltaTable.is_deltatable(str(location)) else -1
            committing = True
            return self._commit(location, df.schema, actions, mode, partition_by, metadata)
        except BaseException as error:
            if committing:
                try:
                    landed = _landed_version(location, {a.path for a in actions}, before)
                except (OSError, ValueError):
                    raise error from None  # cannot tell whether the commit landed: its files are kept
                if landed is not None:
                    raise LakeError(
                        f"{location}: the commit landed as version {landed}, then failed with "
                        f"{type(error).__name__}: {error}; the table is at that version, its files are kept"
                    ) from error
            for target in moved:
                target.unlink(missing_ok=True)
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            if location.joinpath(STAGING_DIR).is_dir() and not any(location.joinpath(STAGING_DIR).iterdir()):
                location.joinpath(STAGING_DIR).rmdir()

    def _commit(
        self,
        location: Path,
        schema: StructType,
        actions: list[AddAction],
        mode: WriteMode,
        partition_by: list[str],
        metadata: dict[str, Any],
    ) -> int:
        delta_schema = Schema.from_json(schema.json())
        properties = CommitProperties(custom_metadata={f"sf_{k}": v for k, v in metadata.items()} or None)
        uri = str(location)
        if not DeltaTable.is_deltatable(uri):
            create_table_with_add_actions(
                uri,
                delta_schema,
                actions,
                mode="error",
                partition_by=partition_by or None,
                commit_properties=properties,
            )
            return DeltaTable(uri).version()
        table = DeltaTable(uri)
        removes: list[RemoveAction] = []
        if mode == "overwrite_partitions":
            replaced = {_key(a.partition_values, partition_by) for a in actions}
            removes = _files_of_partitions(table, partition_by, replaced)
        table.create_write_transaction(
            [*removes, *actions],
            mode="overwrite" if mode == "overwrite" else "append",
            schema=delta_schema,
            partition_by=partition_by or None,
            commit_properties=properties,
        )
        return DeltaTable(uri).version()


def _landed_version(location: Path, paths: set[str], before: int) -> int | None:
    """The version after `before` whose commit adds any of `paths`, or None when none does.

    Raises OSError or ValueError when the Delta log cannot be read (the caller then cannot tell).
    """
    for commit in sorted((location / "_delta_log").glob("[0-9]" * 20 + ".json")):
        if int(commit.stem) <= before:
            continue
        for line in commit.read_text(encoding="utf-8").splitlines():
            add = json.loads(line).get("add") if line.strip() else None
            if add and unquote(add.get("path", "")) in paths:
                return int(commit.stem)
    return None


def _key(values: dict[str, Any], partition_by: list[str]) -> tuple[str | None, ...]:
    return tuple(None if values.get(c) is None else str(values[c]) for c in partition_by)


def _files_of_partitions(
    table: DeltaTable, partition_by: list[str], replaced: set[tuple[str | None, ...]]
) -> list[RemoveAction]:
    """Remove actions for every live file of the given partitions."""
    now = int(time.time() * 1000)
    removes = []
    for file in pa.table(table.get_add_actions(flatten=True)).to_pylist():
        values = {c: file.get(f"partition.{c}") for c in partition_by}
        key = _key(values, partition_by)
        if key in replaced:
            removes.append(
                RemoveAction(
                    path=file["path"],
                    data_change=True,
                    deletion_timestamp=now,
                    size=file["size_bytes"],
                    partition_values=dict(zip(partition_by, key, strict=True)),
                )
            )
    return removes
