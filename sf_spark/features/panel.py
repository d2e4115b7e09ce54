"""The monthly firm panel `gold/features`: point-in-time features and 12/18/24-month labels.

Built in three window passes over (siren, calendar month), each one sort:

1. *state*: forward-fill what is known at m (headcount, accounts usable at m, CCSF stage,
   latest partial-activity reason, number of establishments) and the month's amounts;
2. *history*: lags, differences, rolling sums and means over calendar-month ranges
   (`rangeBetween(-k, -k)` is the value of month m-k or null, never an older row);
3. *sector*: percentiles within NAF division x size band at the same month.

Labels look forward by design; nothing else does.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from sf_spark.features.catalogue import Declared, Feature
from sf_spark.features.geography import naf_division, naf_section, region
from sf_spark.features.months import by_firm_month, month_index, month_range

FULL_TIME_MONTH_HOURS = 151.67
HORIZONS = (12, 18, 24)
LAGS = (1, 2, 3, 6, 12)
HEADCOUNT_SPANS = (3, 6, 12, 24)
FLOW_SPANS = (1, 3, 6)
ARREARS_RISE = "arrears_rise"
SIZE_BANDS = ((0, 9, "0-9"), (10, 19, "10-19"), (20, 49, "20-49"), (50, 249, "50-249"), (250, None, "250+"))

# Accounts fields carried from silver (DGFiP tax returns and Banque de France ratios).
DGFIP_FIELDS = (
    "turnover_eur",
    "ebitda_eur",
    "value_added_eur",
    "net_debt_eur",
    "self_financing_capacity_eur",
    "working_capital_requirement_eur",
    "cash_eur",
    "operating_current_assets_eur",
    "operating_current_liabilities_eur",
    "supplier_payment_days",
    "client_payment_days",
    "employees",
    "staff_costs_eur",
    "equity_eur",
    "share_capital_eur",
)
BDF_FIELDS = (
    "working_capital_weight",
    "margin_rate",
    "supplier_delay_days",
    "tax_social_debt_weight",
    "short_term_financing_weight",
    "financial_charges_weight",
)

URSSAF_RULE = "debt states from their effective month (20th-day rule); contributions from their period"


def _ratio(numerator: Column, denominator: Column) -> Column:
    return F.when(denominator.isNotNull() & (denominator != 0), numerator / denominator)


def _at(col: str, months: int) -> Column:
    """Value of `col` exactly `months` calendar months before (null when that month has no row)."""
    return F.max(col).over(by_firm_month().rangeBetween(-months, -months))


def _over(agg: Column, months: int) -> Column:
    """An aggregate over the `months` calendar months ending at m (m included)."""
    return agg.over(by_firm_month().rangeBetween(-(months - 1), 0))


def _up_to_now(agg: Column) -> Column:
    return agg.over(by_firm_month().rangeBetween(Window.unboundedPreceding, 0))


def _family(family: str, topic: str, sources: tuple[str, ...], rule: str) -> Callable[..., Declared]:
    """The declaration helper of one family of features: `feature(name, unit, description, expr)` declares
    one, what it is (the catalogue's entry) and the expression that computes it; its topic, sources and
    point-in-time rule are the family's unless given by keyword."""

    def feature(
        name: str,
        unit: str,
        description: str,
        expr: Column,
        *,
        topic: str = topic,
        sources: tuple[str, ...] = sources,
        rule: str = rule,
    ) -> Declared:
        return Declared(Feature(name, family, topic, unit, sources, rule, description), expr)

    return feature


def size_band(headcount: Column) -> Column:
    expr = F.lit(None).cast("string")
    for low, high, label in reversed(SIZE_BANDS):
        inside = headcount >= low if high is None else headcount.between(low, high)
        expr = F.when(inside, F.lit(label)).otherwise(expr)
    return expr


# --- pass 1: the state known at m -------------------------------------------------------------


def state_columns() -> list[Column]:
    """Base columns of month m, forward-filled from what was known up to m."""
    last = lambda c: _up_to_now(F.last(c, ignorenulls=True))  # noqa: E731
    arrears_known = _up_to_now(F.max(F.col("contribution_due_eur").isNotNull() | F.col("arrears_seen")))
    return [
        F.when(arrears_known, F.coalesce("arrears_employee_eur", F.lit(0.0))).alias("arrears_employee_eur"),
        F.when(arrears_known, F.coalesce("arrears_employer_eur", F.lit(0.0))).alias("arrears_employer_eur"),
        F.when(arrears_known, F.coalesce("contribution_due_eur", F.lit(0.0))).alias("contribution_due_eur"),
        last("headcount").alias("headcount"),
        last(F.when(F.col("headcount").isNotNull(), F.col("month_idx"))).alias("headcount_month_idx"),
        F.col("headcount").alias("headcount_reported"),
        F.coalesce("hours_authorised", F.lit(0.0)).alias("hours_authorised"),
        F.coalesce("hours_consumed", F.lit(0.0)).alias("hours_consumed"),
        last("reason").alias("ap_reason"),
        "plan_amount_eur",
        "plan_remaining_days",
        "plan_expected_remaining_eur",
        last("ccsf_stage").alias("ccsf_stage"),
        last(F.when(F.col("ccsf_stage").isNotNull(), F.col("month_idx"))).alias("ccsf_month_idx"),
        _up_to_now(F.sum(F.coalesce("establishments_change", F.lit(0)))).alias("establishments_count"),
        last("dgfip").alias("dgfip"),
        last("bdf").alias("bdf"),
    ]


def arrears_rise() -> Column:
    """The month's rise of the arrears over the previous calendar month (0 when they fell or stayed, or
    when the previous month has no row); computed on the state before the history pass."""
    return F.greatest(F.col("arrears_total") - _at("arrears_total", 1), F.lit(0.0))  # greatest skips nulls


# --- pass 2: features over calendar-month history ---------------------------------------------


def social_features() -> list[Declared]:
    fam, topic, src = "social_contributions", "social_debt", ("urssaf",)
    arrears = F.col("arrears_employee_eur") + F.col("arrears_employer_eur")
    mean_12 = _over(F.avg("contribution_due_eur"), 12)

    def change(k: int) -> Column:
        return arrears - _at("arrears_total", k)

    feature = _family(fam, topic, src, URSSAF_RULE)
    declared = [
        feature(
            "contribution_due_eur",
            "EUR/month",
            "social contributions due for the month (periods spread evenly over their months)",
            F.col("contribution_due_eur"),
        ),
        feature(
            "contribution_due_mean_12m",
            "EUR/month",
            "mean monthly contribution due over the 12 months ending at m",
            mean_12,
        ),
        feature("arrears_employee_eur", "EUR", "outstanding employee-share arrears", F.col("arrears_employee_eur")),
        feature("arrears_employer_eur", "EUR", "outstanding employer-share arrears", F.col("arrears_employer_eur")),
        feature("arrears_total_eur", "EUR", "outstanding arrears, both shares", arrears),
        feature(
            "arrears_to_contribution_12m",
            "months",
            "arrears / mean monthly contribution over 12 months",
            _ratio(arrears, mean_12),
        ),
        feature(
            "arrears_per_employee_eur",
            "EUR/employee",
            "arrears per employee (latest known headcount)",
            _ratio(arrears, F.col("headcount")),
            sources=("urssaf",),
        ),
        feature(
            "arrears_months_12m",
            "months",
            "months with arrears among the last 12",
            _over(F.sum((F.col("arrears_total") > 0).cast("int")), 12),
        ),
        feature(
            "arrears_episode_months",
            "months",
            "months since the first arrears of the current episode (0 without arrears)",
            F.when(
                F.col("arrears_total") > 0,
                F.col("month_idx")
                - F.coalesce(
                    _up_to_now(F.max(F.when(F.col("arrears_total") <= 0, F.col("month_idx")))),
                    _up_to_now(F.min("month_idx")) - 1,
                ),
            ).otherwise(0),
        ),
    ]
    for k in FLOW_SPANS:
        declared.append(
            feature(
                f"arrears_flow_to_contribution_{k}m",
                "months",
                f"net arrears change since month m-{k} / mean monthly contribution over 12 months",
                _ratio(change(k), mean_12),
            )
        )
    declared += [
        feature(
            f"arrears_rise_to_contribution_{k}m",
            "months",
            f"new arrears over the {k} months ending at m (sum of the monthly rises) / mean monthly "
            f"contribution over 12 months",
            _ratio(_over(F.sum(ARREARS_RISE), k), mean_12),
        )
        for k in (3, 6)
    ]
    declared += [
        feature(
            "arrears_rise_months_6m",
            "months",
            "months whose arrears rose, among the last 6",
            _over(F.sum((F.col(ARREARS_RISE) > 0).cast("int")), 6),
        ),
        feature(
            "arrears_volatility_12m",
            "months",
            "standard deviation of the arrears over the 12 months ending at m / mean monthly contribution",
            _ratio(_over(F.stddev_samp("arrears_total"), 12), mean_12),
        ),
    ]
    for k in LAGS:
        declared += [
            feature(
                f"arrears_total_lag_{k}m",
                "EUR",
                f"arrears of the calendar month m-{k} (null if the firm had no row then)",
                _at("arrears_total", k),
            ),
            feature(f"arrears_total_diff_{k}m", "EUR", f"arrears change since month m-{k}", change(k)),
        ]
    return declared


def plan_features() -> list[Declared]:
    fam, topic, src = "payment_plans", "payment_plans", ("urssaf",)
    rule = "plans from their creation date; CCSF from its processing date"
    active = F.col("plan_amount_eur").isNotNull()
    feature = _family(fam, topic, src, rule)
    return [
        feature("payment_plan_active", "0/1", "a payment plan is running at m", active.cast("int")),
        feature("payment_plan_amount_eur", "EUR", "total amount of running plans", F.col("plan_amount_eur")),
        feature(
            "payment_plan_remaining_days",
            "days",
            "days from the end of m to the plan's due date",
            F.col("plan_remaining_days"),
        ),
        feature(
            "payment_plan_deviation_eur",
            "EUR",
            "arrears minus what a linear repayment of the plan would leave (positive: behind)",
            F.when(active, F.col("arrears_total") - F.col("plan_expected_remaining_eur")),
        ),
        feature(
            "ccsf_stage",
            "code",
            "latest creditors' committee stage: 1 DEBUT, 2 APPROB, 3 REFUS, 4 REJ, 5 FIN",
            F.col("ccsf_stage"),
        ),
        feature(
            "months_since_ccsf",
            "months",
            "months since the latest CCSF event",
            F.col("month_idx") - F.col("ccsf_month_idx"),
        ),
    ]


def headcount_features() -> list[Declared]:
    fam, topic, src = "headcount", "employment", ("urssaf",)
    rule = "headcount of months <= m as delivered (latest delivery of each month)"
    feature = _family(fam, topic, src, rule)
    declared = [
        feature("headcount", "employees", "latest known headcount of the company", F.col("headcount")),
        feature(
            "months_since_headcount",
            "months",
            "age of the latest known headcount",
            F.col("month_idx") - F.col("headcount_month_idx"),
        ),
    ]
    for k in HEADCOUNT_SPANS:
        before = _at("headcount", k)
        declared += [
            feature(
                f"headcount_change_{k}m",
                "employees",
                f"headcount change since month m-{k}",
                F.col("headcount") - before,
            ),
            feature(
                f"headcount_change_rel_{k}m",
                "ratio",
                f"relative headcount change since month m-{k}",
                _ratio(F.col("headcount") - before, before),
            ),
        ]
    return declared


def partial_activity_features() -> list[Declared]:
    fam, topic, src = "partial_activity", "partial_activity", ("dgefp",)
    rule = "authorisations from their decision month; consumption from its month"
    capacity = F.col("headcount") * F.lit(FULL_TIME_MONTH_HOURS)
    authorised_12 = _over(F.sum("hours_authorised"), 12)
    consumed_12 = _over(F.sum("hours_consumed"), 12)
    feature = _family(fam, topic, src, rule)
    return [
        feature("ap_hours_authorised", "hours", "partial-activity hours authorised for m", F.col("hours_authorised")),
        feature("ap_hours_consumed", "hours", "partial-activity hours consumed in m", F.col("hours_consumed")),
        feature("ap_hours_authorised_12m", "hours", "hours authorised over 12 months", authorised_12),
        feature("ap_hours_consumed_12m", "hours", "hours consumed over 12 months", consumed_12),
        feature(
            "ap_authorised_share",
            "ratio",
            "hours authorised / full-time capacity (headcount x 151.67 h)",
            _ratio(F.col("hours_authorised"), capacity),
            sources=("dgefp", "urssaf"),
        ),
        feature(
            "ap_consumed_share",
            "ratio",
            "hours consumed / full-time capacity",
            _ratio(F.col("hours_consumed"), capacity),
            sources=("dgefp", "urssaf"),
        ),
        feature(
            "ap_consumed_share_12m",
            "ratio",
            "hours consumed over 12 months / 12 months of capacity",
            _ratio(consumed_12, capacity * 12),
            sources=("dgefp", "urssaf"),
        ),
        feature(
            "ap_latest_reason",
            "code",
            "reason of the latest request: 1 downturn, 2 supply, 3 disaster, 4 restructuring, 5 other",
            F.col("ap_reason"),
        ),
    ]


def financial_features() -> list[Declared]:
    fam, topic = "financial_ratios", "financial_health"
    rule = "accounts from closing month + publication lag (7 months by default)"
    dgfip, bdf = ("dgfip",), ("bdf",)

    def d(field: str, previous: bool = False) -> Column:
        return F.col(f"dgfip.{'prev_' if previous else ''}{field}")

    def b(field: str, previous: bool = False) -> Column:
        return F.col(f"bdf.{'prev_' if previous else ''}{field}")

    ratios = {
        "ebitda_to_turnover": lambda p: _ratio(d("ebitda_eur", p), d("turnover_eur", p)),
        "net_debt_to_caf": lambda p: _ratio(d("net_debt_eur", p), d("self_financing_capacity_eur", p)),
        "liquidity_ratio": lambda p: _ratio(
            d("operating_current_assets_eur", p), d("operating_current_liabilities_eur", p)
        ),
        "equity_to_share_capital": lambda p: _ratio(d("equity_eur", p), d("share_capital_eur", p)),
        "staff_costs_to_value_added": lambda p: _ratio(d("staff_costs_eur", p), d("value_added_eur", p)),
        "value_added_per_employee_eur": lambda p: _ratio(d("value_added_eur", p), d("employees", p)),
        "working_capital_requirement_eur": lambda p: d("working_capital_requirement_eur", p),
        "cash_eur": lambda p: d("cash_eur", p),
        "supplier_payment_days": lambda p: d("supplier_payment_days", p),
        "client_payment_days": lambda p: d("client_payment_days", p),
    }
    feature = _family(fam, topic, dgfip, rule)
    declared = [
        feature("turnover_eur", "EUR", "turnover of the latest usable accounts", d("turnover_eur")),
        feature(
            "turnover_growth",
            "ratio",
            "turnover change on the previous accounts",
            _ratio(d("turnover_eur") - d("turnover_eur", True), F.abs(d("turnover_eur", True))),
        ),
        feature(
            "accounts_age_months",
            "months",
            "months from the closing of the latest usable tax return to m",
            F.col("month_idx") - month_index(F.col("dgfip.closed_on")),
        ),
        feature(
            "bdf_accounts_age_months",
            "months",
            "months from the closing of the latest usable Banque de France ratios to m",
            F.col("month_idx") - month_index(F.col("bdf.closed_on")),
            sources=bdf,
        ),
    ]
    for name, ratio in ratios.items():
        declared += [
            feature(
                name,
                "ratio" if "_eur" not in name and "days" not in name else ("EUR" if "_eur" in name else "days"),
                f"{name.replace('_', ' ')} (tax return)",
                ratio(False),
            ),
            feature(
                f"{name}_yoy",
                "change",
                f"{name.replace('_', ' ')}: change on the previous accounts",
                ratio(False) - ratio(True),
            ),
        ]
    for field in BDF_FIELDS:
        declared += [
            feature(
                f"bdf_{field}",
                "days" if "days" in field else "%",
                f"Banque de France {field.replace('_', ' ')}",
                b(field),
                sources=bdf,
            ),
            feature(
                f"bdf_{field}_yoy",
                "change",
                f"Banque de France {field.replace('_', ' ')}: change on the previous year",
                b(field) - b(field, True),
                sources=bdf,
            ),
        ]
    return declared


def identity_features() -> list[Declared]:
    fam, topic = "identity", "identity"
    rule = "Sirene dates: created before m, open at m"
    feature = _family(fam, topic, ("insee",), rule)
    return [
        feature(
            "firm_age_months",
            "months",
            "months since the firm's creation",
            F.col("month_idx") - month_index(F.col("created_on")),
        ),
        feature("naf_section", "code", "NAF rev.2 section (A-U)", naf_section(F.col("naf"))),
        feature("naf_division", "code", "NAF rev.2 division (2 digits)", naf_division(F.col("naf"))),
        feature("region", "code", "INSEE region of the head office", region(F.col("departement"))),
        feature("departement", "code", "département of the head office", F.col("departement")),
        feature("legal_category", "code", "legal category (4 characters)", F.col("legal_category")),
        feature("establishments_count", "count", "establishments open at m", F.col("establishments_count")),
        feature(
            "size_band",
            "band",
            "headcount band: 0-9, 10-19, 20-49, 50-249, 250+",
            size_band(F.col("headcount")),
            topic="employment",
            sources=("urssaf",),
            rule="latest known headcount",
        ),
    ]


HISTORY_FAMILIES = (
    social_features,
    plan_features,
    headcount_features,
    partial_activity_features,
    financial_features,
    identity_features,
)

# --- pass 3: position within the sector -------------------------------------------------------

PEER_GROUP_SOURCES = ("insee", "urssaf")  # NAF division from Sirene, size band from URSSAF headcount
SECTOR_RELATIVE = {
    "arrears_to_contribution_12m": ("urssaf",),
    "headcount_change_rel_12m": ("urssaf",),
    "ebitda_to_turnover": ("dgfip",),
    "ap_consumed_share_12m": ("dgefp", "urssaf"),
}


def sector_features() -> list[Declared]:
    peers = Window.partitionBy("periode", "naf_division", "size_band")
    declared = []
    feature = _family("sector_relative", "sector", PEER_GROUP_SOURCES, "same month, NAF division x size band")
    for name, sources in SECTOR_RELATIVE.items():
        ranked = F.percent_rank().over(peers.orderBy(F.col(name).asc_nulls_first()))
        known = F.count(name).over(peers)
        nulls = F.count(F.lit(1)).over(peers) - known
        # percent_rank over non-null values only: shift the ranks past the nulls sorted first.
        position = _ratio(ranked * (F.count(F.lit(1)).over(peers) - 1) - nulls, known - 1)
        declared.append(
            feature(
                f"{name}_sector_pct",
                "percentile",
                f"percentile of {name} among firms of the same NAF division and size band at m",
                F.when(F.col(name).isNotNull(), position),
                sources=tuple(sorted({*sources, *PEER_GROUP_SOURCES})),
            )
        )
    return declared


def declared_catalogue() -> list[Feature]:
    """Every feature of `gold/features` as declared here, in column order (the declarations build Spark
    columns: an active Spark session is needed). Readers use `catalogue.feature_catalogue`, its copy as data."""
    return [d.feature for family in (*HISTORY_FAMILIES, sector_features) for d in family()]


# --- assembly ---------------------------------------------------------------------------------


def panel_grid(firms: DataFrame, first_month: str, last_month: str) -> DataFrame:
    """One row per firm and month it was open within [first_month, last_month]."""
    start = F.greatest(F.trunc("created_on", "month"), F.lit(first_month).cast("date"))
    end = F.least(
        F.coalesce(F.trunc("closed_on", "month"), F.lit(last_month).cast("date")), F.lit(last_month).cast("date")
    )
    return firms.select(
        "*", start.alias("first_month"), F.explode(month_range(start, end)).alias("periode")
    ).withColumn("month_idx", month_index("periode"))


def labels(known_until: str) -> list[Column]:
    """`failure_h`: the first opening falls in the calendar months m+1 .. m+h (whole months; an opening
    during m makes m a month in proceedings); null when the window's last day is after `known_until`."""
    columns = []
    for h in HORIZONS:
        after_window = F.add_months("periode", h + 1)  # first day after month m+h
        hit = (F.col("first_opening_on") >= F.add_months("periode", 1)) & (F.col("first_opening_on") < after_window)
        columns.append(
            F.when(F.date_sub(after_window, 1) > F.lit(known_until).cast("date"), F.lit(None).cast("int"))
            .otherwise(F.coalesce(hit, F.lit(False)).cast("int"))
            .alias(f"failure_{h}")
        )
    return columns


def followup_from(followups: DataFrame, rows: DataFrame) -> DataFrame:
    """`followup_from` per (siren, periode): the start of the agents' follow-up in force at month m or
    the first one starting after it (null when none): a follow-up counts from its start date to the end
    of its end month. Not a feature: training reads it to account for help (`models.followup`)."""
    runs = followups.select("siren", "started_on", "ended_on")
    joined = rows.select("siren", "periode").join(runs, "siren")
    current_or_later = F.col("ended_on").isNull() | (F.col("ended_on") >= F.col("periode"))
    return joined.where(current_or_later).groupBy("siren", "periode").agg(F.min("started_on").alias("followup_from"))


def help_censored() -> list[Column]:
    """`help_censored_h`: the outcome of months m+1 .. m+h is not the firm's own, because a follow-up of
    the agents was in force or began before any opening in that window (the window ends on the last day
    of m+h)."""
    columns = []
    for h in HORIZONS:
        window_end = F.date_sub(F.add_months("periode", h + 1), 1)
        started = F.col("followup_from") <= window_end
        before_failure = F.col("first_opening_on").isNull() | (F.col("first_opening_on") >= F.col("followup_from"))
        columns.append(F.coalesce(started & before_failure, F.lit(False)).alias(f"help_censored_{h}"))
    return columns


def in_proceedings() -> Column:
    """Strong signal: an opening seen by the end of m, not closed by then."""
    end_of_month = F.last_day("periode")
    return F.coalesce(
        (F.col("first_opening_on") <= end_of_month)
        & (F.col("proceedings_closed_on").isNull() | (F.col("proceedings_closed_on") > end_of_month)),
        F.lit(False),
    )
