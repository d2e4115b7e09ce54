"""Canonical inputs of the feature step, and how they are read from bronze.

`CANONICAL` is the schema every silver builder relies on (one place). `from_bronze` selects
and renames bronze columns onto it, so a change of bronze naming touches only `BRONZE`.

Delivery semantics: bronze keeps every delivered row with its lineage; what the features see
is, per business key of the source (`Source.keys`), the rows of the latest delivery carrying
that key (deliveries ordered by delivery date, then ingestion time, then file path). A
re-delivery, identical or corrected, therefore replaces the earlier rows instead of adding to
them; a key that a later delivery omits keeps its last delivered rows.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from sf_spark.ingest.sources import SOURCES_BY_NAME
from sf_spark.lake import Lake, tables

DELIVERY_ORDER = ("_delivery_date", "_ingested_at", "_source_file")

CANONICAL: dict[str, str] = {
    "debit": "siret string, account string, period_start date, debt_number string, history_number int, "
    "recorded_on date, employee_share_eur double, employer_share_eur double",
    "cotisation": "siret string, period_start date, period_end date, contribution_due_eur double, collected_eur double",
    "headcount_siren": "siren string, periode date, headcount int, delivery_date date, line_number long",
    "headcount_siret": "siret string, periode date, headcount int, delivery_date date, line_number long",
    "ap_requests": "request_id string, siret string, decided_on date, starts_on date, ends_on date, "
    "hours_authorised double, reason int",
    "ap_consumption": "request_id string, siret string, periode date, hours_consumed double",
    "payment_plans": "siret string, created_on date, due_on date, duration_days int, plan_amount_eur double",
    "ccsf": "siret string, processed_on date, stage string",
    "tax_returns": "siren string, closed_on date, delivery_date date, turnover_eur double, ebitda_eur double, "
    "value_added_eur double, net_debt_eur double, self_financing_capacity_eur double, "
    "working_capital_requirement_eur double, cash_eur double, operating_current_assets_eur double, "
    "operating_current_liabilities_eur double, supplier_payment_days double, "
    "client_payment_days double, employees double, staff_costs_eur double, equity_eur double, "
    "share_capital_eur double",
    "bdf_ratios": "siren string, closed_on date, delivery_date date, working_capital_weight double, "
    "margin_rate double, supplier_delay_days double, tax_social_debt_weight double, "
    "short_term_financing_weight double, financial_charges_weight double",
    "legal_units": "siren string, created_on date, state string, state_since date, legal_category string, "
    "naf string, delivery_date date, line_number long, name string",
    "establishments": "siren string, siret string, created_on date, is_head_office boolean, commune_code string, "
    "state string, state_since date, delivery_date date, line_number long",
    "procol": "siren string, effective_on date, procedure string, stage string",
    "judgments": "siren string, judged_on date, code string",
    "ratings": "siren string, list_month date, rated_on date, rating string, reason string, profile string, "
    "departement string, delivery_date date, line_number long",
    "followups": "siren string, started_on date, ended_on date, stage string, measures string, "
    "departement string, delivery_date date, line_number long",
}

LINEAGE = {"delivery_date": "_delivery_date", "line_number": "_line_number"}

# canonical input -> (bronze table, {canonical column: bronze column or SQL expression}); a
# canonical column absent from the mapping has the same name in bronze.
BRONZE: dict[str, tuple[str, dict[str, str]]] = {
    "debit": ("urssaf_debit", {"account": "compte", "recorded_on": "processed_date"}),
    "cotisation": ("urssaf_cotisation", {}),
    "headcount_siren": ("urssaf_effectif_ent", LINEAGE),
    "headcount_siret": ("urssaf_effectif", LINEAGE),
    "ap_requests": (
        "ap_demande",
        {
            "decided_on": "status_date",
            "starts_on": "start_date",
            "ends_on": "end_date",
            "hours_authorised": "authorised_hours",
            "reason": "reason_code",
        },
    ),
    "ap_consumption": ("ap_conso", {"hours_consumed": "consumed_hours"}),
    "payment_plans": ("urssaf_delai", {"created_on": "created_date", "due_on": "due_date"}),
    "ccsf": ("urssaf_ccsf", {"processed_on": "processed_date"}),
    "tax_returns": ("dgfip_liasses", {"closed_on": "fiscal_year_end", **LINEAGE}),
    "bdf_ratios": ("bdf_ratios", {"closed_on": "closing_date", **LINEAGE}),
    "legal_units": (
        "sirene_ul",
        {
            "created_on": "created_date",
            "state": "administrative_state",
            "state_since": "state_start_date",
            "naf": "activity_code",
            **LINEAGE,
        },
    ),
    "establishments": (
        "sirene_etab",
        {"created_on": "created_date", "state": "administrative_state", "state_since": "state_start_date", **LINEAGE},
    ),
    "procol": ("urssaf_procol", {"effective_on": "effective_date"}),
    "judgments": ("dgfip_jugements", {"judged_on": "judgment_date", "code": "judgment_code"}),
    "ratings": ("agents_feedback", LINEAGE),
    "followups": ("agents_followup", LINEAGE),
}


def empty(spark: SparkSession, name: str) -> DataFrame:
    """An empty frame of a canonical input (for sources without deliveries yet)."""
    return spark.createDataFrame([], CANONICAL[name])


def from_bronze(lake: Lake, name: str) -> DataFrame:
    """A canonical input read from its bronze table (empty if the source has no table yet)."""
    table, mapping = BRONZE[name]
    if not lake.exists(tables.bronze(table)):
        return empty(lake.spark, name)
    bronze = latest_delivery(lake.read(tables.bronze(table)), SOURCES_BY_NAME[table].keys)
    schema = lake.spark.createDataFrame([], CANONICAL[name]).schema
    return bronze.select(
        *[F.expr(mapping.get(field.name, field.name)).cast(field.dataType).alias(field.name) for field in schema]
    )


def latest_delivery(bronze: DataFrame, keys: tuple[str, ...] | list[str]) -> DataFrame:
    """Per business key, only the bronze rows of the latest delivery (file) that carries the key."""
    newest = F.max(F.struct(*DELIVERY_ORDER)).over(Window.partitionBy(*keys))
    return bronze.withColumn("_newest", newest).where(F.struct(*DELIVERY_ORDER) == F.col("_newest")).drop("_newest")
