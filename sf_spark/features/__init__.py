"""The feature step: bronze -> silver -> `gold/features` (one row per siren and month).

Public entry points: `build_features` (the pipeline step, in `run`), `assemble_panel` and
`silver_tables` (pure DataFrame functions for notebooks and tests), `feature_catalogue`.
Names load on first use, so `sf_spark.features.settings` imports without Spark.
"""

from __future__ import annotations

from sf_spark.exports import lazy_exports

EXPORTS = {
    "Calendar": "build",
    "assemble_panel": "build",
    "silver_tables": "build",
    "build_features": "run",
    "infer_calendar": "run",
    "panel_statistics": "run",
    "feature_catalogue": "catalogue",
    "feature_names": "catalogue",
    "feature_topics": "catalogue",
}
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
__all__ = sorted(EXPORTS)
