"""The catalogue of tables: every name defined once, and each step reading only the layer before its own."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from sf_spark.lake import tables

PACKAGE = Path(tables.__file__).resolve().parents[1]
TABLE_NAME = re.compile(r"^(bronze|silver|gold)/[a-z_]+$")
# The layers each step's package may name (read or write); the sources' freshness is ingest's record,
# which scoring reads to refuse stale input.
STEP_LAYERS = {
    "ingest": {"bronze"},
    "features": {"bronze", "silver", "gold"},
    "models": {"gold"},
    "scoring": {"gold", tables.FRESHNESS},
}


def names_used(module: Path) -> tuple[set[str], list[str]]:
    """The tables a module names through the catalogue (`tables.X`, `tables.silver(..)`, `tables.bronze(..)`),
    and the string constants in it that look like a table name."""
    tree = ast.parse(module.read_text())
    imports_catalogue = any(
        isinstance(n, ast.ImportFrom) and n.module == "sf_spark.lake" and any(a.name == "tables" for a in n.names)
        for n in ast.walk(tree)
    )
    used, literals = set(), []
    for node in ast.walk(tree):
        if (
            imports_catalogue
            and isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "tables"
        ):
            value = getattr(tables, node.attr)
            if isinstance(value, str) and "/" in value:
                used.add(value)
            elif node.attr in ("silver", "bronze"):
                used.add(f"{node.attr}/*")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and TABLE_NAME.match(node.value):
            literals.append(node.value)
    return used, literals


def test_table_names_are_written_only_in_the_catalogue():
    found = {
        str(m.relative_to(PACKAGE)): lit
        for m in PACKAGE.rglob("*.py")
        if m.name != "tables.py" and (lit := names_used(m)[1])
    }
    assert found == {}


@pytest.mark.parametrize("step", sorted(STEP_LAYERS))
def test_each_step_names_only_the_tables_of_its_layers(step):
    allowed = STEP_LAYERS[step]
    wrong = {}
    for module in (PACKAGE / step).rglob("*.py"):
        used, _ = names_used(module)
        if bad := sorted(t for t in used if t not in allowed and t.split("/")[0] not in allowed):
            wrong[module.name] = bad
    assert wrong == {}


def test_scoring_would_be_caught_reading_silver(tmp_path):
    module = tmp_path / "leaky.py"
    module.write_text("from sf_spark.lake import tables\nfirms = lake.read(tables.silver('firms'))\n")
    assert names_used(module) == ({"silver/*"}, [])


def test_names_and_layers():
    assert tables.bronze("urssaf_debit") == "bronze/urssaf_debit"
    assert tables.silver("firms") == "silver/firms"
    with pytest.raises(ValueError, match="no silver table 'firm'"):
        tables.silver("firm")
    assert [tables.layer(t) for t in (tables.INGEST_LOG, tables.silver("proceedings"), tables.SCORES)] == [
        "bronze",
        "silver",
        "gold",
    ]
    with pytest.raises(ValueError, match="not a table of the lake"):
        tables.layer("_tmp/mlflow")
