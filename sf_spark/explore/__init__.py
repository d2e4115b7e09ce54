"""What the notebooks of partner data scientists build on: a firm's file, the champions' evaluation, labels.

- `project_root`: the project folder, so a notebook resolves the configuration's relative paths from anywhere.
- `firm_file`, `firm_scores`, `alerted_firm`, `last_scored_month`, `alert_reasons`: one firm's histories (silver
  tables, filtered by what a profile may see), its scores, and why it is alerted, in words.
- `champion_table`, `evaluate_champions`, `explain_firm`: the MLflow champions' versions, thresholds and windows,
  their evaluation (the training step's own metrics) on their test window or any other, and one firm-month
  scored and explained by them whatever its alert level.
- `REGION_NAMES`, `NAF_SECTION_NAMES`, `TOPIC_LABELS`: readable labels of codes for plots.
"""

from __future__ import annotations

from sf_spark.explore.champions import ChampionEvaluation, champion_table, evaluate_champions, explain_firm
from sf_spark.explore.firms import (
    FIRM_SOURCES,
    FirmSource,
    alert_reasons,
    alerted_firm,
    firm_file,
    firm_rows,
    firm_scores,
    last_scored_month,
    visible_to,
)
from sf_spark.explore.labels import NAF_SECTION_NAMES, REGION_NAMES, TOPIC_LABELS
from sf_spark.explore.workspace import project_root

__all__ = [
    "FIRM_SOURCES",
    "NAF_SECTION_NAMES",
    "REGION_NAMES",
    "TOPIC_LABELS",
    "ChampionEvaluation",
    "FirmSource",
    "alert_reasons",
    "alerted_firm",
    "champion_table",
    "evaluate_champions",
    "explain_firm",
    "firm_file",
    "firm_rows",
    "firm_scores",
    "last_scored_month",
    "project_root",
    "visible_to",
]
