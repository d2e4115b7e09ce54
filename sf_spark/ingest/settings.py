"""Settings of the ingest step (YAML section `ingest:`): importable without Spark."""

from __future__ import annotations

from pydantic import Field as SettingField

from sf_spark.strict import StrictModel


class IngestSettings(StrictModel):
    """Knobs of the ingest step (YAML section `ingest:`)."""

    scan_threads: int = SettingField(default=4, ge=1, description="files hashed in parallel on the driver")
    max_quarantine_share: float = SettingField(
        default=0.05, ge=0, le=1, description="a file with a larger share of its rows in quarantine fails the run"
    )
    share_min_rows: int = SettingField(
        default=100, ge=1, description="files with fewer data lines are not held to max_quarantine_share"
    )
    settle_seconds: float = SettingField(
        default=0, ge=0, description="files modified more recently than this are left for the next run"
    )
