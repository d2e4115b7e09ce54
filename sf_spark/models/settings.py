"""Settings of the train step (`models:` in the YAML configuration)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sf_spark.strict import StrictModel


class BoostingParams(StrictModel):
    """Gradient-boosting parameters shared by both engines (each engine maps them to its own names)."""

    max_depth: int = Field(default=4, ge=1, le=12)
    trees: int = Field(default=300, ge=1, description="boosting iterations (a ceiling under early stopping)")
    learning_rate: float = Field(default=0.08, gt=0, le=1)
    subsample: float = Field(default=0.8, gt=0, le=1, description="share of rows drawn for each tree")
    min_instances: int = Field(
        default=4000,
        ge=1,
        description="minimum rows per leaf (XGBoost: the hessian of that many rows at the training base rate)",
    )


class EarlyStoppingSettings(StrictModel):
    """How many trees to keep, decided on the calibration window's log loss while the trees are grown.

    Rows of one firm in consecutive months are nearly copies of each other, so a boosted model soon starts
    telling the training window's failing firms apart rather than learning what fails firms; the loss on a
    later window stops falling there. GBT (Spark's `validationTol`) stops at the first tree that lowers that
    loss by less than `tolerance` x the loss; XGBoost stops after `rounds` trees without a new best and keeps
    the best. Both fit on the training window alone: the calibration rows are only scored.
    """

    window: Literal["calibration", "none"] = Field(
        default="calibration", description="'none': grow every tree of `params.trees`"
    )
    tolerance: float = Field(default=0.0, ge=0, description="GBT: relative loss improvement below which it stops")
    rounds: int = Field(default=20, ge=1, description="XGBoost: trees without a new best loss before it stops")


class TuneSettings(StrictModel):
    """Hyperopt search: TPE over these bounds, objective the calibration window's average precision."""

    trials: int = Field(default=0, ge=0, description="0: use `params` as configured")
    max_depth: tuple[int, int] = (3, 8)
    trees: tuple[int, int] = (40, 300)
    learning_rate: tuple[float, float] = (0.02, 0.3)
    subsample: tuple[float, float] = (0.5, 1.0)
    min_instances: tuple[int, int] = (50, 10_000)


class SplitSettings(StrictModel):
    """What the training procedure learns from, at the last month whose outcomes are known (months YYYY-MM).

    Each horizon trains on the months whose label window has ended, after the warm-up; one calibration
    window, the latest `calibration_months` labelled at every horizon, serves all horizons. Its rows come
    from the `calibration_firms` share of firms, which never train: they stop the trees, calibrate and
    give the thresholds, on outcomes the model has not seen and as close to today as every label allows.
    """

    calibration_months: int = Field(default=12, ge=1)
    calibration_firms: float = Field(
        default=0.25, gt=0, lt=1, description="share of firms kept out of training to stop, calibrate and threshold"
    )
    train_start: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}$")
    min_train_months: int = Field(default=12, ge=1)
    warm_up_months: int = Field(
        default=12,
        ge=0,
        description="training skips the panel's first months, whose lookback features are cut short by the start "
        "of the data (missing or partial where later rows are complete)",
    )


class BacktestSettings(StrictModel):
    """Rolling-origin backtests of the procedure: at each origin it is fitted on what was known then and
    scores the `step_months` after it; origins go back from the last month labelled at every horizon."""

    origins: int = Field(default=6, ge=0, description="0: no backtest (nothing to decide promotion on)")
    step_months: int = Field(default=6, ge=1, description="months between origins, and months scored after each")
    bootstrap: int = Field(default=200, ge=0, description="firm-clustered bootstrap replicates of the intervals")
    confidence: float = Field(default=0.9, gt=0, lt=1, description="level of the bootstrap intervals")


class CalibrationSettings(StrictModel):
    """Centred isotonic calibration, with blocks pooled until each holds enough failures and non-failures."""

    min_block_positives: int = Field(
        default=10, ge=1, description="failures (and non-failures) each pooled block needs at least"
    )


class CrisisSettings(StrictModel):
    """How training rows of the crisis months are treated: kept, down-weighted or excluded."""

    policy: Literal["keep", "weight", "exclude"] = "weight"
    start: str = Field(default="2020-03", pattern=r"^\d{4}-\d{2}$")
    end: str = Field(default="2021-06", pattern=r"^\d{4}-\d{2}$")
    weight: float = Field(default=0.5, gt=0, le=1, description="instance weight factor under policy 'weight'")


class FollowupSettings(StrictModel):
    """How the rows whose outcome the agents' help may have changed are learnt from.

    A row's outcome window (months m+1 .. m+h) is *help-censored* when a follow-up of the agents was in
    force in it, or began in it before any opening (`gold/features.help_censored_h`): the firm's own
    outcome, without help, is not observed. `naive` learns from those rows as if nothing happened;
    `censor` leaves them out (a failure before the follow-up began is kept); `exclude` leaves out every
    row whose window meets a follow-up, failed or not; `weight` keeps them with weight `weight`.
    """

    policy: Literal["naive", "censor", "exclude", "weight"] = "censor"
    weight: float = Field(default=0.25, gt=0, le=1, description="instance weight factor under policy 'weight'")


class ModelSettings(StrictModel):
    """Which engine, which horizons, how to split, weight, tune, calibrate, alert and register."""

    engine: Literal["gbt", "xgboost"] = "xgboost"
    horizons: list[Literal[12, 18, 24]] = Field(default_factory=lambda: [12, 18, 24])
    params: BoostingParams = Field(default_factory=BoostingParams)
    early_stopping: EarlyStoppingSettings = Field(default_factory=EarlyStoppingSettings)
    tune: TuneSettings = Field(default_factory=TuneSettings)
    splits: SplitSettings = Field(default_factory=SplitSettings)
    backtest: BacktestSettings = Field(default_factory=BacktestSettings)
    calibration: CalibrationSettings = Field(default_factory=CalibrationSettings)
    crisis: CrisisSettings = Field(default_factory=CrisisSettings)
    followup: FollowupSettings = Field(default_factory=FollowupSettings)
    positive_weight: Literal["balanced", "sqrt_balanced"] | float = Field(
        default=1.0,
        description="instance weight of failing rows: a number, 'balanced' (negatives / positives) or its square root",
    )
    categorical_features: list[str] = Field(default_factory=lambda: ["naf_section", "region", "size_band"])
    excluded_features: list[str] = Field(
        default_factory=lambda: ["departement", "legal_category"], description="gold columns never given to a model"
    )
    red_beta: float = Field(default=0.5, gt=0, description="red alert threshold maximises this F-beta")
    orange_beta: float = Field(default=2.0, gt=0, description="orange alert threshold maximises this F-beta")
    xgboost_workers: int = Field(default=2, ge=1)
    explain_sample_rows: int = Field(default=2000, ge=0, description="backtest rows explained for the report")
    registry_prefix: str = "signaux_faibles_h"
    champion_alias: str = "champion"
