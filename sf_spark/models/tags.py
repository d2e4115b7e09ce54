"""The tags of a registered horizon model, named once: written by `train`, read by `score` (the drift
reference window) and by the notebooks (thresholds, windows, staleness)."""

from __future__ import annotations

RUN_ID = "run_id"
DATA_VERSION = "data_version_gold_features"
CATALOGUE_VERSION = "feature_catalogue_version"
TRAIN_START, TRAIN_END = "train_start", "train_end"
CALIBRATION_START, CALIBRATION_END = "calibration_start", "calibration_end"
OUTCOMES_KNOWN_UNTIL = "outcomes_known_until"
TEST_START, TEST_END = "test_start", "test_end"
WINDOWS = (TRAIN_START, TRAIN_END, CALIBRATION_START, CALIBRATION_END, OUTCOMES_KNOWN_UNTIL, TEST_START, TEST_END)
NEWEST_TRAINING_MONTH = "newest_training_month"
LAST_DATA_MONTH = "last_data_month"
STALENESS_MONTHS = "staleness_months"
TREES_KEPT = "trees_kept"
BACKTEST_AUCPR = "backtest_aucpr"
TEST_AUCPR = "test_aucpr"
BACKTEST_AUCPR_BY_ORIGIN = "backtest_aucpr_by_origin"


def threshold(level: str) -> str:
    """The tag of an alert level's threshold on the calibrated probability (red, orange)."""
    return f"threshold_{level}"
