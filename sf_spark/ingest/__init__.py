"""Ingestion: every partner delivery under RAW into typed bronze Delta tables (issue 4).

Each source of data-contract.md is described once in `sources.py`; the generic reader
(`reader.py`) turns a description and its files into `bronze/<source>` with lineage columns
(`_source_file` relative to RAW, `_line_number` 1-based with the header on line 1,
`_ingested_at`, `_file_checksum` sha256 of the content, `_delivery_date`).
Rows that cannot be parsed go to `bronze/_quarantine` (source, file, line, raw text, reason);
files with a missing required column or an unknown layout are rejected whole. Every file is
recorded in `bronze/_ingest_log` (`log.py`), which makes runs incremental and idempotent.

Out-of-range codes: a row whose *date or period* cannot be decoded is quarantined with the
column and the text in its reason (e.g. URSSAF period `199904`: quarter 0, month 4; an ISO date
`invalid_date`; a month name that is neither English nor French); so is a row with a blank
business key, a number that is not a number, or a wrong number of fields. Informational codes
are kept as delivered even outside the documented ranges (`Etat_cpte` 4 or 5, `Cd_pro_col` 4,
`Cd_op_ecn` 43 or 63, `MOTIF_RECOURS_SE` 6-7, Sirene states and nomenclatures): filtering them is
a silver-layer decision.

Bronze schemas: `describe_bronze()` renders every source's columns and types as markdown.
"""

from __future__ import annotations

from sf_spark.exports import lazy_exports

EXPORTS = {
    "MissingColumnError": "reader",
    "UnknownLayoutError": "reader",
    "bronze_schema": "reader",
    "IngestSettings": "settings",
    "ingest_raw": "run",
    "SOURCES": "sources",
    "SOURCES_BY_NAME": "sources",
    "Source": "sources",
    "describe_bronze": "reader",
}
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
__all__ = sorted(EXPORTS)
