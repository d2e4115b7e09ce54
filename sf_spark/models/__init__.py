"""The train step and the model objects scoring and notebooks use.

Public entry points: `train_models` (the pipeline step), `predict` (every horizon's calibrated,
monotone probability and alert level on a DataFrame of `gold/features` rows), `load_champions`,
`fit_windows` (what the procedure learns from at a date), and the exact metrics of `sf_spark.models.metrics`.
"""

from __future__ import annotations

from sf_spark.exports import lazy_exports

EXPORTS = {
    "predict": "engine",
    "slot_names": "engine",
    "NoChampionError": "registry",
    "load_champions": "registry",
    "ModelSettings": "settings",
    "FitWindows": "splits",
    "fit_windows": "splits",
    "train_models": "run",
}
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
__all__ = sorted(EXPORTS)
