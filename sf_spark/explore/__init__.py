"""What the notebooks of partner data scientists build on: a firm's file, the champions' evaluation, labels.

- `project_root`: the project folder, so a notebook resolves the configuration's relative paths from anywhere.
- `firm_file`, `firm_scores`, `alerted_firm`, `last_scored_month`, `alert_reasons`: one firm's histories (silver
  tables, filtered by what a profile may see), its scores, and why it is alerted, in words.
- `champion_table`, `evaluate_champions`, `explain_firm`: the MLflow champions' versions, thresholds and windows,
  their evaluation (the training step's own metrics) on their test window or any other, and one firm-month
  scored and explained by them whatever its alert level.
- `rating_history`, `followup_history`, `judged_by_agents`, `contested_scope`: the agents' ratings and
  follow-ups over time, the champions' alerts as the agents judged them, where they contest the scope.
- `REGION_NAMES`, `NAF_SECTION_NAMES`, `TOPIC_LABELS`: readable labels of codes for plots.
"""

from __future__ import annotations

from sf_spark.exports import lazy_exports

EXPORTS = {
    "contested_scope": "agents",
    "followup_history": "agents",
    "judged_by_agents": "agents",
    "rating_history": "agents",
    "ChampionEvaluation": "champions",
    "champion_table": "champions",
    "evaluate_champions": "champions",
    "explain_firm": "champions",
    "FIRM_SOURCES": "firms",
    "FirmSource": "firms",
    "alert_reasons": "firms",
    "alerted_firm": "firms",
    "firm_file": "firms",
    "firm_rows": "firms",
    "firm_scores": "firms",
    "last_scored_month": "firms",
    "visible_to": "firms",
    "NAF_SECTION_NAMES": "labels",
    "REGION_NAMES": "labels",
    "TOPIC_LABELS": "labels",
    "project_root": "workspace",
}
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
__all__ = sorted(EXPORTS)
