"""The ingest log (`bronze/_ingest_log`) and what makes ingestion incremental and idempotent.

- A file is known by the sha256 of its (decompressed) content: a (path, checksum) already in the
  log is not read again; a new path with a logged checksum is logged as a `duplicate`.
- Every bronze and quarantine commit is tagged with the checksums of the files it carries, so
  after a crash (the log is written last) a re-run sees in the tables' history which files already
  landed and never writes them twice.
- A file whose path, size and modification time match a logged one is not even re-hashed.
- A header-only file (no data line) is logged as ingested with 0 rows, never as a duplicate.
"""

from __future__ import annotations

import json
from dataclasses import astuple, dataclass
from datetime import date, datetime

from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType,
    DateType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from sf_spark.lake import Lake, tables

CHECKSUMS_KEY = "checksums"

INGESTED, DUPLICATE, REJECTED = "ingested", "duplicate", "rejected"

LOG_SCHEMA = StructType(
    [
        StructField("path", StringType()),
        StructField("checksum", StringType()),
        StructField("source", StringType()),
        StructField("delivery_date", DateType()),
        StructField("encoding", StringType()),
        StructField("compressed", BooleanType()),
        StructField("size_bytes", LongType()),
        StructField("modified_at", TimestampType()),
        StructField("rows_read", LongType()),
        StructField("rows_accepted", LongType()),
        StructField("rows_rejected", LongType()),
        StructField("status", StringType()),
        StructField("message", StringType()),
        StructField("seconds", DoubleType()),
        StructField("ingested_at", TimestampType()),
    ]
)


@dataclass(frozen=True)
class LogEntry:
    """One row of the ingest log: one file seen by one run (rows are lines; seconds include its scan)."""

    path: str
    checksum: str
    source: str
    delivery_date: date
    encoding: str
    compressed: bool
    size_bytes: int
    modified_at: datetime
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    status: str
    message: str | None
    seconds: float
    ingested_at: datetime


@dataclass(frozen=True)
class History:
    """What earlier runs logged: (path, checksum) pairs, the first path of each ingested checksum,
    and (path, size, modification time) of every logged file."""

    pairs: frozenset[tuple[str, str]]
    ingested: dict[str, str]
    stamps: dict[tuple[str, int, int], str]


def stamp(path: str, size_bytes: int, modified_at: datetime) -> tuple[str, int, int]:
    """(path, size, modification time in microseconds since the epoch) of a file."""
    return path, size_bytes, round(modified_at.timestamp() * 1_000_000)


def read_history(lake: Lake) -> History:
    """The ingest log so far (empty before the first run)."""
    if not lake.exists(tables.INGEST_LOG):
        return History(frozenset(), {}, {})
    rows = (
        lake.read(tables.INGEST_LOG)
        .select("path", "checksum", "status", "size_bytes", "modified_at", "ingested_at")
        .orderBy("ingested_at", "path")
        .collect()
    )
    ingested: dict[str, str] = {}
    for row in rows:
        if row["status"] == INGESTED:
            ingested.setdefault(row["checksum"], row["path"])
    return History(
        pairs=frozenset((r["path"], r["checksum"]) for r in rows),
        ingested=ingested,
        stamps={stamp(r["path"], r["size_bytes"], r["modified_at"]): r["checksum"] for r in rows},
    )


def landed_checksums(lake: Lake, table: str) -> set[str]:
    """Checksums of the files whose rows some commit of `table` already carries."""
    if not lake.exists(table):
        return set()
    landed: set[str] = set()
    for commit in lake.history(table):
        tagged = commit.get("metadata", {}).get(CHECKSUMS_KEY)
        if tagged:
            landed.update(json.loads(tagged) if isinstance(tagged, str) else tagged)
    return landed


def commit_metadata(source: str, checksums: set[str]) -> dict[str, str]:
    """Metadata of a bronze or quarantine commit: the source and the checksums of its files."""
    return {"source": source, CHECKSUMS_KEY: json.dumps(sorted(checksums))}


def write_log(lake: Lake, entries: list[LogEntry]) -> None:
    """Append this run's entries to the ingest log (one commit; nothing when empty)."""
    if not entries:
        return
    df = lake.spark.createDataFrame([astuple(e) for e in entries], LOG_SCHEMA)
    lake.append(df.select(*[F.col(c) for c in LOG_SCHEMA.fieldNames()]), tables.INGEST_LOG)
