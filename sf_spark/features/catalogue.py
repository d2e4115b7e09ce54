"""The feature catalogue: every gold feature with its family, topic, unit, sources and rule.

The declarations that compute the features (`sf_spark.features.panel`) are its source; they build
Spark columns, so a copy as plain data, `catalogue.json`, lets anyone list names, topics, units and
sources without a JVM (`feature_catalogue`, `feature_names`, `feature_topics`). `python -m
sf_spark.features` rewrites the copy and `docs/feature-catalogue.md` from the declarations; a test
fails when they differ. Topics drive explanations; sources (owner administrations) drive what an
export profile may see.
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sf_spark.administrations import ADMINISTRATIONS

if TYPE_CHECKING:
    from pyspark.sql import Column

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
        "Generated from `sf_spark.features.panel` by `python -m sf_spark.features`. "
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


CATALOGUE_FILE = Path(__file__).with_name("catalogue.json")


def catalogue_json(features: list[Feature]) -> str:
    """The catalogue as JSON, one object per feature in column order (the content of `catalogue.json`)."""
    return json.dumps([asdict(f) for f in features], indent=1, ensure_ascii=False) + "\n"


@functools.cache
def _listed() -> tuple[Feature, ...]:
    # through the package's resources: the package may be imported from a zip (spark-submit --py-files)
    text = resources.files(__package__).joinpath(CATALOGUE_FILE.name).read_text(encoding="utf-8")
    rows = json.loads(text)
    return tuple(Feature(**{**row, "sources": tuple(row["sources"])}) for row in rows)


def feature_catalogue() -> list[Feature]:
    """Every feature of `gold/features`, in column order (read from `catalogue.json`: no JVM needed)."""
    return list(_listed())


def feature_names() -> list[str]:
    """The names of the features, in column order."""
    return [f.name for f in _listed()]


def feature_topics(features: list[Feature] | None = None) -> dict[str, str]:
    """Feature name -> topic, of `features` (default: the whole catalogue)."""
    return {f.name: f.topic for f in (_listed() if features is None else features)}
