"""One firm's file: every source's history for a siren, its scores, and why it is alerted, in words.

Histories are read from the silver tables (clean, dated by the month each fact was known), scores from
`gold/scores`. Each source is declared once with the administrations it comes from: a reader's profile
(`scoring.profiles` of the configuration) decides which histories and which parts of an explanation they may
see, by the same rule as the agents' lists (`sf_spark.scoring.exports`): Sirene identity and the scores are
public, anything else needs every one of its administrations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sf_spark.explore.labels import TOPIC_LABELS
from sf_spark.features.catalogue import feature_topics
from sf_spark.lake import tables
from sf_spark.scoring.exports import MIN_TOPIC_WEIGHT, PUBLIC, topic_sources

if TYPE_CHECKING:
    from sf_spark.features.catalogue import Feature
    from sf_spark.lake import Lake

SCORES = tables.SCORES


@dataclass(frozen=True)
class FirmSource:
    """One history of a firm's file: its silver table, the administrations it comes from, the column that dates
    a row, and the establishment-level amounts summed to the siren per month (`periode`)."""

    name: str
    table: str
    administrations: tuple[str, ...]
    date: str | None
    description: str
    summed_by_month: tuple[str, ...] = ()


FIRM_SOURCES: tuple[FirmSource, ...] = (
    FirmSource(
        "sirene",
        tables.silver("firms"),
        ("insee",),
        None,
        "Sirene register: name, creation and closing dates, legal category, NAF code, head-office département",
    ),
    FirmSource(
        "establishments",
        tables.silver("establishment_events"),
        ("insee",),
        "periode",
        "establishments opened (+) or closed (-) in the month",
    ),
    FirmSource(
        "headcount", tables.silver("headcount_monthly"), ("urssaf",), "periode", "headcount declared for the month"
    ),
    FirmSource(
        "contributions",
        tables.silver("contributions_monthly"),
        ("urssaf",),
        "periode",
        "social contributions due and collected in the month, EUR, all establishments",
        ("contribution_due_eur", "collected_eur"),
    ),
    FirmSource(
        "arrears",
        tables.silver("debt_monthly"),
        ("urssaf",),
        "periode",
        "outstanding social-contribution arrears at the month (employee and employer shares), EUR, all "
        "establishments; a month without a row has none",
        ("arrears_employee_eur", "arrears_employer_eur"),
    ),
    FirmSource(
        "payment_plans",
        tables.silver("payment_plans_monthly"),
        ("urssaf",),
        "periode",
        "active URSSAF payment plans: amount, longest remaining days, expected remaining amount (EUR)",
    ),
    FirmSource(
        "ccsf",
        tables.silver("ccsf_events"),
        ("urssaf",),
        "periode",
        "creditors' committee (CCSF) stage recorded in the month: 1 start, 2 approved, 3 refused, 4 rejected, 5 end",
    ),
    FirmSource(
        "partial_activity",
        tables.silver("partial_activity_monthly"),
        ("dgefp",),
        "periode",
        "partial-activity hours authorised (known from the decision month) and consumed; reason code of "
        "the month's latest request",
    ),
    FirmSource(
        "tax_returns",
        tables.silver("accounts_dgfip"),
        ("dgfip",),
        "closed_on",
        "tax returns (liasses fiscales) by closing date, usable from closing + publication lag",
    ),
    FirmSource(
        "bdf_ratios",
        tables.silver("accounts_bdf"),
        ("bdf",),
        "closed_on",
        "Banque de France ratios by closing date, usable from closing + publication lag",
    ),
    FirmSource(
        "proceedings",
        tables.silver("proceedings"),
        ("urssaf", "dgfip"),
        "first_opening_on",
        "collective proceedings: first opening and its closing (URSSAF and DGFiP judgments)",
    ),
)


def visible_to(administrations: Sequence[str] | None, sources: Iterable[str]) -> bool:
    """True when every administration in `sources` is public (Sirene, scores) or among `administrations`;
    `administrations=None` sees everything."""
    return administrations is None or set(sources) <= PUBLIC | set(administrations)


def firm_rows(source: FirmSource, siren: str) -> Callable[[DataFrame], DataFrame]:
    """The rows of one siren in a source's silver table, establishment amounts summed per month, oldest first."""

    def transform(df: DataFrame) -> DataFrame:
        rows = df.where(F.col("siren") == F.lit(siren))
        if source.summed_by_month:
            rows = rows.groupBy("siren", "periode").agg(
                *[F.round(F.sum(c), 2).alias(c) for c in source.summed_by_month]
            )
        return rows.orderBy(source.date) if source.date else rows

    return transform


def firm_file(
    lake: Lake, siren: str, administrations: Sequence[str] | None = None, sources: Sequence[FirmSource] = FIRM_SOURCES
) -> dict[str, pd.DataFrame]:
    """Each source's history of one siren as a pandas frame, keyed by source name in `sources` order.

    Only sources `administrations` may see are read (None: all); a source whose table does not exist yet is
    absent. One firm's rows are few: they are brought to the driver.
    """
    out = {}
    for source in sources:
        if visible_to(administrations, source.administrations) and lake.exists(source.table):
            out[source.name] = lake.read(source.table).transform(firm_rows(source, siren)).toPandas()
    return out


def plain(value: Any) -> Any:
    """Spark Rows (structs) and arrays of them (lists, or numpy arrays after an Arrow conversion) as dicts and
    lists of dicts."""
    if hasattr(value, "asDict"):  # a Row, which is also a tuple
        return value.asDict()
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(v) for v in value]
    return value


def firm_scores(lake: Lake, siren: str) -> pd.DataFrame:
    """Every scored month and horizon of one siren from `gold/scores`, oldest first; `top_features` as lists of
    dicts (feature, value, contribution) and `topic_contributions` as dicts, None where not alerted."""
    frame = lake.read(SCORES).where(F.col("siren") == F.lit(siren)).orderBy("periode", "horizon").toPandas()
    frame["top_features"] = [plain(v) if v is not None else None for v in frame["top_features"]]
    frame["topic_contributions"] = [dict(v) if v is not None else None for v in frame["topic_contributions"]]
    return frame


def last_scored_month(scores: DataFrame) -> dt.date | None:
    """The latest `periode` of `gold/scores` rows (None when there is none)."""
    return scores.agg(F.max("periode")).first()[0]


def alerted_firm(scores: DataFrame, month: dt.date, horizon: int) -> str | None:
    """The siren alerted (red or orange) with the highest probability at `horizon` in `month`, the smallest
    siren among equals; None when no firm is alerted then."""
    first = (
        scores.where(
            (F.col("periode") == F.lit(month))
            & (F.col("horizon") == horizon)
            & F.col("alert_level").isin("red", "orange")
        )
        .orderBy(F.col("probability").desc(), "siren")
        .select("siren")
        .first()
    )
    return first["siren"] if first else None


UNIT_FORMATS = {
    "EUR": "{:,.0f} EUR",
    "EUR/month": "{:,.0f} EUR/month",
    "EUR/employee": "{:,.0f} EUR per employee",
    "hours": "{:,.0f} h",
    "months": "{:.0f} months",
    "days": "{:.0f} days",
    "employees": "{:.0f} employees",
    "count": "{:.0f}",
    "0/1": "{:.0f}",
}


def _value(text: str | None, unit: str) -> str:
    if text is None:
        return "missing"
    try:
        number = float(text)
    except ValueError:
        return text
    if number != number:
        return "missing"
    return UNIT_FORMATS.get(unit, "{:.3g}").format(number)


def alert_reasons(
    topic_contributions: Mapping[str, float] | None,
    top_features: Sequence[Mapping[str, Any]] | None,
    catalogue: Sequence[Feature],
    administrations: Sequence[str] | None = None,
    min_weight: float = MIN_TOPIC_WEIGHT,
) -> list[str]:
    """Why a row of `gold/scores` scored as it did, in sentences: the topics that raise the risk, those that
    lower it (sums of contributions in log-odds of the classifier, at least `min_weight` in absolute value),
    then each top feature with its value and contribution. Only topics and features whose administrations
    `administrations` may see are mentioned (None: all). Empty when the row has no explanation (not alerted).
    """
    sources = {f.name: f.sources for f in catalogue}
    topics = feature_topics(catalogue)
    shown_topics = {t for t, s in topic_sources(sources, topics).items() if visible_to(administrations, s)}
    lines = []
    weights = {t: v for t, v in (topic_contributions or {}).items() if t in shown_topics and abs(v) >= min_weight}
    for sign, verb in ((1, "Raise the risk"), (-1, "Lower the risk")):
        part = sorted(((t, v) for t, v in weights.items() if sign * v > 0), key=lambda tv: -abs(tv[1]))
        if part:
            lines.append(
                f"{verb}: " + ", ".join(f"{TOPIC_LABELS.get(t, t)} {v:+.2f}" for t, v in part) + " (log-odds)."
            )
    features = {f.name: f for f in catalogue}
    for entry in top_features if top_features is not None else []:
        feature = features.get(entry["feature"])
        if feature is None or not visible_to(administrations, feature.sources):
            continue
        lines.append(
            f"{feature.name} = {_value(entry['value'], feature.unit)} ({feature.description}): "
            f"{float(entry['contribution']):+.2f} log-odds"
        )
    return lines
