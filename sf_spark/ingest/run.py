"""`ingest_raw`: every new delivery under RAW into its bronze table, with quarantine and lineage.

One run: find the deliveries (recursively, file names matched case-insensitively), scan the new
ones on the driver, reject whole files with a missing column or an unknown layout, then per
source read its new files in one Spark read per header layout (all at once for an unquoted source
with several layouts) and write one bronze commit and one quarantine commit, each tagged with the
checksums it carries; the ingest log is written last, then a summary is printed and returned.
"""

from __future__ import annotations

import os
import re
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from functools import reduce
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sf_spark.ingest.freshness import (
    appended_freshness,
    format_freshness,
    never_delivered,
    save_freshness,
    updated_freshness,
)
from sf_spark.ingest.log import (
    DUPLICATE,
    INGESTED,
    REJECTED,
    LogEntry,
    commit_metadata,
    landed_checksums,
    read_history,
    stamp,
    write_log,
)
from sf_spark.ingest.reader import (
    REASON,
    Layout,
    MissingColumnError,
    RawFile,
    Scan,
    UnknownLayoutError,
    layout_of,
    layout_rows,
    numbered_lines,
    parse_lines,
    parse_unquoted,
    scan_or_error,
    to_bronze,
    to_quarantine,
)
from sf_spark.ingest.settings import IngestSettings
from sf_spark.ingest.sources import SOURCES, Source, source_of
from sf_spark.lake import Lake, tables
from sf_spark.progress import say

DELIVERY_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Names of files still being transferred (left for a later run, like names starting with `.` or `_`).
IN_PROGRESS_SUFFIXES = (".part", ".partial", ".tmp", ".filepart", ".crdownload", ".inprogress")
# Counters of the run summary, per source, in table order.
SUMMARY_COUNTS = ("files_new", "files_duplicate", "files_rejected", "rows_read", "rows_accepted", "rows_quarantined")


def delivery_date(path: Path, raw_dir: Path) -> date:
    """The nearest `YYYY-MM-DD` folder above `path` inside RAW, else the file's modification date (UTC)."""
    for folder in path.relative_to(raw_dir).parents:
        if DELIVERY_FOLDER.match(folder.name):
            try:
                return date.fromisoformat(folder.name)
            except ValueError:
                continue
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).date()


def discover(raw_dir: Path) -> tuple[list[tuple[Path, Source]], list[str]]:
    """Delivery files under RAW with their source, sorted by path; and the files no source claims."""
    claimed, unclaimed = [], []
    for folder, dirs, names in os.walk(raw_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for name in sorted(names):
            if name.startswith((".", "_")) or name.lower().endswith(IN_PROGRESS_SUFFIXES):
                continue
            path = Path(folder) / name
            source = source_of(name)
            if source is None:
                unclaimed.append(path.relative_to(raw_dir).as_posix())
            else:
                claimed.append((path, source))
    return claimed, unclaimed


def _entry(file: RawFile, status: str, message: str | None, ingested_at: datetime, **rows: Any) -> LogEntry:
    return LogEntry(
        path=file.relative,
        checksum=file.scan.checksum,
        source=file.source.name,
        delivery_date=file.delivery_date,
        encoding=file.scan.encoding,
        compressed=file.scan.compressed,
        size_bytes=file.size_bytes,
        modified_at=file.modified_at,
        rows_read=rows.get("read", 0),
        rows_accepted=rows.get("accepted", 0),
        rows_rejected=rows.get("rejected", 0),
        status=status,
        message=message,
        seconds=round(rows.get("seconds", file.scan.seconds), 3),
        ingested_at=ingested_at,
    )


def _check_compression(file: RawFile) -> None:
    named_gz = file.path.name.lower().endswith(".gz")
    if file.scan.compressed != named_gz:
        state = "gzip-compressed" if file.scan.compressed else "not gzip-compressed"
        raise UnknownLayoutError(f"{file.relative}: content is {state} but the name says otherwise; rename it")


def _ingest_source(
    lake: Lake,
    source: Source,
    groups: list[tuple[Layout, list[RawFile]]],
    ingested_at: datetime,
    label: str = "",
) -> tuple[list[LogEntry], dict[str, Any] | None]:
    """Read every group of one source, write its bronze and quarantine commits; one log entry per file,
    and the freshness of the rows appended to bronze (None when some of the files were already there).
    Says `label` (e.g. "source 2 of 9, urssaf_debt") with the rows read and their rate."""
    spark: SparkSession = lake.spark
    started = time.perf_counter()
    persisted: list[DataFrame] = []
    parts = []
    if source.quote is None and len(groups) > 1:
        # Unquoted, several header layouts (the wide headcount files: one per span of months): every
        # file in one read and one plan. One layout keeps from_csv, faster per line than a split.
        every = [f for _, files in groups for f in files]
        layouts = layout_rows(spark, source, {f.relative: layout for layout, files in groups for f in files})
        lines, raw = numbered_lines(spark, every, ingested_at)
        persisted.append(raw)
        parts.append(lines.transform(parse_unquoted(source, layouts)))
    else:
        for layout, files in groups:
            lines, raw = numbered_lines(spark, files, ingested_at)
            persisted.append(raw)
            parts.append(lines.transform(parse_lines(source, layout)))
    parsed = reduce(DataFrame.unionByName, parts).persist()
    persisted.append(parsed)
    try:
        counts = {
            r["_file_checksum"]: r
            for r in parsed.groupBy("_file_checksum")
            .agg(F.count(F.lit(1)).alias("read"), F.count_if(F.col(REASON).isNull()).alias("accepted"))
            .collect()
        }
        files = [f for _, group in groups for f in group]
        checksums = {f.scan.checksum for f in files}
        appended: dict[str, Any] | None = never_delivered(source.name)
        for table, transform, rows in (
            (source.table, to_bronze(source), "accepted"),
            (tables.QUARANTINE, to_quarantine(source), "rejected"),
        ):
            pending = checksums - landed_checksums(lake, table)
            has_rows = any(
                (counts[c]["accepted"] if rows == "accepted" else counts[c]["read"] - counts[c]["accepted"]) > 0
                for c in pending
                if c in counts
            )
            if table == source.table and pending != checksums:
                appended = None  # some files already in bronze: what this run adds is not all there is
            if has_rows:
                out = parsed.where(F.col("_file_checksum").isin(sorted(pending))).transform(transform)
                if table == source.table and appended is not None:
                    appended = appended_freshness(out, source.name)
                lake.append(out, table, metadata=commit_metadata(source.name, pending))
    finally:
        for df in persisted:
            df.unpersist()
    elapsed = time.perf_counter() - started
    total_read = sum(r["read"] for r in counts.values())
    quarantined = sum(r["read"] - r["accepted"] for r in counts.values())
    say(
        f"  {label}: {len(files)} files, {total_read:,} rows ({quarantined:,} in quarantine) in {elapsed:.1f} s, "
        f"{total_read / max(elapsed, 1e-9):,.0f} rows/s"
    )
    entries = []
    for layout, group in groups:
        note = f"extra columns ignored: {', '.join(layout.extra)}" if layout.extra else None
        for file in group:
            row = counts.get(file.scan.checksum)
            read, accepted = (row["read"], row["accepted"]) if row else (0, 0)
            share = elapsed * read / total_read if total_read else elapsed / len(files)
            entries.append(
                _entry(
                    file,
                    INGESTED,
                    note,
                    ingested_at,
                    read=read,
                    accepted=accepted,
                    rejected=read - accepted,
                    seconds=file.scan.seconds + share,
                )
            )
    return entries, appended


def _scan_new(
    raw: Path, claimed: list[tuple[Path, Source]], stamps: dict[tuple[str, int, int], str], options: IngestSettings
) -> tuple[list[RawFile], list[str], list[str]]:
    """Scan the files whose (path, size, modification time) the log does not know; sorted by delivery.

    A file whose size or modification time changes during its scan, or that was modified less than
    `settle_seconds` ago, is still being written: it is left for a later run (third list).
    """
    todo = []
    known: list[str] = []
    in_progress: list[str] = []
    now = time.time()
    for path, source in claimed:
        info = path.stat()
        relative = path.relative_to(raw).as_posix()
        modified = datetime.fromtimestamp(info.st_mtime, UTC)
        checksum = stamps.get(stamp(relative, info.st_size, modified))
        if checksum is not None:
            known.append(relative)
        elif now - info.st_mtime < options.settle_seconds:
            in_progress.append(relative)
        else:
            todo.append((path, relative, source, info))
    with ThreadPoolExecutor(max_workers=options.scan_threads) as pool:
        scans: list[Scan] = list(pool.map(lambda item: scan_or_error(item[0]), todo))
    files = []
    for (path, relative, source, info), scan in zip(todo, scans, strict=True):
        after = path.stat() if path.exists() else None
        if after is None or (after.st_size, after.st_mtime_ns) != (info.st_size, info.st_mtime_ns):
            in_progress.append(relative)
            continue
        modified = datetime.fromtimestamp(info.st_mtime, UTC)
        files.append(RawFile(path, relative, source, delivery_date(path, raw), info.st_size, modified, scan))
    return sorted(files, key=lambda f: (f.delivery_date, f.relative)), known, sorted(in_progress)


def ingest_raw(lake: Lake, raw_dir: str, settings: Any = None) -> dict[str, Any]:
    """Ingest every new delivery under `raw_dir` into `bronze/<source>`; print and return a summary.

    Already logged files are skipped, a known content under a new name is logged as a duplicate,
    a file with a missing required column or an unknown layout is rejected whole (logged with the
    reason, nothing of it written); the other files of the run still land.
    """
    started = time.perf_counter()
    options = settings.ingest if settings is not None else IngestSettings()
    raw = Path(raw_dir).resolve()
    if not raw.is_dir():
        raise FileNotFoundError(f"raw delivery folder not found: {raw_dir}")
    ingested_at = datetime.now(UTC)
    history = read_history(lake)
    claimed, unclaimed = discover(raw)
    files, unchanged, in_progress = _scan_new(raw, claimed, history.stamps, options)
    entries: list[LogEntry] = []
    first_path = dict(history.ingested)
    groups: dict[str, dict[Layout, list[RawFile]]] = defaultdict(dict)
    for file in files:
        checksum = file.scan.checksum
        if (file.relative, checksum) in history.pairs:
            unchanged.append(file.relative)
        elif file.scan.error is not None:
            message = f"{file.relative}: {file.scan.error}"
            say(f"ingest: rejected {message}")
            entries.append(_entry(file, REJECTED, message, ingested_at))
        elif checksum in first_path and not file.scan.empty:
            entries.append(_entry(file, DUPLICATE, f"same content as {first_path[checksum]}", ingested_at))
        else:
            try:
                _check_compression(file)
                layout = layout_of(file.source, file.scan.header, file.relative)
            except (MissingColumnError, UnknownLayoutError) as error:
                say(f"ingest: rejected {error}")
                entries.append(_entry(file, REJECTED, str(error), ingested_at))
                continue
            if file.scan.empty:
                entries.append(_entry(file, INGESTED, "no data line", ingested_at))
                continue
            first_path[checksum] = file.relative
            groups[file.source.name].setdefault(layout, []).append(file)
    delivered = [source for source in SOURCES if source.name in groups]
    say(
        f"ingest: {len(files)} new or changed files under {raw}, {len(unchanged)} already landed, "
        f"{len(delivered)} sources to read"
    )
    appended = {}
    for i, source in enumerate(delivered, 1):
        label = f"source {i} of {len(delivered)}, {source.name}"
        read, appended[source.name] = _ingest_source(
            lake, source, list(groups[source.name].items()), ingested_at, label
        )
        entries.extend(read)
    write_log(lake, entries)
    summary = summarise(entries, unchanged, unclaimed, time.perf_counter() - started)
    summary["files_in_progress"] = in_progress
    summary["freshness"] = updated_freshness(lake, appended)
    save_freshness(lake, summary["freshness"])
    summary["problems"] = problems(entries, options)
    say(format_summary(summary))
    return summary


def problems(entries: list[LogEntry], options: IngestSettings) -> list[str]:
    """Why this run must not pass as clean: files rejected whole, files with too many rows in quarantine."""
    out = [f"rejected {e.message}" for e in entries if e.status == REJECTED]
    for e in entries:
        if e.status == INGESTED and e.rows_read >= options.share_min_rows:
            share = e.rows_rejected / e.rows_read
            if share > options.max_quarantine_share:
                out.append(
                    f"{e.path}: {e.rows_rejected} of {e.rows_read} rows in quarantine ({share:.1%}, more than "
                    f"ingest.max_quarantine_share={options.max_quarantine_share:.0%})"
                )
    return out


def summarise(entries: list[LogEntry], unchanged: list[str], unclaimed: list[str], seconds: float) -> dict[str, Any]:
    """Run summary: per source and per file, files by status, rows read / accepted / quarantined, seconds."""
    sources: dict[str, dict[str, Any]] = {}
    for e in entries:
        s = sources.setdefault(
            e.source,
            dict.fromkeys(SUMMARY_COUNTS, 0) | {"seconds": 0.0},
        )
        s[{INGESTED: "files_new", DUPLICATE: "files_duplicate", REJECTED: "files_rejected"}[e.status]] += 1
        s["rows_read"] += e.rows_read
        s["rows_accepted"] += e.rows_accepted
        s["rows_quarantined"] += e.rows_rejected
        s["seconds"] = round(s["seconds"] + e.seconds, 3)
    return {
        "sources": dict(sorted(sources.items())),
        "files": [
            {
                "file": e.path,
                "source": e.source,
                "status": e.status,
                "rows_read": e.rows_read,
                "rows_accepted": e.rows_accepted,
                "rows_quarantined": e.rows_rejected,
                "seconds": e.seconds,
                "message": e.message,
            }
            for e in entries
        ],
        "files_unchanged": len(unchanged),
        "files_unclaimed": unclaimed,
        "rejected": [e.message for e in entries if e.status == REJECTED],
        "seconds": round(seconds, 1),
    }


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as a fixed-width table, one line per source."""
    columns = SUMMARY_COUNTS
    header = f"{'source':<22}" + "".join(f"{c.replace('files_', '').replace('rows_', ''):>12}" for c in columns)
    lines = [f"ingest summary ({summary['seconds']} s)", header + f"{'seconds':>10}"]
    for name, s in summary["sources"].items():
        lines.append(f"{name:<22}" + "".join(f"{s[c]:>12}" for c in columns) + f"{s['seconds']:>10.1f}")
    lines.append(f"unchanged files skipped: {summary['files_unchanged']}")
    if summary["files_unclaimed"]:
        lines.append(f"files matching no source (ignored): {', '.join(summary['files_unclaimed'])}")
    if summary.get("files_in_progress"):
        lines.append(f"files still being written (left for the next run): {', '.join(summary['files_in_progress'])}")
    if summary.get("freshness"):
        lines += ["freshness:", format_freshness(summary["freshness"])]
    lines.extend(f"PROBLEM {message}" for message in summary.get("problems", []))
    return "\n".join(lines)
