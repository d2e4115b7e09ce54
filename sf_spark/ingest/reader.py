"""The generic reader: any `Source` description + its delivered files -> typed bronze rows.

Driver side, one streamed pass per file (`scan_file`): sha256 of the (decompressed) content,
UTF-8 or Latin-1 detection, gzip detection and the header line; `layout_of` checks the header.
Spark side, the new files of one source are read with one `spark.read.text` per header layout,
or all at once for an unquoted source with several layouts (the wide headcount files):
`numbered_lines` gives each physical line its file and 1-based line number (header = line 1)
without per-row Python; `parse_lines` (one layout, `from_csv`) or `parse_unquoted` (any layouts,
each file's positions as data) splits, parses and explains every failure.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    DateType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from sf_spark.ingest.parsers import clean, urssaf_period_bounds
from sf_spark.ingest.sources import SOURCES, Field, Source
from sf_spark.lake import local_uri
from sf_spark.months import month_number

GZIP_MAGIC = b"\x1f\x8b"
CHUNK_BYTES = 1 << 20

# Lineage columns of every bronze row, in this order.
LINEAGE = StructType(
    [
        StructField("_source_file", StringType()),
        StructField("_line_number", LongType()),
        StructField("_ingested_at", TimestampType()),
        StructField("_file_checksum", StringType()),
        StructField("_delivery_date", DateType()),
    ]
)
LINEAGE_COLUMNS = LINEAGE.fieldNames()
TEXT, REASON, CELLS, WIDE = "_text", "_reason", "_cells", "_wide"


class MissingColumnError(ValueError):
    """A delivery lacks a required column: the file is rejected whole."""


class UnknownLayoutError(ValueError):
    """A delivery whose header (or content) is not the layout of its source: rejected whole."""


@dataclass(frozen=True)
class Scan:
    """What one streamed pass over a file tells: content checksum, encoding, compression, header,
    and whether the file holds no data line (`empty`: a header-only delivery)."""

    checksum: str
    encoding: str
    compressed: bool
    header: str
    empty: bool
    seconds: float
    error: str | None = None


def scan_or_error(path: Path) -> Scan:
    """`scan_file`, or for a file it cannot read a scan carrying the reason (checksum of the stored bytes)."""
    started = time.perf_counter()
    try:
        return scan_file(path)
    except UnreadableFileError as error:
        with path.open("rb") as raw:
            compressed = raw.read(2) == GZIP_MAGIC
        return Scan(raw_checksum(path), "unknown", compressed, "", False, time.perf_counter() - started, str(error))


UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# The bytes where Windows-1252 differs from Latin-1 (Latin-1 control characters there).
CP1252_ONLY = bytes(range(0x80, 0xA0))
CP1252_BYTES = re.compile(rb"[\x80-\x9f]")
CP1252_FROM = "".join(chr(b) for b in CP1252_ONLY if bytes([b]).decode("cp1252", "replace") != "\ufffd")
CP1252_TO = "".join(bytes([ord(c)]).decode("cp1252") for c in CP1252_FROM)
MAX_HEADER_CHARS = 65_536


class UnreadableFileError(ValueError):
    """A delivery whose bytes cannot be read as text lines (corrupt gzip, binary, UTF-16): rejected whole."""


def scan_file(path: Path) -> Scan:
    """Hash (sha256 of the decompressed bytes), detect gzip and the encoding, read the header line.

    Encodings: UTF-8 (with or without a byte-order mark), else Windows-1252 when a byte of
    0x80-0x9F occurs (Latin-1 control characters there), else Latin-1; a UTF-8 byte-order mark in
    front of a non-UTF-8 file is ignored. Raises `UnreadableFileError` for a truncated or corrupt
    gzip, a UTF-16 file or a file holding NUL bytes.
    """
    started = time.perf_counter()
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8, cp1252, nul = True, False, False
    head = b""
    try:
        with path.open("rb") as raw:
            compressed = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
            stream = gzip.GzipFile(fileobj=raw) if compressed else raw
            while chunk := stream.read(CHUNK_BYTES):
                digest.update(chunk)
                if len(head) < CHUNK_BYTES:
                    head += chunk
                nul = nul or b"\x00" in chunk
                cp1252 = cp1252 or CP1252_BYTES.search(chunk) is not None
                if utf8:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        utf8 = False
    except (EOFError, OSError, zlib.error) as error:
        corrupt = isinstance(error, EOFError | gzip.BadGzipFile | zlib.error)
        kind = "truncated or corrupt gzip" if corrupt else "unreadable"
        raise UnreadableFileError(f"{kind} ({type(error).__name__})") from None
    if head.startswith(UTF16_BOMS):
        raise UnreadableFileError("UTF-16 text; deliveries must be UTF-8, Windows-1252 or Latin-1")
    if nul:
        raise UnreadableFileError("binary content (NUL bytes); not a text delivery")
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    encoding = "utf-8" if utf8 else "cp1252" if cp1252 else "latin-1"
    first_line, *rest = re.split(rb"\r\n|\r|\n", head[:CHUNK_BYTES], maxsplit=1)
    header = first_line.removeprefix(UTF8_BOM).decode(encoding, "replace").removeprefix("\ufeff")
    empty = len(head) <= CHUNK_BYTES and not b"".join(rest).strip()
    return Scan(digest.hexdigest(), encoding, compressed, header, empty, time.perf_counter() - started)


def raw_checksum(path: Path) -> str:
    """sha256 of a file's bytes as stored (for files that cannot be decompressed or decoded)."""
    digest = hashlib.sha256()
    with path.open("rb") as raw:
        while chunk := raw.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def glob_escaped(uri: str) -> str:
    """A path Spark's reader takes literally: its glob characters (`[ ] { } * ?` and `\\`) escaped."""
    return re.sub(r"([\\\[\]{}*?])", r"\\\1", uri)


@dataclass(frozen=True)
class RawFile:
    """A delivered file: where it is, which source claims it, and its scan."""

    path: Path
    relative: str
    source: Source
    delivery_date: date
    size_bytes: int
    modified_at: datetime
    scan: Scan


@dataclass(frozen=True)
class Layout:
    """Where a source's columns sit in one header (0-based), for every file sharing that header."""

    width: int
    positions: tuple[tuple[str, int], ...]
    months: tuple[tuple[str, int, date], ...]
    extra: tuple[str, ...]

    def position(self, header: str) -> int | None:
        return dict(self.positions).get(header.lower())


def header_names(source: Source, header: str, file: str) -> list[str]:
    """The header line split with the source's separator and quoting, names trimmed."""
    if len(header) > MAX_HEADER_CHARS:
        raise UnknownLayoutError(f"{file}: header line longer than {MAX_HEADER_CHARS} characters")
    quoting = {"quotechar": source.quote} if source.quote else {"quoting": csv.QUOTE_NONE}
    try:
        reader = csv.reader([header], delimiter=source.separator, strict=True, **quoting)
        return [name.strip() for name in next(reader, [])]
    except csv.Error as error:
        raise UnknownLayoutError(f"{file}: header line cannot be split into columns ({error})") from None


def _known(names: list[str], wanted: set[str]) -> list[str]:
    """The header names that are columns of the source: the only header text a message may repeat
    (a file without its header has a data row there, i.e. firm-level values)."""
    return [n for n in names if n.lower() in wanted]


def layout_of(source: Source, header: str, file: str) -> Layout:
    """Check a header against `source` and locate its columns; raise a named error otherwise."""
    names = header_names(source, header, file)
    lowered = [n.lower() for n in names]
    if not any(lowered):
        raise UnknownLayoutError(f"{file}: empty file or blank header; expected a {source.name} header line")
    if duplicated := sorted({n for n in lowered if n and lowered.count(n) > 1}):
        raise UnknownLayoutError(f"{file}: header repeats column(s) {duplicated}")
    wanted = {f.header.lower(): f for f in source.fields}
    required = [f.header for f in source.fields if f.required and f.header.lower() not in lowered]
    months: list[tuple[str, int, date]] = []
    wide_prefix = source.wide.prefix.lower() if source.wide else None
    for index, name in enumerate(lowered):
        if wide_prefix and name.startswith(wide_prefix) and name not in wanted:
            bounds = urssaf_period_bounds(name.removeprefix(wide_prefix))
            if bounds is None or month_number(bounds[1]) - month_number(bounds[0]) != 1:
                shown = repr(names[index]) if len(names[index]) <= 16 else f"{index + 1}"
                raise UnknownLayoutError(
                    f"{file}: header column {shown} is not a monthly {source.wide.prefix}<YYYYQM> of 1900..2099"
                )
            months.append((names[index], index, bounds[0]))
    if not set(wanted) & set(lowered):
        raise UnknownLayoutError(
            f"{file}: header does not look like a {source.name} delivery "
            f"(expected columns {sorted({f.header for f in source.fields})}; line 1 has {len(names)} fields, "
            "none of them a column name of the source: a missing header line?)"
        )
    if required:
        raise MissingColumnError(
            f"{file}: required column(s) {sorted(set(required))} missing for source {source.name} "
            f"(header names are matched case-insensitively; found {_known(names, set(wanted))} "
            f"among {len(names)} fields)"
        )
    if source.wide and not months:
        raise UnknownLayoutError(f"{file}: no {source.wide.prefix}<YYYYQM> headcount column")
    month_names = {m[0].lower() for m in months}
    return Layout(
        width=len(names),
        positions=tuple((n, i) for i, n in enumerate(lowered) if n in wanted),
        months=tuple(months),
        extra=tuple(n for n, low in zip(names, lowered, strict=True) if low not in wanted and low not in month_names),
    )


def bronze_schema(source: Source) -> StructType:
    """Columns of `bronze/<source>`: the typed fields (long form for headcount), then lineage."""
    fields: dict[str, StructField] = {}
    for f in source.fields:
        fields.setdefault(f.name, StructField(f.name, f.parser.data_type))
    if source.wide:
        fields["periode"] = StructField("periode", DateType())
        fields[source.wide.name] = StructField(source.wide.name, source.wide.parser.data_type)
    return StructType([*fields.values(), *LINEAGE.fields])


FILE_INFO = StructType(
    [
        StructField("_uri", StringType()),
        StructField("_block", LongType()),
        StructField("_shift", LongType()),
        StructField("_encoding", StringType()),
        *[f for f in LINEAGE.fields if f.name != "_line_number"],
    ]
)


def numbered_lines(spark: SparkSession, files: list[RawFile], ingested_at: datetime) -> tuple[DataFrame, DataFrame]:
    """Every physical line of `files` (one Spark read) with its lineage and decoded text `_text`.

    Line numbers: rows of one (file, block) are contiguous in one partition with consecutive ids,
    so line = lines of the file's earlier blocks + (id - first id of the block) + 1, from a
    per-block count. Returns (numbered lines, the persisted raw read to unpersist when done).
    """
    raw = (
        spark.read.text([glob_escaped(local_uri(f.path)) for f in files])
        .select(
            F.input_file_name().alias("_uri"),
            F.input_file_block_start().alias("_block"),
            F.monotonically_increasing_id().alias("_row_id"),
            F.col("value").alias("_value"),
        )
        .persist()
    )
    blocks = raw.groupBy("_uri", "_block").agg(F.count(F.lit(1)).alias("lines"), F.min("_row_id").alias("first"))
    by_path = {str(f.path.resolve()): f for f in files}
    seen: dict[str, int] = {}
    info = []
    for row in sorted(blocks.collect(), key=lambda r: (r["_uri"], r["_block"])):
        file = by_path[str(Path(unquote(urlparse(row["_uri"]).path)).resolve())]
        before = seen.get(row["_uri"], 0)
        seen[row["_uri"]] = before + row["lines"]
        info.append(
            (
                row["_uri"],
                row["_block"],
                before - row["first"],
                file.scan.encoding,
                file.relative,
                ingested_at,
                file.scan.checksum,
                file.delivery_date,
            )
        )
    value = F.col("_value")
    numbered = raw.join(F.broadcast(spark.createDataFrame(info, FILE_INFO)), ["_uri", "_block"]).select(
        "_source_file",
        (F.col("_row_id") + F.col("_shift") + F.lit(1)).alias("_line_number"),
        "_ingested_at",
        "_file_checksum",
        "_delivery_date",
        decoded(value, F.col("_encoding")).alias(TEXT),
    )
    return numbered, raw


def decoded(value: Column, encoding: Column) -> Column:
    """A line read as UTF-8 by Spark, decoded as its file's encoding (`utf-8`, `latin-1`, `cp1252`)."""
    latin1 = F.decode(value.cast("binary"), "ISO-8859-1")
    return (
        F.when(encoding == "latin-1", latin1)
        .when(encoding == "cp1252", F.translate(latin1, CP1252_FROM, CP1252_TO))
        .otherwise(value)
    )


def _check(field_header: str, kind: str, raw: Column, parsed: Column) -> Column:
    return F.when(
        raw.isNotNull() & parsed.isNull(),
        F.concat(F.lit(f"{field_header}: cannot read '"), raw, F.lit(f"' as {kind}")),
    )


def parse_lines(source: Source, layout: Layout) -> Callable[[DataFrame], DataFrame]:
    """Numbered lines of one header layout -> typed rows of `source` (+ `_cells` for wide sources),
    `_text` and `_reason`, splitting with the source's quoting (`from_csv`).

    The header (line 1) and blank lines are dropped. `_reason` is NULL for a good row, else every
    problem of the row: wrong number of fields, a blank key, or text a parser cannot read.
    """
    quote = source.quote or "\u0000"
    options = {
        "sep": source.separator,
        "quote": quote,
        "escape": quote if source.quote else "\\",
        "mode": "PERMISSIVE",
        "columnNameOfCorruptRecord": "_corrupt",
    }
    schema = ", ".join([f"c{i} STRING" for i in range(layout.width)] + ["_corrupt STRING"])

    def transform(lines: DataFrame) -> DataFrame:
        record = F.from_csv(F.col(TEXT), schema, options)
        months = F.array(
            *[
                F.struct(
                    F.lit(name).alias("column"), F.lit(month).alias("periode"), clean(record[f"c{i}"]).alias("raw")
                )
                for name, i, month in layout.months
            ]
        )
        split = _body(lines).select(
            *LINEAGE_COLUMNS,
            TEXT,
            record["_corrupt"].isNotNull().alias("_corrupt"),
            *[clean(record[f"c{i}"]).alias(f"_c{i}") for i in sorted({i for _, i in layout.positions})],
            *([months.alias(WIDE)] if source.wide else []),
        )
        wrong_width = F.concat(
            F.lit(f"wrong number of fields: expected {layout.width}"),
            F.lit("")
            if source.quote
            else F.concat(F.lit(", got "), F.size(F.split(TEXT, re.escape(source.separator), -1))),
        )
        cells: dict[str, tuple[Column, Column | None]] = {
            f.header: (F.col(f"_c{i}"), None) for f in source.fields if (i := layout.position(f.header)) is not None
        }
        return _typed(source, split, cells, wrong_width)

    return transform


def layout_rows(spark: SparkSession, source: Source, layouts: dict[str, Layout]) -> DataFrame:
    """Per file (`_source_file`, its relative path) of an unquoted source: its width, the position of
    each field's column (`_p<j>`, j in `source.fields` order, NULL when the header lacks it) and its
    month columns (`_months`: column name, 0-based position, month)."""
    fields = [StructField("_source_file", StringType()), StructField("_width", LongType())]
    fields += [StructField(f"_p{j}", LongType()) for j in range(len(source.fields))]
    month = StructType(
        [StructField("column", StringType()), StructField("idx", LongType()), StructField("periode", DateType())]
    )
    fields.append(StructField("_months", ArrayType(month)))
    rows = [
        (
            file,
            layout.width,
            *[layout.position(f.header) for f in source.fields],
            [(name, i, m) for name, i, m in layout.months],
        )
        for file, layout in sorted(layouts.items())
    ]
    return spark.createDataFrame(rows, StructType(fields))


def parse_unquoted(source: Source, layouts: DataFrame) -> Callable[[DataFrame], DataFrame]:
    """Numbered lines of files of any header layouts of an unquoted source -> what `parse_lines` gives
    for each file's layout, in one plan: each line is split on the separator (unquoted, the fields are
    exactly the separator's pieces) and its cells are picked at its file's positions (`layout_rows`)."""
    if source.quote is not None:
        raise ValueError(f"source {source.name} is quoted: its lines are split by parse_lines")

    def transform(lines: DataFrame) -> DataFrame:
        tokens = F.split(F.col(TEXT), re.escape(source.separator), -1)
        months = F.transform(
            "_months",
            lambda m: F.struct(
                m["column"].alias("column"),
                m["periode"].alias("periode"),
                clean(F.get("_tokens", m["idx"].cast("int"))).alias("raw"),
            ),
        )
        body = _body(lines).join(F.broadcast(layouts), "_source_file").withColumn("_tokens", tokens)
        split = body.select(
            *LINEAGE_COLUMNS,
            TEXT,
            "_width",
            "_tokens",
            (F.size("_tokens") != F.col("_width")).alias("_corrupt"),
            *[
                F.when(F.col(f"_p{j}").isNotNull(), clean(F.get("_tokens", F.col(f"_p{j}").cast("int")))).alias(
                    f"_c{j}"
                )
                for j in range(len(source.fields))
            ],
            *([months.alias(WIDE)] if source.wide else []),
            *[f"_p{j}" for j in range(len(source.fields))],  # whether the line's layout has field j
        )
        wrong_width = F.concat(
            F.lit("wrong number of fields: expected "),
            F.col("_width").cast("string"),
            F.lit(", got "),
            F.size("_tokens"),
        )
        cells: dict[str, tuple[Column, Column | None]] = {}
        for j, f in enumerate(source.fields):
            cells.setdefault(f.header, (F.col(f"_c{j}"), F.col(f"_p{j}").isNotNull()))
        return _typed(source, split, cells, wrong_width)

    return transform


def _body(lines: DataFrame) -> DataFrame:
    """Data lines: the header (line 1) and blank lines dropped."""
    return lines.where((F.col("_line_number") > 1) & (F.trim(TEXT) != ""))


def _typed(
    source: Source,
    split: DataFrame,
    cells: dict[str, tuple[Column, Column | None]],
    wrong_width: Column,
) -> DataFrame:
    """Split lines (lineage, `_text`, `_corrupt`, the cells, `_wide`) -> typed fields, `_cells` and
    `_reason`. `cells` gives, per header of the layout, its cleaned text and whether the line's
    layout has it (None: every line's does)."""
    values: dict[str, Column] = {}
    for f in source.fields:
        if (cell := cells.get(f.header)) is None:
            values.setdefault(f.name, F.lit(None).cast(f.parser.data_type))
        else:
            raw, there = cell
            values.setdefault(f.name, f.parser(raw) if there is None else F.when(there, f.parser(raw)))
    split = split.select("*", *[c.alias(f"_v_{n}") for n, c in values.items()])
    checks: dict[tuple[str, str], Column] = {}
    for f in source.fields:
        if (cell := cells.get(f.header)) is not None:
            raw, there = cell
            found: dict[tuple[str, str], Column] = {}
            _add_checks(found, f, raw, F.col(f"_v_{f.name}"), source.value_required(f))
            for key, check in found.items():
                checks.setdefault(key, check if there is None else F.when(there, check))
    for rule in source.rules:
        broken = rule.broken(lambda name: F.col(f"_v_{name}"))
        checks[("rule", rule.reason)] = F.when(F.coalesce(broken, F.lit(False)), F.lit(rule.reason))
    extra: list[Column] = []
    if source.wide:
        wide = source.wide
        split = split.withColumn(
            WIDE,
            F.transform(
                WIDE,
                lambda x: F.struct(
                    x["column"].alias("column"),
                    x["periode"].alias("periode"),
                    x["raw"].alias("raw"),
                    wide.parser(x["raw"]).alias(wide.name),
                ),
            ),
        )
        unread = F.filter(WIDE, lambda x: x["raw"].isNotNull() & x[wide.name].isNull())
        checks[(wide.prefix, wide.parser.kind)] = F.nullif(
            F.concat_ws(
                "; ",
                F.transform(
                    unread,
                    lambda x: F.concat(
                        x["column"], F.lit(": cannot read '"), x["raw"], F.lit(f"' as {wide.parser.kind}")
                    ),
                ),
            ),
            F.lit(""),
        )
        cells_of = F.transform(WIDE, lambda x: F.struct(x["periode"].alias("periode"), x[wide.name].alias(wide.name)))
        extra.append(cells_of.alias(CELLS))
    reason = F.when(F.col("_corrupt"), wrong_width).otherwise(F.nullif(F.concat_ws("; ", *checks.values()), F.lit("")))
    return split.select(
        *[F.col(f"_v_{n}").alias(n) for n in values], *extra, *LINEAGE_COLUMNS, TEXT, reason.alias(REASON)
    )


def _add_checks(
    checks: dict[tuple[str, str], Column], field: Field, raw: Column, parsed: Column, value_required: bool
) -> None:
    """Add the quarantine reasons of one field (once per header and problem)."""
    if value_required:
        checks.setdefault((field.header, "blank"), F.when(raw.isNull(), F.lit(f"{field.header}: blank")))
    if not field.parser.lenient:
        checks.setdefault((field.header, field.parser.kind), _check(field.header, field.parser.kind, raw, parsed))
    if field.minimum is not None:
        checks.setdefault(
            (field.header, "minimum"),
            F.when(
                parsed < F.lit(field.minimum),
                F.concat(F.lit(f"{field.header}: '"), raw, F.lit(f"' is below {field.minimum:g}")),
            ),
        )
    if isinstance(field.parser.data_type, DateType):
        latest = F.add_months(F.col("_delivery_date"), 12 * field.years_after_delivery)
        checks.setdefault(
            (field.header, "date range"),
            F.when(
                (parsed < F.lit(field.earliest)) | (parsed > latest),
                F.concat(
                    F.lit(f"{field.header}: '"),
                    raw,
                    F.lit(
                        f"' is before {field.earliest} or "
                        + (
                            f"more than {field.years_after_delivery} years after the delivery"
                            if field.years_after_delivery
                            else "after the delivery"
                        )
                    ),
                ),
            ),
        )


def to_bronze(source: Source) -> Callable[[DataFrame], DataFrame]:
    """Accepted parsed rows -> bronze rows in `bronze_schema(source)` order (headcount: long form)."""
    schema = bronze_schema(source)

    def transform(parsed: DataFrame) -> DataFrame:
        good = parsed.where(F.col(REASON).isNull())
        if source.wide is None:
            return good.select(*schema.fieldNames())
        ids = [f.name for f in schema.fields if f.name not in ("periode", source.wide.name, *LINEAGE_COLUMNS)]
        long = good.select(*ids, F.inline(CELLS), *LINEAGE_COLUMNS)
        return long.where(F.col(source.wide.name).isNotNull()).select(*schema.fieldNames())

    return transform


QUARANTINE = StructType(
    [
        StructField("source", StringType()),
        StructField("file", StringType()),
        StructField("line", LongType()),
        StructField("raw_text", StringType()),
        StructField("reason", StringType()),
        StructField("checksum", StringType()),
        StructField("delivery_date", DateType()),
        StructField("ingested_at", TimestampType()),
    ]
)


def to_quarantine(source: Source) -> Callable[[DataFrame], DataFrame]:
    """Rejected parsed rows -> `bronze/_quarantine` rows."""

    def transform(parsed: DataFrame) -> DataFrame:
        return parsed.where(F.col(REASON).isNotNull()).select(
            F.lit(source.name).alias("source"),
            F.col("_source_file").alias("file"),
            F.col("_line_number").alias("line"),
            F.col(TEXT).alias("raw_text"),
            F.col(REASON).alias("reason"),
            F.col("_file_checksum").alias("checksum"),
            F.col("_delivery_date").alias("delivery_date"),
            F.col("_ingested_at").alias("ingested_at"),
        )

    return transform


def describe_bronze() -> str:
    """Markdown table of every bronze table: column, type, delivered header and parser."""
    lines = []
    for source in SOURCES:
        origin = {f.name: f"`{f.header}` ({f.parser.kind})" for f in reversed(source.fields)}
        if source.wide:
            origin["periode"] = f"`{source.wide.prefix}<YYYYQM>` header, first day of the month"
            origin[source.wide.name] = f"`{source.wide.prefix}<YYYYQM>` cells ({source.wide.parser.kind})"
        lines += [
            f"### bronze/{source.name} (owner {source.owner}; files {', '.join(source.patterns)})",
            "",
            "| column | type | from |",
            "|---|---|---|",
        ]
        for field in bronze_schema(source).fields:
            lines.append(f"| {field.name} | {field.dataType.simpleString()} | {origin.get(field.name, 'lineage')} |")
        lines.append("")
    return "\n".join(lines)
