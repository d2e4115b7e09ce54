"""Custom Spark ML stages of the models' pipelines (saved and loaded with the `PipelineModel`).

- `MissingToSentinel`: explicit missing-value handling for Spark's GBT, which has none: null
  and NaN become a value below every real one, so a split can isolate "unknown".
- `VectorElement`: one element of a vector column as a double (the positive class probability).
- `AlertLevel`: red / orange / green from a probability and the two thresholds stored in it.
"""

from __future__ import annotations

from pyspark import keyword_only
from pyspark.ml import Transformer
from pyspark.ml.functions import vector_to_array
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasInputCol, HasInputCols, HasOutputCol, HasOutputCols
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

SENTINEL = -1.0e12
ALERT_LEVELS = ("red", "orange", "green")


class MissingToSentinel(Transformer, HasInputCols, HasOutputCols, DefaultParamsReadable, DefaultParamsWritable):
    """Cast numeric columns to double and replace null and NaN by `value` (default far below any data)."""

    value = Param(Params._dummy(), "value", "replacement of null and NaN", typeConverter=TypeConverters.toFloat)

    @keyword_only
    def __init__(
        self, *, inputCols: list[str] | None = None, outputCols: list[str] | None = None, value: float = SENTINEL
    ) -> None:
        super().__init__()
        self._setDefault(value=SENTINEL)
        self._set(**self._input_kwargs)

    def _transform(self, dataset: DataFrame) -> DataFrame:
        filled = {}
        for source, target in zip(self.getInputCols(), self.getOutputCols(), strict=True):
            value = F.col(source).cast("double")
            filled[target] = F.when(value.isNull() | F.isnan(value), F.lit(self.getOrDefault(self.value))).otherwise(
                value
            )
        return dataset.withColumns(filled)


class VectorElement(Transformer, HasInputCol, HasOutputCol, DefaultParamsReadable, DefaultParamsWritable):
    """One element of a vector column, as a double column (e.g. the failure class of `probability`)."""

    index = Param(Params._dummy(), "index", "position in the vector", typeConverter=TypeConverters.toInt)

    @keyword_only
    def __init__(self, *, inputCol: str | None = None, outputCol: str | None = None, index: int = 1) -> None:
        super().__init__()
        self._setDefault(index=1)
        self._set(**self._input_kwargs)

    def _transform(self, dataset: DataFrame) -> DataFrame:
        element = vector_to_array(F.col(self.getInputCol()))[self.getOrDefault(self.index)]
        return dataset.withColumn(self.getOutputCol(), element)


class AlertLevel(Transformer, HasInputCol, HasOutputCol, DefaultParamsReadable, DefaultParamsWritable):
    """'red' when probability >= red threshold, 'orange' when >= orange threshold, else 'green'."""

    red = Param(Params._dummy(), "red", "red threshold (max F0.5 on calibration)", typeConverter=TypeConverters.toFloat)
    orange = Param(
        Params._dummy(), "orange", "orange threshold (max F2 on calibration)", typeConverter=TypeConverters.toFloat
    )

    @keyword_only
    def __init__(
        self,
        *,
        inputCol: str | None = None,
        outputCol: str | None = None,
        red: float | None = None,
        orange: float | None = None,
    ) -> None:
        super().__init__()
        self._set(**self._input_kwargs)

    def thresholds(self) -> dict[str, float]:
        return {"red": self.getOrDefault(self.red), "orange": self.getOrDefault(self.orange)}

    def level(self, probability: str) -> F.Column:
        """The alert level expression over any probability column."""
        t = self.thresholds()
        p = F.col(probability)
        return F.when(p >= t["red"], "red").when(p >= t["orange"], "orange").when(p.isNotNull(), "green")

    def _transform(self, dataset: DataFrame) -> DataFrame:
        return dataset.withColumn(self.getOutputCol(), self.level(self.getInputCol()))
