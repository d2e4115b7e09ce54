"""Point in time, end to end: data recorded after month m never changes a feature of months <= m."""

from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType

from sf_spark.config import ScopeSettings
from sf_spark.features import Calendar, assemble_panel, silver_tables
from sf_spark.features.inputs import CANONICAL, from_bronze
from sf_spark.features.settings import FeatureSettings

CUT = dt.date(2020, 6, 30)

# When each canonical input's row became known (the rule of domain.md, per source).
KNOWN_ON = {
    "debit": "recorded_on",
    "cotisation": "period_start",
    "headcount_siren": "periode",
    "headcount_siret": "periode",
    "ap_requests": "decided_on",
    "ap_consumption": "periode",
    "payment_plans": "created_on",
    "ccsf": "processed_on",
    "tax_returns": "add_months(trunc(closed_on, 'month'), 7)",
    "bdf_ratios": "add_months(trunc(closed_on, 'month'), 7)",
    "legal_units": "created_on",
    "establishments": "created_on",
    "procol": "effective_on",
    "judgments": "judged_on",
    "ratings": "rated_on",
    "followups": "started_on",
}
ALTERED = {  # inputs whose later rows are altered (not removed): amounts scaled up
    "debit": ["employee_share_eur", "employer_share_eur"],
    "cotisation": ["contribution_due_eur"],
    "tax_returns": ["turnover_eur", "ebitda_eur"],
}


def _known_by_cut(name: str, df: DataFrame) -> DataFrame:
    known_on = F.expr(KNOWN_ON[name])
    later = known_on > F.lit(CUT)
    if name in ALTERED:
        return df.select(
            *[
                F.when(later, F.col(c) * 10).otherwise(F.col(c)).alias(c) if c in ALTERED[name] else F.col(c)
                for c in df.columns
            ]
        )
    return df.where(~later | known_on.isNull())


def _features_up_to_cut(panel: DataFrame) -> DataFrame:
    # labels and the help-censoring columns describe months m+1 .. m+h: only the features must not move
    outcome = ("failure_", "help_censored_", "followup_from")
    kept = [c for c in panel.columns if not c.startswith(outcome)]
    return panel.where(F.col("periode") <= F.lit(CUT)).select(
        *[F.round(c, 6).alias(c) if isinstance(panel.schema[c].dataType, DoubleType) else F.col(c) for c in kept]
    )


@pytest.mark.slow
def test_changing_data_recorded_after_m_leaves_every_feature_of_m_unchanged(generated_world):
    lake = generated_world["lake"]
    full = {name: from_bronze(lake, name) for name in CANONICAL}
    cut = {name: _known_by_cut(name, df) for name, df in full.items()}
    calendar = Calendar("2018-01-01", "2021-12-01", "2021-12-31")
    scope = ScopeSettings()

    def panel(src):
        return _features_up_to_cut(assemble_panel(silver_tables(src, calendar, FeatureSettings()), calendar, scope))

    before, after = panel(full).cache(), panel(cut).cache()
    assert before.count() > 1000
    assert before.exceptAll(after).count() == 0
    assert after.exceptAll(before).count() == 0
    # the cut really removed something: later rows exist in the full world
    assert full["debit"].where(F.col("recorded_on") > F.lit(CUT)).count() > 0
