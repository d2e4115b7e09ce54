"""The feature catalogue: every gold feature with its family, topic, unit, sources and rule.

It is built from the same declarations that compute the features (`sf_spark.features.panel`),
so it cannot drift from the code. Topics drive explanations; sources (owner administrations)
drive what an export profile may see.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from pyspark.sql import Column

from sf_spark.administrations import ADMINISTRATIONS

TOPICS = ("social_debt", "partial_activity", "financial_health", "employment", "payment_plans", "sector", "identity")


@dataclass(frozen=True)
class Feature:
    """One column of `gold/features` and what it means."""

    name: str
    family: str
    topic: str
    unit: str
    sources: tuple[str, ...]
    rule: str
    description: str

    def __post_init__(self) -> None:
        if self.topic not in TOPICS:
            raise ValueError(f"feature {self.name}: unknown topic {self.topic!r}")
        unknown = set(self.sources) - set(ADMINISTRATIONS)
        if unknown:
            raise ValueError(f"feature {self.name}: unknown sources {sorted(unknown)}")


@dataclass(frozen=True)
class Declared:
    """A feature and the Spark expression that computes it over the panel's base columns."""

    feature: Feature
    expr: Column

    def column(self) -> Column:
        return self.expr.alias(self.feature.name)


def catalogue_markdown(features: list[Feature]) -> str:
    """The catalogue as a Markdown table, one row per feature."""
    lines = [
        "# Feature catalogue of `gold/features`",
        "",
        "Generated from `sf_spark.features.panel` by `python -m sf_spark.features.catalogue`. "
        "Every feature of month m uses only what was known at the end of m.",
        "",
        "| name | family | topic | unit | sources | point-in-time rule | description |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in features:
        row = asdict(f)
        row["sources"] = ", ".join(f.sources)
        lines.append(
            "| "
            + " | ".join(str(row[k]) for k in ("name", "family", "topic", "unit", "sources", "rule", "description"))
            + " |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Write `docs/feature-catalogue.md` (relative to the working folder).

    The declarations build Spark Columns, which need an active SparkContext: when there is none
    (the usual command-line case), a minimal local session is started for them and stopped after.
    """
    from pyspark import SparkContext

    from sf_spark.config import SparkSettings
    from sf_spark.features.panel import feature_catalogue
    from sf_spark.session import get_spark

    started = None
    if SparkContext._active_spark_context is None:
        started = get_spark(SparkSettings(master="local[1]", ui_enabled=False, log_level="ERROR"))
    try:
        features = feature_catalogue()
    finally:
        if started is not None:
            started.stop()
    target = Path("docs/feature-catalogue.md")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(catalogue_markdown(features), encoding="utf-8")
    print(f"wrote {target} ({len(features)} features)")


if __name__ == "__main__":
    main()
