"""Every knob of the synthetic world generator, with documented defaults (YAML key `generator:`)."""

from __future__ import annotations

from pydantic import Field, model_validator

from sf_spark.generate.agents import AgentParams
from sf_spark.strict import StrictModel


class GeneratorParams(StrictModel):
    """Parameters of `generate_world`: the same seed and parameters (chunk size too) give the same bytes."""

    firms: int = Field(10_000, ge=1, description="firms of in-scope size (>= 10 employees) ever in the world")
    small_firm_ratio: float = Field(
        0.25, ge=0, description="extra firms below the scope threshold (1-9 employees), per firm of `firms`"
    )
    start: str = Field(
        "2019-01", pattern=r"^\d{4}-\d{2}$", description="first simulated month, YYYY-MM (five years, as partners keep)"
    )
    end: str = Field("2023-12", pattern=r"^\d{4}-\d{2}$", description="last simulated month, YYYY-MM")
    seed: int = Field(42, description="seed of every random draw")
    chunk_firms: int = Field(5_000, ge=100, description="firms generated and written together (memory bound)")

    crisis_start: str = Field("2020-03", pattern=r"^\d{4}-\d{2}$", description="first month of the crisis")
    crisis_end: str = Field("2021-06", pattern=r"^\d{4}-\d{2}$", description="last month of the crisis")
    crisis_hazard_factor: float = Field(0.45, gt=0, description="failure hazard multiplier during the crisis")
    catch_up_months: int = Field(12, ge=0, description="months after the crisis with a raised hazard")
    catch_up_hazard_factor: float = Field(1.35, gt=0, description="hazard multiplier at the start of catch-up")
    crisis_deferral_share: float = Field(
        0.22,
        ge=0,
        le=1,
        description="monthly chance, x sector exposure, of deferring contributions (6 first crisis months)",
    )
    crisis_partial_activity_share: float = Field(
        0.55,
        ge=0,
        le=1,
        description="chance, x sector exposure, of requesting partial activity in the first crisis month",
    )

    base_hazard_scale: float = Field(1.0, gt=0, description="multiplier of every monthly failure hazard")
    voluntary_closure_rate: float = Field(0.003, ge=0, description="monthly closure hazard without proceedings")
    entry_rate: float = Field(0.004, ge=0, description="monthly creations, as a share of the firms alive at the start")

    urssaf_delivery_day: int = Field(5, ge=1, le=28, description="day of month of URSSAF monthly deliveries")
    effectif_every_months: int = Field(3, ge=1, description="months between headcount deliveries")
    effectif_window_months: int = Field(12, ge=1, description="months covered by one headcount delivery")
    sirene_every_months: int = Field(12, ge=1, description="months between Sirene stock snapshots")
    accounts_every_months: int = Field(3, ge=1, description="months between bdf / liasses deliveries")
    delivery_tail_months: int = Field(3, ge=1, description="deliveries continue this many months after `end`")
    accounts_min_lag_months: int = Field(7, ge=0, description="earliest delivery after the closing month")

    latin1_file_share: float = Field(
        0.05, ge=0, le=1, description="share of delais / effectif files written in Latin-1"
    )
    lost_zeros_file_share: float = Field(
        0.05,
        ge=0,
        le=1,
        description="share of cotisdues / effectif / pcoll files whose ids lost leading zeros",
    )
    malformed_file_share: float = Field(
        0.05, ge=0, le=1, description="share of plain (not gzipped) files given malformed lines"
    )
    malformed_lines_per_file: int = Field(3, ge=0, description="malformed lines added to such a file")
    duplicated_files: int = Field(
        1, ge=0, description="debits / cotisdues files delivered again, identical, in the next folder"
    )
    french_month_file_share: float = Field(
        0.3, ge=0, le=1, description="share of bdf files writing ARRETE_BILAN with French month names"
    )
    gzip_sources: list[str] = Field(
        default_factory=lambda: ["sirene_ul", "sirene_etab"], description="sources written as .csv.gz"
    )
    agents: AgentParams = Field(
        default_factory=AgentParams, description="the agents who act on the lists (their tool's exports)"
    )
    write_panel: bool = Field(False, description="also write TRUTH/panel (monthly firm state; for tests)")

    @model_validator(mode="after")
    def _months_ordered(self) -> GeneratorParams:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        if self.crisis_start > self.crisis_end:
            raise ValueError("crisis_start must not be after crisis_end")
        return self
