"""How fresh each source's data is: its latest delivery and the latest month its rows cover.

`ingest` prints the table; `score` refuses a month that a required source does not reach
(`scoring.freshness`), because a missing delivery reads as "no debt, no request" to the model.
The month a row covers is its own date (period, processing date, closing date...) capped at
its delivery date, so that one mistyped future date cannot make a source look fresh.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sf_spark.ingest.sources import SOURCES
from sf_spark.lake import Lake, tables
from sf_spark.months import month_number, parse_month

# source -> the bronze column whose date says which month a row is about
COVERS: dict[str, str] = {
    "urssaf_cotisation": "period_start",
    "urssaf_debit": "processed_date",
    "urssaf_delai": "created_date",
    "urssaf_ccsf": "processed_date",
    "urssaf_procol": "effective_date",
    "urssaf_effectif": "periode",
    "urssaf_effectif_ent": "periode",
    "ap_demande": "status_date",
    "ap_conso": "periode",
    "sirene_ul": "state_start_date",
    "sirene_etab": "state_start_date",
    "bdf_ratios": "closing_date",
    "dgfip_liasses": "fiscal_year_end",
    "dgfip_jugements": "judgment_date",
    "agents_feedback": "rated_on",
    "agents_followup": "started_on",
}


def freshness(lake: Lake) -> list[dict[str, Any]]:
    """Per source: latest delivery date, latest month covered (YYYY-MM) and bronze rows; None when never delivered.
    Scans every bronze table (`updated_freshness` reads only what an ingest appended)."""
    return [source_freshness(lake, source.name) for source in SOURCES]


def source_freshness(lake: Lake, source: str) -> dict[str, Any]:
    """One source's freshness, from the whole of its bronze table."""
    table = tables.bronze(source)
    if not lake.exists(table):
        return never_delivered(source)
    return appended_freshness(lake.read(table), source)


def never_delivered(source: str) -> dict[str, Any]:
    """The freshness of a source without a bronze row."""
    return {"source": source, "latest_delivery": None, "latest_month": None, "rows": 0}


def appended_freshness(bronze_rows: DataFrame, source: str) -> dict[str, Any]:
    """The freshness of some bronze rows of one source (e.g. those an ingest appends)."""
    covered = F.least(F.col(COVERS[source]), F.col("_delivery_date"))
    got = bronze_rows.agg(
        F.max("_delivery_date").alias("delivery"), F.max(covered).alias("month"), F.count(F.lit(1)).alias("rows")
    ).first()
    return {
        "source": source,
        "latest_delivery": got["delivery"].isoformat() if got["delivery"] else None,
        "latest_month": f"{got['month']:%Y-%m}" if got["month"] else None,
        "rows": got["rows"],
    }


def updated_freshness(lake: Lake, appended: dict[str, dict[str, Any] | None]) -> list[dict[str, Any]]:
    """The freshness after an ingest: the saved one, updated per source with what the ingest appended
    (`appended`: source -> the freshness of its appended rows). A source whose appended rows are not
    known exactly (None: some of its files were already in bronze, after a run that stopped before its
    log) is scanned whole; so is every source when no freshness was saved yet."""
    if not lake.exists(tables.FRESHNESS):
        return freshness(lake)
    out = []
    for before in saved_freshness(lake):
        name = before["source"]
        if name not in appended:
            out.append(before)
        elif appended[name] is None:
            out.append(source_freshness(lake, name))
        else:
            new = appended[name]
            latest = {
                k: max(filter(None, (before[k], new[k])), default=None) for k in ("latest_delivery", "latest_month")
            }
            out.append({"source": name, **latest, "rows": before["rows"] + new["rows"]})
    return out


FRESHNESS_SCHEMA = "source string, latest_delivery string, latest_month string, rows long"


def save_freshness(lake: Lake, table: list[dict[str, Any]]) -> int:
    """Keep the freshness table of this ingest in the lake (`bronze/_freshness`), for `score`."""
    rows = [(r["source"], r["latest_delivery"], r["latest_month"], r["rows"]) for r in table]
    return lake.overwrite(lake.spark.createDataFrame(rows, FRESHNESS_SCHEMA).coalesce(1), tables.FRESHNESS)


def saved_freshness(lake: Lake) -> list[dict[str, Any]]:
    """The freshness table the last ingest saved (computed from bronze for a lake ingested before it was kept)."""
    if not lake.exists(tables.FRESHNESS):
        return freshness(lake)
    saved = {r["source"]: r.asDict() for r in lake.read(tables.FRESHNESS).collect()}
    return [saved.get(source.name, never_delivered(source.name)) for source in SOURCES]


def format_freshness(table: list[dict[str, Any]]) -> str:
    """The freshness table as fixed-width lines."""
    lines = [f"{'source':<22}{'latest delivery':>17}{'latest month':>14}{'bronze rows':>14}"]
    for r in table:
        lines.append(f"{r['source']:<22}{r['latest_delivery'] or '-':>17}{r['latest_month'] or '-':>14}{r['rows']:>14}")
    return "\n".join(lines)


def months_behind(latest_month: str | None, month: dt.date) -> int | None:
    """Months from a source's latest covered month to `month` (None when the source never delivered)."""
    if latest_month is None:
        return None
    return month_number(month) - month_number(parse_month(latest_month[:7]))


def stale_sources(table: list[dict[str, Any]], month: dt.date, max_lag: dict[str, int]) -> list[str]:
    """Reasons for every source of `max_lag` whose latest covered month is more than its lag before `month`."""
    by_name = {r["source"]: r for r in table}
    reasons = []
    for name, lag in sorted(max_lag.items()):
        if name not in by_name:
            raise ValueError(f"scoring.freshness names an unknown source {name!r}")
        behind = months_behind(by_name[name]["latest_month"], month)
        if behind is None:
            reasons.append(f"source {name}: never delivered")
        elif behind > lag:
            reasons.append(
                f"source {name}: latest month covered {by_name[name]['latest_month']} is {behind} months before "
                f"{month:%Y-%m} (at most {lag} allowed)"
            )
    return reasons
