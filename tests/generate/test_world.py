"""Determinism, dirt, parameters and the targets of the failure process."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sf_spark.generate import GeneratorParams, generate_world

from .contract_parsers import read_delivery, read_text

TINY = dict(firms=300, start="2019-01", end="2020-12", chunk_firms=200)


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_other_world(tmp_path):
    first = generate_world(tmp_path / "a" / "RAW", tmp_path / "a" / "TRUTH", GeneratorParams(**TINY, seed=3))
    generate_world(tmp_path / "b" / "RAW", tmp_path / "b" / "TRUTH", GeneratorParams(**TINY, seed=3))
    generate_world(tmp_path / "c" / "RAW", tmp_path / "c" / "TRUTH", GeneratorParams(**TINY, seed=4))
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a" / "RAW") != _digest(tmp_path / "c" / "RAW")
    assert first["firms"] == 375 and first["rows"]["urssaf_cotisation"] > 0


def test_refuses_to_write_into_a_non_empty_folder(tmp_path):
    (tmp_path / "RAW").mkdir()
    (tmp_path / "RAW" / "old.csv").write_text("x")
    with pytest.raises(FileExistsError):
        generate_world(tmp_path / "RAW", tmp_path / "TRUTH", GeneratorParams(**TINY))


def test_params_are_strict_and_survive_yaml():
    params = GeneratorParams(firms=123, gzip_sources=["bdf_ratios"])
    assert GeneratorParams(**yaml.safe_load(yaml.safe_dump(params.model_dump()))) == params
    with pytest.raises(ValueError):
        GeneratorParams(firm=10)
    with pytest.raises(ValueError):
        GeneratorParams(start="2020-01", end="2019-01")


def test_dirt_is_listed_and_real(world):
    dirt = world.dirt
    assert dirt["latin1"] and dirt["lost_leading_zeros"] and dirt["malformed_lines"] and dirt["duplicated"]
    for name in dirt["latin1"]:
        raw = (world.raw / name).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        assert "é" in raw.decode("latin-1") or "è" in raw.decode("latin-1")
    for name in dirt["gzip"]:
        gzip.decompress((world.raw / name).read_bytes())
    for copy, original in dirt["duplicated"].items():
        assert (world.raw / copy).read_bytes() == (world.raw / original).read_bytes()
        assert copy.split("/")[1] == original.split("/")[1] and copy.split("/")[0] > original.split("/")[0]
    for name, numbers in dirt["malformed_lines"].items():
        path = world.raw / name
        lines = read_text(path).splitlines()
        separator = {"liasses": "|", "jugements": "|"}.get(path.name.split("_")[0])
        separator = separator or ("," if path.name.startswith("act_") else ";")
        width = lines[0].count(separator)
        assert [n for n, line in enumerate(lines, 1) if line.count(separator) != width] == numbers


def _auc(score: np.ndarray, label: np.ndarray) -> float:
    ranks = pd.Series(score).rank().to_numpy()
    positives = label.sum()
    return (ranks[label].sum() - positives * (positives + 1) / 2) / (positives * (len(label) - positives))


def _labelled_rows(truth: Path, horizon: int, crisis: tuple[str, str]) -> pd.DataFrame:
    rows = pd.read_parquet(truth / "probabilities")
    failures = pd.read_parquet(truth / "failures.parquet")
    periode = pd.to_datetime(rows["periode"])
    failed = pd.to_datetime(rows["siren"].map(failures.set_index("siren")["failure_date"]))
    ahead = (failed.dt.year - periode.dt.year) * 12 + (failed.dt.month - periode.dt.month)
    rows["label"] = (ahead > 0) & (ahead <= horizon)
    uncensored = periode + pd.DateOffset(months=horizon) <= periode.max()
    outside = (periode < crisis[0]) | (periode > crisis[1])
    return rows[rows["in_scope"] & uncensored & outside]


def test_base_rate_oracle_auc_and_crisis_follow_the_targets(tmp_path):
    params = GeneratorParams(firms=6_000, start="2016-01", end="2022-12", seed=11)
    generate_world(tmp_path / "RAW", tmp_path / "TRUTH", params)
    rows = _labelled_rows(tmp_path / "TRUTH", 18, (params.crisis_start + "-01", params.crisis_end + "-01"))
    assert 0.02 <= rows["label"].mean() <= 0.04
    assert 0.88 <= _auc(rows["p_18"].to_numpy(), rows["label"].to_numpy()) <= 0.95

    alive = pd.read_parquet(tmp_path / "TRUTH" / "probabilities", columns=["periode"])["periode"].astype(str)
    failed = pd.read_parquet(tmp_path / "TRUTH" / "failures.parquet")["failure_date"].astype(str)

    def monthly_rate(first: str, last: str) -> float:
        return failed.between(first, last + "-31").sum() / alive.between(first, last + "-01").sum()

    before = monthly_rate("2017-01", "2019-12")
    assert monthly_rate(params.crisis_start, params.crisis_end) < 0.75 * before
    assert monthly_rate("2021-07", "2022-06") > 1.1 * before


def test_true_probabilities_are_calibrated_and_ordered(world):
    rows = pd.read_parquet(world.truth / "probabilities")
    assert (rows["p_12"] <= rows["p_18"]).all() and (rows["p_18"] <= rows["p_24"]).all()
    assert rows["siren"].str.fullmatch(r"\d{9}").all()
    labelled = _labelled_rows(world.truth, 12, ("1900-01-01", "1900-01-01"))
    assert abs(labelled["label"].mean() - labelled["p_12"].mean()) < 0.25 * labelled["p_12"].mean()


def test_signals_move_before_failures(world):
    panel = pd.read_parquet(world.truth / "panel")
    panel["periode"] = pd.to_datetime(panel["periode"])
    failure = pd.to_datetime(panel["siren"].map(world.failures.set_index("siren")["failure_date"]))
    ahead = (failure.dt.year - panel["periode"].dt.year) * 12 + (failure.dt.month - panel["periode"].dt.month)
    unpaid = (panel["due_cents"] - panel["paid_cents"]) > 0
    soon = unpaid[(ahead > 0) & (ahead <= 6)].mean()
    never = unpaid[failure.isna() & ((panel["periode"] < "2020-03-01") | (panel["periode"] > "2021-06-01"))].mean()
    assert soon > 3 * never and never > 0.005


def test_lost_leading_zeros_are_recovered_by_padding(world):
    known = set(world.firms["siren"])
    shortened = 0
    for name in world.dirt["lost_leading_zeros"]:
        path = world.raw / name
        frame = read_delivery(path, world.bad_lines(path))
        column = next(c for c in frame.columns if c.lower() in ("siren", "siret"))
        width = 9 if column.lower() == "siren" else 14
        values = frame[column].dropna()
        shortened += (values.str.len() < width).sum()
        assert set(values.str.zfill(width).str[:9]) <= known
    assert shortened > 0
