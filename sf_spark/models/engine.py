"""The Spark ML pipeline of one horizon, for either engine, and prediction with several horizons.

A fitted horizon model is one `PipelineModel`:
  StringIndexer (categorical identity columns) -> [MissingToSentinel, GBT only] -> VectorAssembler
  -> classifier (Spark GBT or XGBoost) -> VectorElement (`model_score`, uncalibrated)
  -> IsotonicRegressionModel (`probability`, calibrated: centred isotonic) -> AlertLevel (`alert_level`).
Columns the pipeline makes for itself start with `_m_` and are dropped by `predict`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyspark.ml import Pipeline, PipelineModel, Transformer
from pyspark.ml.feature import StringIndexer, VectorAssembler
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sf_spark.models.stages import AlertLevel, MissingToSentinel, VectorElement

if TYPE_CHECKING:
    from sf_spark.models.settings import BoostingParams, EarlyStoppingSettings, ModelSettings

INTERNAL = "_m_"
FEATURES_VECTOR = f"{INTERNAL}features"
LABEL, WEIGHT = "label", "weight"
VALIDATION = f"{INTERNAL}validation"
SCORE, PROBABILITY, ALERT = "model_score", "probability", "alert_level"
INDEX_SUFFIX = "_index"
GBT_MAX_BINS = 64


@dataclass(frozen=True)
class ModelInputs:
    """The gold columns a model reads: numeric ones as they are, categorical ones through an index."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]


def model_inputs(available: Iterable[str], features: Iterable[str], settings: ModelSettings) -> ModelInputs:
    """Features of the catalogue present in the table, minus the excluded ones, split by kind."""
    present = set(available)
    usable = [f for f in features if f in present and f not in settings.excluded_features]
    categorical = tuple(f for f in usable if f in settings.categorical_features)
    return ModelInputs(tuple(f for f in usable if f not in categorical), categorical)


def slot_feature(slot: str) -> str:
    """The gold feature behind a vector slot name made by `feature_stages`."""
    name = slot.removeprefix(INTERNAL)
    return name.removesuffix(INDEX_SUFFIX) if slot.endswith(INDEX_SUFFIX) else name


def feature_stages(inputs: ModelInputs, engine: str) -> list[Transformer]:
    """Index the categorical columns and assemble one vector; for GBT make missing values explicit."""
    indexed = [f"{INTERNAL}{c}{INDEX_SUFFIX}" for c in inputs.categorical]
    stages: list = []
    if inputs.categorical:
        stages.append(
            StringIndexer(
                inputCols=list(inputs.categorical),
                outputCols=indexed,
                handleInvalid="keep",
                stringOrderType="alphabetAsc",
            )
        )
    numeric = list(inputs.numeric)
    if engine == "gbt":
        filled = [f"{INTERNAL}{c}" for c in numeric]
        stages.append(MissingToSentinel(inputCols=numeric, outputCols=filled))
        numeric = filled
    stages.append(VectorAssembler(inputCols=[*numeric, *indexed], outputCol=FEATURES_VECTOR, handleInvalid="keep"))
    return stages


def classifier(
    engine: str,
    params: BoostingParams,
    seed: int,
    xgboost_workers: int,
    base_rate: float = 0.5,
    early_stopping: EarlyStoppingSettings | None = None,
):
    """The gradient-boosted classifier of the engine, reading `_m_features`, `label` and `weight`.

    With `early_stopping` (window other than 'none') it also reads `_m_validation`: rows where it is true are
    not learnt from, only scored after each tree, and the trees stop as `EarlyStoppingSettings` says.

    `min_instances` is a row count for Spark's GBT. XGBoost only bounds a leaf's sum of hessians, p (1 - p)
    per row of logistic loss: the same floor is `min_instances` rows at the training set's (weighted)
    base rate. Read as a hessian sum, 100 would need about 5,000 rows per leaf at a 2 % base rate.
    """
    stopping = early_stopping is not None and early_stopping.window != "none"
    if engine == "gbt":
        from pyspark.ml.classification import GBTClassifier

        gbt = GBTClassifier(
            featuresCol=FEATURES_VECTOR,
            labelCol=LABEL,
            weightCol=WEIGHT,
            maxDepth=params.max_depth,
            maxIter=params.trees,
            stepSize=params.learning_rate,
            subsamplingRate=params.subsample,
            minInstancesPerNode=params.min_instances,
            maxBins=GBT_MAX_BINS,
            seed=seed,
            cacheNodeIds=True,
            predictionCol=f"{INTERNAL}prediction",
            **({"validationIndicatorCol": VALIDATION, "validationTol": early_stopping.tolerance} if stopping else {}),
        )
        return gbt.setProbabilityCol(f"{INTERNAL}probability").setRawPredictionCol(f"{INTERNAL}raw")
    if engine == "xgboost":
        from xgboost.spark import SparkXGBClassifier

        return SparkXGBClassifier(
            features_col=FEATURES_VECTOR,
            label_col=LABEL,
            weight_col=WEIGHT,
            max_depth=params.max_depth,
            n_estimators=params.trees,
            learning_rate=params.learning_rate,
            subsample=params.subsample,
            min_child_weight=params.min_instances * base_rate * (1.0 - base_rate),
            num_workers=xgboost_workers,
            random_state=seed,
            verbose=False,
            tree_method="hist",
            probability_col=f"{INTERNAL}probability",
            raw_prediction_col=f"{INTERNAL}raw",
            prediction_col=f"{INTERNAL}prediction",
            **(
                {
                    "validation_indicator_col": VALIDATION,
                    "early_stopping_rounds": early_stopping.rounds,
                    "eval_metric": "logloss",
                }
                if stopping
                else {}
            ),
        )
    raise ValueError(f"unknown engine {engine!r}: use 'gbt' or 'xgboost'")


def scoring_pipeline(
    inputs: ModelInputs,
    engine: str,
    params: BoostingParams,
    seed: int,
    xgboost_workers: int = 1,
    base_rate: float = 0.5,
    early_stopping: EarlyStoppingSettings | None = None,
) -> Pipeline:
    """Features, classifier and the uncalibrated score `model_score` (failure class probability)."""
    return Pipeline(
        stages=[
            *feature_stages(inputs, engine),
            classifier(engine, params, seed, xgboost_workers, base_rate, early_stopping),
            VectorElement(inputCol=f"{INTERNAL}probability", outputCol=SCORE, index=1),
        ]
    )


def alert_stage(model: PipelineModel) -> AlertLevel:
    """The model's last stage, which holds its alert thresholds."""
    stage = model.stages[-1]
    if not isinstance(stage, AlertLevel):
        raise ValueError("not a horizon model of this project: its last stage is not AlertLevel")
    return stage


def classifier_stage(model: PipelineModel):
    """The fitted classifier inside a horizon model."""
    for stage in model.stages:
        if type(stage).__name__ in ("GBTClassificationModel", "SparkXGBClassifierModel"):
            return stage
    raise ValueError("no gradient-boosted classifier in this pipeline")


def trees_kept(model: PipelineModel) -> int:
    """How many boosting iterations the fitted classifier predicts with (after any early stopping)."""
    stage = classifier_stage(model)
    if type(stage).__name__ == "GBTClassificationModel":
        return int(stage.getNumTrees)
    booster = stage.get_booster()
    best = booster.attr("best_iteration")
    return int(best) + 1 if best is not None else booster.num_boosted_rounds()


def slot_names(model: PipelineModel) -> list[str]:
    """Gold feature names of the classifier's vector slots, in order."""
    assembler = next(s for s in model.stages if isinstance(s, VectorAssembler))
    return [slot_feature(c) for c in assembler.getInputCols()]


def monotone_horizons(horizons: Iterable[int], column: str = PROBABILITY) -> dict[str, F.Column]:
    """Probabilities made non-decreasing with the horizon (running maximum): P12 <= P18 <= P24."""
    out: dict[str, F.Column] = {}
    previous: F.Column | None = None
    for h in sorted(horizons):
        current = F.col(f"{column}_{h}")
        current = current if previous is None else F.greatest(previous, current)
        out[f"{column}_{h}"] = current
        previous = current
    return out


def calibrated(models: dict[int, PipelineModel], df: DataFrame) -> DataFrame:
    """Every horizon's `model_score_h` and calibrated `probability_h` on `df`, before the horizons are made
    monotone; input columns are kept."""
    out = df
    for h in sorted(models):
        out = models[h].transform(out)
        out = out.withColumnsRenamed({SCORE: f"{SCORE}_{h}", PROBABILITY: f"{PROBABILITY}_{h}"})
        out = out.drop(ALERT, *[c for c in out.columns if c.startswith(INTERNAL)])
    return out


def predict(models: dict[int, PipelineModel], df: DataFrame) -> DataFrame:
    """Every horizon's score on `df`: `model_score_h`, `probability_h` (calibrated, monotone across
    horizons) and `alert_level_h` from each model's stored thresholds; input columns are kept."""
    out = calibrated(models, df).withColumns(monotone_horizons(models))
    return out.withColumns({f"{ALERT}_{h}": alert_stage(m).level(f"{PROBABILITY}_{h}") for h, m in models.items()})


def horizon_disorder(horizons: Iterable[int], column: str = PROBABILITY) -> tuple[F.Column, F.Column]:
    """Before `monotone_horizons`: whether a row has a shorter horizon above a longer one, and by how much
    (the largest drop of probability from a shorter horizon to any longer one, 0 when ordered)."""
    ordered = sorted(horizons)
    drops = [F.col(f"{column}_{a}") - F.col(f"{column}_{b}") for i, a in enumerate(ordered) for b in ordered[i + 1 :]]
    if not drops:
        return F.lit(False), F.lit(0.0)
    size = F.greatest(F.lit(0.0), *drops)
    return size > 0, size
