"""The score step: the month's calibrated probabilities, alert levels, explanations, news, drift and lists.

Public entry points: `score_period` (the pipeline step), `population_stability`, `with_history`,
and the export helpers of `sf_spark.scoring.exports`.
"""

from __future__ import annotations

from sf_spark.scoring.drift import population_stability
from sf_spark.scoring.history import with_history
from sf_spark.scoring.run import score_period
from sf_spark.scoring.settings import ScoringSettings

__all__ = ["ScoringSettings", "population_stability", "score_period", "with_history"]
