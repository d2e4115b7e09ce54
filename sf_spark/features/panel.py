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


def _feature(
    *,
    name: str,
    family: str,
    topic: str,
    unit: str,
    sources: tuple[str, ...],
    rule: str,
    description: str,
    expr: Column,
) -> Declared:
    """One declared feature: what it is (the catalogue's entry) and the expression that computes it."""
    return Declared(Feature(name, family, topic, unit, sources, rule, description), expr)


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

    declared = [
        _feature(
            name="contribution_due_eur",
            family=fam,
            topic=topic,
            unit="EUR/month",
            sources=src,
            rule=URSSAF_RULE,
            description="social contributions due for the month (periods spread evenly over their months)",
            expr=F.col("contribution_due_eur"),
        ),
        _feature(
            name="contribution_due_mean_12m",
            family=fam,
            topic=topic,
            unit="EUR/month",
            sources=src,
            rule=URSSAF_RULE,
            description="mean monthly contribution due over the 12 months ending at m",
            expr=mean_12,
        ),
        _feature(
            name="arrears_employee_eur",
            family=fam,
            topic=topic,
            unit="EUR",
            sources=src,
            rule=URSSAF_RULE,
            description="outstanding employee-share arrears",
            expr=F.col("arrears_employee_eur"),
        ),
        _feature(
            name="arrears_employer_eur",
            family=fam,
            topic=topic,
            unit="EUR",
            sources=src,
            rule=URSSAF_RULE,
            description="outstanding employer-share arrears",
            expr=F.col("arrears_employer_eur"),
        ),
        _feature(
            name="arrears_total_eur",
            family=fam,
            topic=topic,
            unit="EUR",
            sources=src,
            rule=URSSAF_RULE,
            description="outstanding arrears, both shares",
            expr=arrears,
        ),
        _feature(
            name="arrears_to_contribution_12m",
            family=fam,
            topic=topic,
            unit="months",
            sources=src,
            rule=URSSAF_RULE,
            description="arrears / mean monthly contribution over 12 months",
            expr=_ratio(arrears, mean_12),
        ),
        _feature(
            name="arrears_per_employee_eur",
            family=fam,
            topic=topic,
            unit="EUR/employee",
            sources=("urssaf",),
            rule=URSSAF_RULE,
            description="arrears per employee (latest known headcount)",
            expr=_ratio(arrears, F.col("headcount")),
        ),
        _feature(
            name="arrears_months_12m",
            family=fam,
            topic=topic,
            unit="months",
            sources=src,
            rule=URSSAF_RULE,
            description="months with arrears among the last 12",
            expr=_over(F.sum((F.col("arrears_total") > 0).cast("int")), 12),
        ),
        _feature(
            name="arrears_episode_months",
            family=fam,
            topic=topic,
            unit="months",
            sources=src,
            rule=URSSAF_RULE,
            description="months since the first arrears of the current episode (0 without arrears)",
            expr=F.when(
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
            _feature(
                name=f"arrears_flow_to_contribution_{k}m",
                family=fam,
                topic=topic,
                unit="months",
                sources=src,
                rule=URSSAF_RULE,
                description=f"net arrears change since month m-{k} / mean monthly contribution over 12 months",
                expr=_ratio(change(k), mean_12),
            )
        )
    declared += [
        _feature(
            name=f"arrears_rise_to_contribution_{k}m",
            family=fam,
            topic=topic,
            unit="months",
            sources=src,
            rule=URSSAF_RULE,
            description=f"new arrears over the {k} months ending at m (sum of the monthly rises) / mean monthly "
            f"contribution over 12 months",
            expr=_ratio(_over(F.sum(ARREARS_RISE), k), mean_12),
        )
        for k in (3, 6)
    ]
    declared += [
        _feature(
            name="arrears_rise_months_6m",
            family=fam,
            topic=topic,
            unit="months",
            sources=src,
            rule=URSSAF_RULE,
            description="months whose arrears rose, among the last 6",
            expr=_over(F.sum((F.col(ARREARS_RISE) > 0).cast("int")), 6),
        ),
        _feature(
            name="arrears_volatility_12m",
            family=fam,
            topic=topic,
            unit="months",
            sources=src,
            rule=URSSAF_RULE,
            description="standard deviation of the arrears over the 12 months ending at m / mean monthly contribution",
            expr=_ratio(_over(F.stddev_samp("arrears_total"), 12), mean_12),
        ),
    ]
    for k in LAGS:
        declared += [
            _feature(
                name=f"arrears_total_lag_{k}m",
                family=fam,
                topic=topic,
                unit="EUR",
                sources=src,
                rule=URSSAF_RULE,
                description=f"arrears of the calendar month m-{k} (null if the firm had no row then)",
                expr=_at("arrears_total", k),
            ),
            _feature(
                name=f"arrears_total_diff_{k}m",
                family=fam,
                topic=topic,
                unit="EUR",
                sources=src,
                rule=URSSAF_RULE,
                description=f"arrears change since month m-{k}",
                expr=change(k),
            ),
        ]
    return declared


def plan_features() -> list[Declared]:
    fam, topic, src = "payment_plans", "payment_plans", ("urssaf",)
    rule = "plans from their creation date; CCSF from its processing date"
    active = F.col("plan_amount_eur").isNotNull()
    return [
        _feature(
            name="payment_plan_active",
            family=fam,
            topic=topic,
            unit="0/1",
            sources=src,
            rule=rule,
            description="a payment plan is running at m",
            expr=active.cast("int"),
        ),
        _feature(
            name="payment_plan_amount_eur",
            family=fam,
            topic=topic,
            unit="EUR",
            sources=src,
            rule=rule,
            description="total amount of running plans",
            expr=F.col("plan_amount_eur"),
        ),
        _feature(
            name="payment_plan_remaining_days",
            family=fam,
            topic=topic,
            unit="days",
            sources=src,
            rule=rule,
            description="days from the end of m to the plan's due date",
            expr=F.col("plan_remaining_days"),
        ),
        _feature(
            name="payment_plan_deviation_eur",
            family=fam,
            topic=topic,
            unit="EUR",
            sources=src,
            rule=rule,
            description="arrears minus what a linear repayment of the plan would leave (positive: behind)",
            expr=F.when(active, F.col("arrears_total") - F.col("plan_expected_remaining_eur")),
        ),
        _feature(
            name="ccsf_stage",
            family=fam,
            topic=topic,
            unit="code",
            sources=src,
            rule=rule,
            description="latest creditors' committee stage: 1 DEBUT, 2 APPROB, 3 REFUS, 4 REJ, 5 FIN",
            expr=F.col("ccsf_stage"),
        ),
        _feature(
            name="months_since_ccsf",
            family=fam,
            topic=topic,
            unit="months",
            sources=src,
            rule=rule,
            description="months since the latest CCSF event",
            expr=F.col("month_idx") - F.col("ccsf_month_idx"),
        ),
    ]


def headcount_features() -> list[Declared]:
    fam, topic, src = "headcount", "employment", ("urssaf",)
    rule = "headcount of months <= m as delivered (latest delivery of each month)"
    declared = [
        _feature(
            name="headcount",
            family=fam,
            topic=topic,
            unit="employees",
            sources=src,
            rule=rule,
            description="latest known headcount of the company",
            expr=F.col("headcount"),
        ),
        _feature(
            name="months_since_headcount",
            family=fam,
            topic=topic,
            unit="months",
            sources=src,
            rule=rule,
            description="age of the latest known headcount",
            expr=F.col("month_idx") - F.col("headcount_month_idx"),
        ),
    ]
    for k in HEADCOUNT_SPANS:
        before = _at("headcount", k)
        declared += [
            _feature(
                name=f"headcount_change_{k}m",
                family=fam,
                topic=topic,
                unit="employees",
                sources=src,
                rule=rule,
                description=f"headcount change since month m-{k}",
                expr=F.col("headcount") - before,
            ),
            _feature(
                name=f"headcount_change_rel_{k}m",
                family=fam,
                topic=topic,
                unit="ratio",
                sources=src,
                rule=rule,
                description=f"relative headcount change since month m-{k}",
                expr=_ratio(F.col("headcount") - before, before),
            ),
        ]
    return declared


def partial_activity_features() -> list[Declared]:
    fam, topic, src = "partial_activity", "partial_activity", ("dgefp",)
    rule = "authorisations from their decision month; consumption from its month"
    capacity = F.col("headcount") * F.lit(FULL_TIME_MONTH_HOURS)
    authorised_12 = _over(F.sum("hours_authorised"), 12)
    consumed_12 = _over(F.sum("hours_consumed"), 12)
    return [
        _feature(
            name="ap_hours_authorised",
            family=fam,
            topic=topic,
            unit="hours",
            sources=src,
            rule=rule,
            description="partial-activity hours authorised for m",
            expr=F.col("hours_authorised"),
        ),
        _feature(
            name="ap_hours_consumed",
            family=fam,
            topic=topic,
            unit="hours",
            sources=src,
            rule=rule,
            description="partial-activity hours consumed in m",
            expr=F.col("hours_consumed"),
        ),
        _feature(
            name="ap_hours_authorised_12m",
            family=fam,
            topic=topic,
            unit="hours",
            sources=src,
            rule=rule,
            description="hours authorised over 12 months",
            expr=authorised_12,
        ),
        _feature(
            name="ap_hours_consumed_12m",
            family=fam,
            topic=topic,
            unit="hours",
            sources=src,
            rule=rule,
            description="hours consumed over 12 months",
            expr=consumed_12,
        ),
        _feature(
            name="ap_authorised_share",
            family=fam,
            topic=topic,
            unit="ratio",
            sources=("dgefp", "urssaf"),
            rule=rule,
            description="hours authorised / full-time capacity (headcount x 151.67 h)",
            expr=_ratio(F.col("hours_authorised"), capacity),
        ),
        _feature(
            name="ap_consumed_share",
            family=fam,
            topic=topic,
            unit="ratio",
            sources=("dgefp", "urssaf"),
            rule=rule,
            description="hours consumed / full-time capacity",
            expr=_ratio(F.col("hours_consumed"), capacity),
        ),
        _feature(
            name="ap_consumed_share_12m",
            family=fam,
            topic=topic,
            unit="ratio",
            sources=("dgefp", "urssaf"),
            rule=rule,
            description="hours consumed over 12 months / 12 months of capacity",
            expr=_ratio(consumed_12, capacity * 12),
        ),
        _feature(
            name="ap_latest_reason",
            family=fam,
            topic=topic,
            unit="code",
            sources=src,
            rule=rule,
            description="reason of the latest request: 1 downturn, 2 supply, 3 disaster, 4 restructuring, 5 other",
            expr=F.col("ap_reason"),
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
    declared = [
        _feature(
            name="turnover_eur",
            family=fam,
            topic=topic,
            unit="EUR",
            sources=dgfip,
            rule=rule,
            description="turnover of the latest usable accounts",
            expr=d("turnover_eur"),
        ),
        _feature(
            name="turnover_growth",
            family=fam,
            topic=topic,
            unit="ratio",
            sources=dgfip,
            rule=rule,
            description="turnover change on the previous accounts",
            expr=_ratio(d("turnover_eur") - d("turnover_eur", True), F.abs(d("turnover_eur", True))),
        ),
        _feature(
            name="accounts_age_months",
            family=fam,
            topic=topic,
            unit="months",
            sources=dgfip,
            rule=rule,
            description="months from the closing of the latest usable tax return to m",
            expr=F.col("month_idx") - month_index(F.col("dgfip.closed_on")),
        ),
        _feature(
            name="bdf_accounts_age_months",
            family=fam,
            topic=topic,
            unit="months",
            sources=bdf,
            rule=rule,
            description="months from the closing of the latest usable Banque de France ratios to m",
            expr=F.col("month_idx") - month_index(F.col("bdf.closed_on")),
        ),
    ]
    for name, ratio in ratios.items():
        declared += [
            _feature(
                name=name,
                family=fam,
                topic=topic,
                unit="ratio" if "_eur" not in name and "days" not in name else ("EUR" if "_eur" in name else "days"),
                sources=dgfip,
                rule=rule,
                description=f"{name.replace('_', ' ')} (tax return)",
                expr=ratio(False),
            ),
            _feature(
                name=f"{name}_yoy",
                family=fam,
                topic=topic,
                unit="change",
                sources=dgfip,
                rule=rule,
                description=f"{name.replace('_', ' ')}: change on the previous accounts",
                expr=ratio(False) - ratio(True),
            ),
        ]
    for field in BDF_FIELDS:
        declared += [
            _feature(
                name=f"bdf_{field}",
                family=fam,
                topic=topic,
                unit="days" if "days" in field else "%",
                sources=bdf,
                rule=rule,
                description=f"Banque de France {field.replace('_', ' ')}",
                expr=b(field),
            ),
            _feature(
                name=f"bdf_{field}_yoy",
                family=fam,
                topic=topic,
                unit="change",
                sources=bdf,
                rule=rule,
                description=f"Banque de France {field.replace('_', ' ')}: change on the previous year",
                expr=b(field) - b(field, True),
            ),
        ]
    return declared


def identity_features() -> list[Declared]:
    fam, topic = "identity", "identity"
    rule = "Sirene dates: created before m, open at m"
    return [
        _feature(
            name="firm_age_months",
            family=fam,
            topic=topic,
            unit="months",
            sources=("insee",),
            rule=rule,
            description="months since the firm's creation",
            expr=F.col("month_idx") - month_index(F.col("created_on")),
        ),
        _feature(
            name="naf_section",
            family=fam,
            topic=topic,
            unit="code",
            sources=("insee",),
            rule=rule,
            description="NAF rev.2 section (A-U)",
            expr=naf_section(F.col("naf")),
        ),
        _feature(
            name="naf_division",
            family=fam,
            topic=topic,
            unit="code",
            sources=("insee",),
            rule=rule,
            description="NAF rev.2 division (2 digits)",
            expr=naf_division(F.col("naf")),
        ),
        _feature(
            name="region",
            family=fam,
            topic=topic,
            unit="code",
            sources=("insee",),
            rule=rule,
            description="INSEE region of the head office",
            expr=region(F.col("departement")),
        ),
        _feature(
            name="departement",
            family=fam,
            topic=topic,
            unit="code",
            sources=("insee",),
            rule=rule,
            description="département of the head office",
            expr=F.col("departement"),
        ),
        _feature(
            name="legal_category",
            family=fam,
            topic=topic,
            unit="code",
            sources=("insee",),
            rule=rule,
            description="legal category (4 characters)",
            expr=F.col("legal_category"),
        ),
        _feature(
            name="establishments_count",
            family=fam,
            topic=topic,
            unit="count",
            sources=("insee",),
            rule=rule,
            description="establishments open at m",
            expr=F.col("establishments_count"),
        ),
        _feature(
            name="size_band",
            family=fam,
            topic="employment",
            unit="band",
            sources=("urssaf",),
            rule="latest known headcount",
            description="headcount band: 0-9, 10-19, 20-49, 50-249, 250+",
            expr=size_band(F.col("headcount")),
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
    for name, sources in SECTOR_RELATIVE.items():
        ranked = F.percent_rank().over(peers.orderBy(F.col(name).asc_nulls_first()))
        known = F.count(name).over(peers)
        nulls = F.count(F.lit(1)).over(peers) - known
        # percent_rank over non-null values only: shift the ranks past the nulls sorted first.
        position = _ratio(ranked * (F.count(F.lit(1)).over(peers) - 1) - nulls, known - 1)
        declared.append(
            _feature(
                name=f"{name}_sector_pct",
                family="sector_relative",
                topic="sector",
                unit="percentile",
                sources=tuple(sorted({*sources, *PEER_GROUP_SOURCES})),
                rule="same month, NAF division x size band",
                description=f"percentile of {name} among firms of the same NAF division and size band at m",
                expr=F.when(F.col(name).isNotNull(), position),
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


def in_proceedings() -> Column:
    """Strong signal: an opening seen by the end of m, not closed by then."""
    end_of_month = F.last_day("periode")
    return F.coalesce(
        (F.col("first_opening_on") <= end_of_month)
        & (F.col("proceedings_closed_on").isNull() | (F.col("proceedings_closed_on") > end_of_month)),
        F.lit(False),
    )
