from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sf_spark.generate import GeneratorParams, generate_world

SMALL_WORLD = GeneratorParams(
    firms=2_000,
    start="2018-01",
    end="2022-12",
    seed=7,
    chunk_firms=1_000,
    write_panel=True,
    malformed_file_share=0.03,
    latin1_file_share=0.1,
)


class World:
    """A generated world and its ground truth, as the tests read them."""

    def __init__(self, root: Path, params: GeneratorParams) -> None:
        self.raw = root / "RAW"
        self.truth = root / "TRUTH"
        self.params = params
        self.summary = generate_world(self.raw, self.truth, params)
        self.dirt = json.loads((self.truth / "dirt.json").read_text())
        self.firms = pd.read_parquet(self.truth / "firms.parquet")
        self.failures = pd.read_parquet(self.truth / "failures.parquet")

    def files(self, prefix: str) -> list[Path]:
        """Delivered files of one source, oldest delivery first (duplicates excluded)."""
        duplicated = {self.raw / copy for copy in self.dirt["duplicated"]}
        found = [p for p in self.raw.glob(f"*/{prefix}_*") if p not in duplicated]
        return sorted(found, key=lambda p: (p.parent.name, p.name))

    def bad_lines(self, path: Path) -> set[int]:
        return set(self.dirt["malformed_lines"].get(str(path.relative_to(self.raw)), []))


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(tmp_path_factory.mktemp("world"), SMALL_WORLD)
