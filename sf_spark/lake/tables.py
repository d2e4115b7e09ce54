"""Every table of the lake, named once.

Three layers, each written by one step from the layer before it (`LAYER_READS`, checked by a test):

- bronze, written by ingest from the deliveries: one table per source (`bronze(<source>)`, the
  sources of `sf_spark.ingest.sources`), the ingest log, the quarantine and the sources' freshness
  (which score reads to refuse a month the deliveries do not reach);
- silver, written by features from bronze: one table per subject (`SILVER`), deduplicated, typed
  and point-in-time (each row says from when it is known);
- gold, written by features (the panel, the firms' names, the agents' ratings and follow-ups) and by
  score (the month's scores, the firms listed apart, the drift): what models, scoring and the agents'
  lists read.

Notebooks (`sf_spark.explore`) may read every layer; the pipeline's steps may not.
"""

from __future__ import annotations

BRONZE, SILVER_LAYER, GOLD = "bronze", "silver", "gold"

INGEST_LOG = "bronze/_ingest_log"
QUARANTINE = "bronze/_quarantine"
FRESHNESS = "bronze/_freshness"  # per source, its latest delivery and month covered, as the last ingest saw them

SILVER = (
    "debt_monthly",
    "contributions_monthly",
    "headcount_monthly",
    "partial_activity_monthly",
    "payment_plans_monthly",
    "ccsf_events",
    "accounts_dgfip",
    "accounts_bdf",
    "firms",
    "establishment_events",
    "proceedings",
    "agents_ratings",
    "agents_followups",
)

FEATURES = "gold/features"
FIRMS = "gold/firms"
AGENTS_RATINGS = "gold/agents_ratings"  # the agents' ratings and follow-ups, as the lists and reports read them
AGENTS_FOLLOWUPS = "gold/agents_followups"
SCORES = "gold/scores"
STRONG_SIGNALS = "gold/strong_signals"
DRIFT = "gold/drift"
GOLD_TABLES = (FEATURES, FIRMS, AGENTS_RATINGS, AGENTS_FOLLOWUPS, SCORES, STRONG_SIGNALS, DRIFT)

# What each step of the pipeline reads and writes, by layer.
LAYER_READS = {"ingest": (), "features": (BRONZE, SILVER_LAYER), "train": (GOLD,), "score": (GOLD,)}


def bronze(source: str) -> str:
    """The bronze table of one source."""
    return f"{BRONZE}/{source}"


def silver(name: str) -> str:
    """The silver table `name` (one of `SILVER`)."""
    if name not in SILVER:
        raise ValueError(f"no silver table {name!r}; the silver tables are {', '.join(SILVER)}")
    return f"{SILVER_LAYER}/{name}"


def layer(table: str) -> str:
    """The layer of a table name: bronze, silver or gold."""
    head = table.split("/", 1)[0]
    if head not in (BRONZE, SILVER_LAYER, GOLD):
        raise ValueError(f"{table!r} is not a table of the lake (bronze/..., silver/... or gold/...)")
    return head
