"""Silver builders: one clean row per business key and month, from typed bronze rows.

Each builder is a pure `DataFrame -> DataFrame` function over the canonical input columns
listed in its docstring (`sf_spark.features.inputs` maps bronze tables onto them). The month
a row counts from is always the month it was *known*: a debt state from its effective month
(20th-day rule), a partial-activity authorisation from its decision month, accounts from
closing month + publication lag.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from sf_spark.features.geography import departement
from sf_spark.features.months import effective_month, month_index, month_range, month_start

OPENING_JUDGMENT_CODES = ("1", "2", "3", "4", "8")
CLOSING_STAGES = ("fin_procedure", "solde_procedure", "cloture_insuffisance_actif", "abandon_procedure")
OPENING_STAGE = "ouverture"


def siren_of(siret: str = "siret") -> F.Column:
    return F.substring(F.col(siret), 1, 9)


def debt_by_siret_month(debit: DataFrame, last_month: str) -> DataFrame:
    """Outstanding URSSAF debt per siret and month, in euros.

    Input: siret, account, period_start, debt_number, history_number, recorded_on,
    employee_share_eur, employer_share_eur (one row per recorded state of a debt).
    A debt is (account, period_start, debt_number); in month m it stands at its state with the
    highest history number among states effective up to m; it stays outstanding (forward
    fill) until a later state changes it. Output: siret, siren, periode,
    arrears_employee_eur, arrears_employer_eur, from the siret's first effective month to
    `last_month` (YYYY-MM-DD), months with nothing outstanding and no event left out.
    """
    debt = ["account", "period_start", "debt_number"]
    states = debit.select(
        "siret",
        *debt,
        "history_number",
        effective_month("recorded_on").alias("periode"),
        "employee_share_eur",
        "employer_share_eur",
    )
    latest = F.max(F.struct("history_number", "employee_share_eur", "employer_share_eur")).over(
        Window.partitionBy("siret", *debt).orderBy("periode").rangeBetween(Window.unboundedPreceding, 0)
    )
    per_month = states.select("siret", *debt, "periode", latest.alias("state")).dropDuplicates(
        ["siret", *debt, "periode"]
    )
    previous = Window.partitionBy("siret", *debt).orderBy("periode")
    changes = per_month.select(
        "siret",
        "periode",
        *[
            (F.col(f"state.{share}") - F.coalesce(F.lag(f"state.{share}").over(previous), F.lit(0.0))).alias(share)
            for share in ("employee_share_eur", "employer_share_eur")
        ],
    )
    events = changes.groupBy("siret", "periode").agg(
        F.sum("employee_share_eur").alias("delta_employee"), F.sum("employer_share_eur").alias("delta_employer")
    )
    grid = (
        events.groupBy("siret")
        .agg(F.min("periode").alias("first"))
        .select("siret", F.explode(month_range(F.col("first"), F.lit(last_month).cast("date"))).alias("periode"))
    )
    running = Window.partitionBy("siret").orderBy("periode").rowsBetween(Window.unboundedPreceding, 0)
    outstanding = grid.join(events, ["siret", "periode"], "left").select(
        "siret",
        siren_of().alias("siren"),
        "periode",
        F.round(F.sum(F.coalesce("delta_employee", F.lit(0.0))).over(running), 2).alias("arrears_employee_eur"),
        F.round(F.sum(F.coalesce("delta_employer", F.lit(0.0))).over(running), 2).alias("arrears_employer_eur"),
        F.col("delta_employee").isNotNull().alias("has_event"),
    )
    return outstanding.where(
        F.col("has_event") | (F.col("arrears_employee_eur") != 0) | (F.col("arrears_employer_eur") != 0)
    ).drop("has_event")


def contributions_by_month(cotisation: DataFrame) -> DataFrame:
    """Contributions due and collected per siret and month, in euros.

    Input: siret, period_start, period_end (exclusive), contribution_due_eur, collected_eur.
    A quarterly or yearly period spreads its amounts evenly over its months.
    """
    months = month_index("period_end") - month_index("period_start")
    spread = cotisation.where(months > 0).select(
        "siret",
        F.explode(month_range(F.col("period_start"), F.add_months("period_end", -1))).alias("periode"),
        (F.col("contribution_due_eur") / months).alias("due"),
        (F.col("collected_eur") / months).alias("collected"),
    )
    return (
        spread.groupBy("siret", "periode")
        .agg(
            F.round(F.sum("due"), 2).alias("contribution_due_eur"),
            F.round(F.sum("collected"), 2).alias("collected_eur"),
        )
        .withColumn("siren", siren_of())
    )


def latest_per(keys: Sequence[str], *order: Column) -> Callable[[DataFrame], DataFrame]:
    """A transform keeping, per `keys`, the one row that comes first in `order` (e.g. newest first)."""
    window = Window.partitionBy(*keys).orderBy(*order)

    def keep(df: DataFrame) -> DataFrame:
        return df.withColumn("_rank", F.row_number().over(window)).where("_rank = 1").drop("_rank")

    return keep


def _latest_delivery(df: DataFrame, key: list[str]) -> DataFrame:
    return df.transform(latest_per(key, F.col("delivery_date").desc(), F.col("line_number").desc()))


def headcount_by_siren_month(siren_headcount: DataFrame, siret_headcount: DataFrame) -> DataFrame:
    """Headcount per siren and month: the company file, else the sum of its establishments.

    Inputs: (siren | siret), periode, headcount, delivery_date, line_number. Deliveries overlap:
    for each month the latest delivery wins. Unknown (blank) headcounts are absent rows.
    """
    company = _latest_delivery(siren_headcount.where(F.col("headcount").isNotNull()), ["siren", "periode"])
    establishments = (
        _latest_delivery(siret_headcount.where(F.col("headcount").isNotNull()), ["siret", "periode"])
        .groupBy(siren_of().alias("siren"), "periode")
        .agg(F.sum("headcount").alias("from_establishments"))
    )
    return (
        company.select("siren", "periode", F.col("headcount").alias("from_company"))
        .join(establishments, ["siren", "periode"], "full")
        .select("siren", "periode", F.coalesce("from_company", "from_establishments").cast("int").alias("headcount"))
    )


def partial_activity_by_month(requests: DataFrame, consumption: DataFrame) -> DataFrame:
    """Partial-activity hours authorised and consumed per siren and month.

    Inputs: requests (request_id, siret, decided_on, starts_on, ends_on, hours_authorised,
    reason) and consumption (request_id, siret, periode, hours_consumed). Authorised hours
    spread evenly over the months of the authorisation, counted only from the month of the
    decision (a retroactive authorisation was not known before it). Output: siren, periode,
    hours_authorised, hours_consumed, reason (of the latest request decided that month;
    reasons 6-7 are excluded).
    """
    valid = requests.where(F.col("reason").isNull() | ~F.col("reason").isin(6, 7))
    span = month_index("ends_on") - month_index("starts_on") + 1
    first_known = F.greatest(month_start("starts_on"), month_start("decided_on"))
    authorised = (
        valid.where(span > 0)
        .select(
            siren_of().alias("siren"),
            F.explode(month_range(first_known, month_start("ends_on"))).alias("periode"),
            (F.col("hours_authorised") / span).alias("hours"),
        )
        .groupBy("siren", "periode")
        .agg(F.sum("hours").alias("hours_authorised"))
    )
    latest_reason = (
        valid.select(siren_of().alias("siren"), month_start("decided_on").alias("periode"), "decided_on", "reason")
        .transform(latest_per(["siren", "periode"], F.col("decided_on").desc()))
        .select("siren", "periode", "reason")
    )
    consumed = consumption.groupBy(siren_of().alias("siren"), month_start("periode").alias("periode")).agg(
        F.sum("hours_consumed").alias("hours_consumed")
    )
    return authorised.join(consumed, ["siren", "periode"], "full").join(latest_reason, ["siren", "periode"], "full")


def payment_plans_by_month(plans: DataFrame) -> DataFrame:
    """Active URSSAF payment plans per siren and month.

    Input: siret, created_on, due_on, duration_days, plan_amount_eur. A plan is active from
    its creation month to the month before its due month. Output: siren, periode,
    plan_amount_eur (sum of active plans), plan_remaining_days (longest remaining, from the end
    of the month), plan_expected_remaining_eur (under linear repayment).
    """
    active = plans.where(F.col("due_on") > F.col("created_on")).select(
        siren_of().alias("siren"),
        F.explode(month_range(month_start("created_on"), F.add_months(month_start("due_on"), -1))).alias("periode"),
        "created_on",
        "due_on",
        "plan_amount_eur",
        F.coalesce(F.col("duration_days"), F.datediff("due_on", "created_on")).alias("duration_days"),
    )
    remaining = F.greatest(F.datediff("due_on", F.last_day("periode")), F.lit(0))
    return active.groupBy("siren", "periode").agg(
        F.sum("plan_amount_eur").alias("plan_amount_eur"),
        F.max(remaining).alias("plan_remaining_days"),
        F.sum(
            F.col("plan_amount_eur") * F.least(remaining / F.greatest(F.col("duration_days"), F.lit(1)), F.lit(1.0))
        ).alias("plan_expected_remaining_eur"),
    )


CCSF_STAGES = {"DEBUT": 1, "APPROB": 2, "REFUS": 3, "REJ": 4, "FIN": 5}


def ccsf_events(ccsf: DataFrame) -> DataFrame:
    """Creditors' committee events per siren and month: latest stage code recorded that month.

    Input: siret, processed_on, stage (DEBUT, REFUS, APPROB, FIN, REJ). Output: siren, periode,
    ccsf_stage (1 DEBUT, 2 APPROB, 3 REFUS, 4 REJ, 5 FIN).
    """
    code = F.create_map(*[F.lit(x) for kv in CCSF_STAGES.items() for x in kv])[F.upper("stage")]
    latest = ccsf.select(
        siren_of().alias("siren"), month_start("processed_on").alias("periode"), "processed_on", code.alias("code")
    ).transform(latest_per(["siren", "periode"], F.col("processed_on").desc()))
    return latest.select("siren", "periode", F.col("code").alias("ccsf_stage"))


def usable_accounts(accounts: DataFrame, lag_months: int, value_columns: list[str]) -> DataFrame:
    """Accounts per siren with the month from which each may be used: closing month + lag.

    Input: siren, closed_on and `value_columns`. Several returns for one closing date keep the
    most complete one. Output adds `usable_from` (first day of a month) and `prev_<col>` (the
    previous accounts' values, for year-on-year change).
    """
    completeness = sum((F.col(c).isNotNull().cast("int") for c in value_columns), F.lit(0))
    order = [completeness.desc()]
    if "delivery_date" in accounts.columns:
        order.append(F.col("delivery_date").desc())
    best = accounts.transform(latest_per(["siren", "closed_on"], *order)).select("siren", "closed_on", *value_columns)
    previous = Window.partitionBy("siren").orderBy("closed_on")
    return best.select(
        "siren",
        "closed_on",
        F.add_months(month_start("closed_on"), lag_months).alias("usable_from"),
        *value_columns,
        *[F.lag(c).over(previous).alias(f"prev_{c}") for c in value_columns],
    )


def firms(legal_units: DataFrame, establishments: DataFrame) -> DataFrame:
    """Identity per siren from the latest Sirene snapshot.

    Inputs: legal_units (siren, created_on, state, state_since, legal_category, naf,
    delivery_date, line_number, name) and establishments (siren, siret, is_head_office,
    commune_code, delivery_date, line_number). A closed unit (C or F) closed on `state_since`.
    Output: siren, created_on, closed_on, legal_category, naf, departement, name (the public
    register's denomination, for agents' lists; never a model input).
    """
    units = _latest_delivery(legal_units, ["siren"]).select(
        "siren",
        "created_on",
        F.when(F.col("state").isin("C", "F"), F.col("state_since")).alias("closed_on"),
        "legal_category",
        "naf",
        "name",
    )
    head_offices = _latest_delivery(establishments.where(F.col("is_head_office")), ["siren"]).select(
        "siren", departement(F.col("commune_code")).alias("departement")
    )
    return units.join(head_offices, "siren", "left")


def establishment_events(establishments: DataFrame) -> DataFrame:
    """Change of the number of open establishments per siren and month (+1 opened, -1 closed).

    Input: siren, siret, created_on, state, state_since, delivery_date, line_number (latest
    snapshot per siret is used).
    """
    latest = _latest_delivery(establishments, ["siret"])
    opened = latest.select("siren", month_start("created_on").alias("periode"), F.lit(1).alias("change"))
    closed = latest.where(F.col("state") == "F").select(
        "siren", month_start("state_since").alias("periode"), F.lit(-1).alias("change")
    )
    return (
        opened.unionByName(closed)
        .where(F.col("periode").isNotNull())
        .groupBy("siren", "periode")
        .agg(F.sum("change").alias("establishments_change"))
    )


def proceedings(procol: DataFrame, judgments: DataFrame) -> DataFrame:
    """Collective proceedings per siren: first opening date and the closing date after it.

    Inputs: procol (siren, effective_on, procedure, stage) and judgments (siren, judged_on,
    code). Openings: URSSAF stage `ouverture` or a DGFiP judgment with code 1, 2, 3, 4 or 8.
    Output: siren, first_opening_on, closed_on (first closing stage after the first opening).
    """
    urssaf = procol.select(
        "siren",
        "effective_on",
        (F.lower("stage") == OPENING_STAGE).alias("opening"),
        F.lower("stage").isin(*CLOSING_STAGES).alias("closing"),
    )
    dgfip = judgments.where(F.col("code").isin(*OPENING_JUDGMENT_CODES)).select(
        "siren", F.col("judged_on").alias("effective_on"), F.lit(True).alias("opening"), F.lit(False).alias("closing")
    )
    events = urssaf.unionByName(dgfip)
    first = events.where("opening").groupBy("siren").agg(F.min("effective_on").alias("first_opening_on"))
    closing = (
        events.where("closing")
        .join(first, "siren")
        .where(F.col("effective_on") >= F.col("first_opening_on"))
        .groupBy("siren")
        .agg(F.min("effective_on").alias("closed_on"))
    )
    return first.join(closing, "siren", "left")


def agents_ratings(ratings: DataFrame) -> DataFrame:
    """`silver/agents_ratings`: the agents' ratings, one row per (siren, list month, profile, date rated),
    known from the date rated. A revision is a new row (the earlier one stays, as it was known then); a
    line delivered again with the same key is the latest delivery's."""
    keys = ["siren", "list_month", "profile", "rated_on"]
    return _latest_delivery(ratings, keys).select(*keys, "rating", "reason", "departement")


def agents_followups(followups: DataFrame) -> DataFrame:
    """`silver/agents_followups`: one row per follow-up (siren, start date) as the latest export gives it:
    stage, measures (`,`-separated), end date (null while it runs), and the export's date (`as_of`)."""
    keys = ["siren", "started_on"]
    return _latest_delivery(followups, keys).select(
        *keys, "ended_on", "stage", "measures", "departement", F.col("delivery_date").alias("as_of")
    )
