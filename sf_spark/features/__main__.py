"""`python -m sf_spark.features`: rewrite the feature catalogue's data copy (`sf_spark/features/catalogue.json`)
and `docs/feature-catalogue.md` (relative to the working folder) from the declarations.

The declarations build Spark columns, which need an active SparkContext: a minimal local session is
started for them and stopped after.
"""

from __future__ import annotations

from pathlib import Path

from sf_spark.config import SparkSettings
from sf_spark.features.catalogue import CATALOGUE_FILE, catalogue_json, catalogue_markdown
from sf_spark.features.panel import declared_catalogue
from sf_spark.session import get_spark


def main() -> None:
    spark = get_spark(SparkSettings(master="local[1]", ui_enabled=False, log_level="ERROR"))
    try:
        features = declared_catalogue()
    finally:
        spark.stop()
    CATALOGUE_FILE.write_text(catalogue_json(features), encoding="utf-8")
    target = Path("docs/feature-catalogue.md")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(catalogue_markdown(features), encoding="utf-8")
    print(f"wrote {CATALOGUE_FILE} and {target} ({len(features)} features)")


if __name__ == "__main__":
    main()
