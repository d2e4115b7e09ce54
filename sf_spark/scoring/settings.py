"""Settings of the score step (`scoring:` in the YAML configuration)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sf_spark.strict import StrictModel

DEFAULT_PROFILES = {
    "score_only": [],
    "urssaf": ["urssaf"],
    "partial_activity": ["dgefp"],
    "financial": ["bdf", "dgfip"],
    "full": ["urssaf", "dgefp", "bdf", "dgfip"],
}


class ScoringSettings(StrictModel):
    """Explanations, drift warning and the agents' exports."""

    top_features: int = Field(default=5, ge=1, description="features listed in each alerted firm's explanation")
    drift_threshold: float = Field(
        default=0.25, gt=0, description="PSI at or above which a feature has shifted; any such feature warns"
    )
    drift_reference_horizon: Literal[12, 18, 24] = Field(
        default=18, description="the champion whose training window is the drift reference"
    )
    export_horizon: Literal[12, 18, 24] = Field(default=18, description="horizon whose alert level makes the lists")
    profiles: dict[str, list[Literal["urssaf", "dgefp", "bdf", "dgfip"]]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_PROFILES.items()},
        description="profile -> administrations whose data it may see (Sirene identity and scores: every profile)",
    )
    export_profiles: list[str] = Field(default_factory=lambda: ["score_only", "urssaf", "full"])
