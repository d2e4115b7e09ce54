"""Assemble silver tables and the gold panel from canonical source frames.

`silver_tables` and `assemble_panel` take plain DataFrames (the canonical columns documented
in `sf_spark.features.silver`), so tests and notebooks can run them on hand-written rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sf_spark.features import panel, silver
from sf_spark.features.settings import FeatureSettings

if TYPE_CHECKING:
    from sf_spark.config import ScopeSettings


@dataclass(frozen=True)
class Calendar:
    """Months of the panel (first days, YYYY-MM-DD) and the end of known judgments."""

    first_month: str
    last_month: str
    judgments_known_until: str


def silver_tables(src: dict[str, DataFrame], calendar: Calendar, settings: FeatureSettings) -> dict[str, DataFrame]:
    """Every silver table, keyed by its lake name under `silver/`."""
    return {
        "debt_monthly": silver.debt_by_siret_month(src["debit"], calendar.last_month),
        "contributions_monthly": silver.contributions_by_month(src["cotisation"]),
        "headcount_monthly": silver.headcount_by_siren_month(src["headcount_siren"], src["headcount_siret"]),
        "partial_activity_monthly": silver.partial_activity_by_month(src["ap_requests"], src["ap_consumption"]),
        "payment_plans_monthly": silver.payment_plans_by_month(src["payment_plans"]),
        "ccsf_events": silver.ccsf_events(src["ccsf"]),
        "accounts_dgfip": silver.usable_accounts(
            src["tax_returns"], settings.dgfip_publication_lag_months, list(panel.DGFIP_FIELDS)
        ),
        "accounts_bdf": silver.usable_accounts(
            src["bdf_ratios"], settings.bdf_publication_lag_months, list(panel.BDF_FIELDS)
        ),
        "firms": silver.firms(src["legal_units"], src["establishments"]),
        "establishment_events": silver.establishment_events(src["establishments"]),
        "proceedings": silver.proceedings(src["procol"], src["judgments"]),
        "agents_ratings": silver.agents_ratings(src["ratings"]),
        "agents_followups": silver.agents_followups(src["followups"]),
    }


def _clamped_latest(
    events: DataFrame, bounds: DataFrame, month: str, order: Column, value: Column, name: str
) -> DataFrame:
    """State events moved to the firm's first panel month when earlier; the latest one per month kept."""
    moved = events.join(bounds, "siren").select(
        "siren",
        F.greatest(F.col(month), F.col("first_month")).alias("periode"),
        order.alias("_order"),
        value.alias(name),
    )
    return moved.transform(silver.latest_per(["siren", "periode"], F.col("_order").desc())).drop("_order")


def assemble_panel(tables: dict[str, DataFrame], calendar: Calendar, scope: ScopeSettings) -> DataFrame:
    """The gold panel: in-scope (siren, periode) rows with every feature, the strong signal and labels."""
    grid = panel.panel_grid(tables["firms"], calendar.first_month, calendar.last_month)
    bounds = grid.select("siren", "first_month").distinct()
    keys = ["siren", "periode"]
    debt = (
        tables["debt_monthly"]
        .groupBy(*keys)
        .agg(
            F.sum("arrears_employee_eur").alias("arrears_employee_eur"),
            F.sum("arrears_employer_eur").alias("arrears_employer_eur"),
            F.lit(True).alias("arrears_seen"),
        )
    )
    contributions = (
        tables["contributions_monthly"].groupBy(*keys).agg(F.sum("contribution_due_eur").alias("contribution_due_eur"))
    )
    dgfip, bdf = tables["accounts_dgfip"], tables["accounts_bdf"]
    accounts_dgfip = _clamped_latest(
        dgfip,
        bounds,
        "usable_from",
        F.col("closed_on"),
        F.struct(*[c for c in dgfip.columns if c != "siren"]),
        "dgfip",
    )
    accounts_bdf = _clamped_latest(
        bdf, bounds, "usable_from", F.col("closed_on"), F.struct(*[c for c in bdf.columns if c != "siren"]), "bdf"
    )
    ccsf = tables["ccsf_events"]
    ccsf = _clamped_latest(
        ccsf.withColumn("_when", F.col("periode")),
        bounds,
        "_when",
        F.col("periode"),
        F.col("ccsf_stage"),
        "ccsf_stage",
    ).drop("_when")
    establishments = (
        tables["establishment_events"]
        .join(bounds, "siren")
        .groupBy("siren", F.greatest("periode", "first_month").alias("periode"))
        .agg(F.sum("establishments_change").alias("establishments_change"))
    )
    joined = grid.withColumnRenamed("closed_on", "firm_closed_on")
    for part in (
        debt,
        contributions,
        tables["headcount_monthly"],
        tables["partial_activity_monthly"],
        tables["payment_plans_monthly"],
        ccsf,
        establishments,
        accounts_dgfip,
        accounts_bdf,
    ):
        joined = joined.join(part, keys, "left")
    joined = joined.join(
        tables["proceedings"].withColumnRenamed("closed_on", "proceedings_closed_on"), "siren", "left"
    ).withColumn("arrears_seen", F.coalesce("arrears_seen", F.lit(False)))

    identity = [
        "siren",
        "periode",
        "month_idx",
        "created_on",
        "naf",
        "legal_category",
        "departement",
        "first_opening_on",
        "proceedings_closed_on",
    ]
    state = joined.select(*identity, *panel.state_columns())
    state = state.withColumn("arrears_total", F.col("arrears_employee_eur") + F.col("arrears_employer_eur"))
    state = state.withColumn(panel.ARREARS_RISE, panel.arrears_rise())

    history_features = [d for family in panel.HISTORY_FAMILIES for d in family()]
    max_headcount = panel._over(F.max("headcount_reported"), scope.headcount_lookback_months)
    history = state.select(
        "siren",
        "periode",
        "first_opening_on",
        "proceedings_closed_on",
        *[d.column() for d in history_features],
        max_headcount.alias("_max_headcount"),
    )
    in_scope = (F.col("_max_headcount") >= scope.min_headcount) & F.coalesce(
        ~F.col("naf_section").isin(*scope.excluded_naf_sections), F.lit(True)
    )
    for prefix in scope.excluded_legal_category_prefixes:
        in_scope &= F.coalesce(~F.col("legal_category").startswith(prefix), F.lit(True))
    scoped = history.where(in_scope)
    scoped = scoped.join(panel.followup_from(tables["agents_followups"], scoped), keys, "left")
    return scoped.select(
        "siren",
        "periode",
        *[d.feature.name for d in history_features],
        *[d.column() for d in panel.sector_features()],
        panel.in_proceedings().alias("in_proceedings"),
        *panel.labels(calendar.judgments_known_until),
        "followup_from",
        *panel.help_censored(),
    )
