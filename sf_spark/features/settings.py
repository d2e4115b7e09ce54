"""Settings of the feature step (`features:` in the YAML configuration)."""

from __future__ import annotations

from pydantic import Field

from sf_spark.strict import StrictModel


class FeatureSettings(StrictModel):
    """Calendar bounds and publication lags of the panel."""

    first_month: str | None = Field(default=None, description="YYYY-MM; default: the first month of headcount data")
    last_month: str | None = Field(default=None, description="YYYY-MM; default: the latest month with any data")
    dgfip_publication_lag_months: int = Field(default=7, ge=0)
    bdf_publication_lag_months: int = Field(default=7, ge=0)
