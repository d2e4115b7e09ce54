"""The score step: the month's calibrated probabilities, alert levels, explanations, news, drift and lists.

Public entry points: `score_period` (the pipeline step), `population_stability`, `with_history`,
and the export helpers of `sf_spark.scoring.exports`.
"""

from __future__ import annotations

from sf_spark.exports import lazy_exports

EXPORTS = {
    "population_stability": "drift",
    "with_history": "history",
    "score_period": "run",
    "ScoringSettings": "settings",
}
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
__all__ = sorted(EXPORTS)
