"""The train step and the model objects scoring and notebooks use.

Public entry points: `train_models` (the pipeline step), `predict` (every horizon's calibrated,
monotone probability and alert level on a DataFrame of `gold/features` rows), `load_champions`,
`fit_windows` (what the procedure learns from at a date), and the exact metrics of `sf_spark.models.metrics`.
"""

from __future__ import annotations

from sf_spark.models.engine import predict, slot_names
from sf_spark.models.registry import NoChampionError, load_champions
from sf_spark.models.settings import ModelSettings
from sf_spark.models.splits import FitWindows, fit_windows
from sf_spark.models.training import train_models

__all__ = [
    "FitWindows",
    "ModelSettings",
    "NoChampionError",
    "fit_windows",
    "load_champions",
    "predict",
    "slot_names",
    "train_models",
]
