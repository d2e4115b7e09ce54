"""Settings of the score step (`scoring:` in the YAML configuration)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sf_spark.administrations import RESTRICTED, Restricted
from sf_spark.strict import StrictModel

DEFAULT_PROFILES = {
    "score_only": [],
    "urssaf": ["urssaf"],
    "partial_activity": ["dgefp"],
    "financial": ["bdf", "dgfip"],
    "full": list(RESTRICTED),
}

# The monthly sources the model leans on most: URSSAF contributions, debts and headcounts arrive
# every month (a lag of 2 allows one late delivery); the register at least yearly.
DEFAULT_FRESHNESS = {
    "urssaf_cotisation": 2,
    "urssaf_debit": 2,
    "urssaf_effectif_ent": 2,
}


UselessReason = Literal["deja_connue", "situation_saine", "hors_perimetre", "donnees_erronees", "autre"]


class FeedbackSettings(StrictModel):
    """How the lists respect the agents' ratings and follow-ups (`scoring.feedback:`)."""

    known_after_months: int = Field(
        default=1,
        ge=0,
        description="the list of month m knows the ratings and follow-ups dated before the 1st of m + 1 + this",
    )
    quiet_reasons: list[UselessReason] = Field(
        default_factory=lambda: ["deja_connue", "situation_saine"],
        description="reasons of an `inutile` rating after which a firm is news again only if its risk rises",
    )
    news_probability_factor: float = Field(
        default=1.5,
        gt=1,
        description="a quietly rated firm is news again when its probability is this times the rated list's",
    )
    summary_months: int = Field(default=12, ge=1, description="months of lists the monthly summary of ratings covers")


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
    profiles: dict[str, list[Restricted]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_PROFILES.items()},
        description="profile -> administrations whose data it may see (Sirene identity and scores: every profile)",
    )
    export_profiles: list[str] = Field(default_factory=lambda: ["score_only", "urssaf", "full"])
    freshness: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_FRESHNESS),
        description="source -> most months its latest covered month may lie before the month scored; "
        "a staler (or never delivered) source stops `score` unless --allow-partial",
    )
    feedback: FeedbackSettings = Field(default_factory=FeedbackSettings)
    file_mode: str = Field(default="0640", pattern=r"^0?[0-7]{3}$", description="mode of the list files (octal)")
    folder_mode: str = Field(default="0750", pattern=r"^0?[0-7]{3}$", description="mode of the list folders")
