"""The benchmark runner's arithmetic: Amdahl shares, per-firm ratios, extrapolation and the Markdown table."""

from __future__ import annotations

import pytest

from benchmarks.run import amdahl, compare, markdown, months_between, ratios


def stage(wall: float, cpu: float, rows: int = 1000, firms: int = 1000) -> dict:
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mib": 100,
        "peak_rss_parts_mib": {"driver": 1, "jvm": 90},
        "rows": rows,
        "rows_per_s": round(rows / wall),
        "ms_per_firm": 1000 * wall / firms,
    }


def tier(name: str, firms: int, walls: dict[str, float], cpus: dict[str, float] | None = None) -> dict:
    cpus = cpus or walls
    model = {
        "train_rows": 10,
        "fit_seconds": 4.0,
        "aucpr": 0.3,
        "oracle_aucpr": 0.4,
        "roc_auc": 0.9,
        "oracle_roc_auc": 0.93,
        "model_to_oracle_aucpr": 0.75,
        "model_to_oracle_roc_auc": 0.968,
    }
    result = {
        "tier": name,
        "firms": firms,
        "start": "2014-01",
        "end": "2023-12",
        "seed": 1,
        "horizon": 18,
        "master": "local[2]",
        "shuffle_partitions": 8,
        "driver_memory": "1g",
        "started": "now",
        "machine": {"cpus": 2, "memory_gib": 24},
        "registered_firms": firms,
        "firms_in_scope": firms // 2,
        "stages": {k: stage(v, cpus[k], firms=firms) for k, v in walls.items()},
        "models": {"gbt": model, "lightgbm": {**model, "fit_seconds": 0.5}},
    }
    result["ratios"] = ratios(result)
    return result


def test_amdahl_splits_wall_time_from_cpu_time_on_two_cores():
    assert amdahl(100.0, 100.0, 2) == (1.0, 0.0)  # one core busy: all serial
    assert amdahl(100.0, 200.0, 2) == (0.0, 1.0)  # both cores busy: all parallel
    serial, parallel = amdahl(100.0, 150.0, 2)  # S + P/2 = 100, S + P = 150: S = 50, P = 100
    assert (serial, parallel) == pytest.approx((0.5, 0.5))
    assert amdahl(100.0, 40.0, 2) == (1.0, 0.0)  # waiting counts as serial


def test_months_between_counts_both_ends():
    assert months_between("2014-01", "2023-12") == 120
    assert months_between("2023-12", "2023-12") == 1


def test_ratios_within_one_run():
    result = tier("S", 10_000, {"scan": 2.0, "features": 50.0})
    assert result["ratios"]["feature_to_scan"] == 25.0
    assert result["ratios"]["fit_to_lightgbm"] == {"gbt": 8.0, "lightgbm": 1.0}
    assert result["ratios"]["model_to_oracle_aucpr"]["gbt"] == 0.75


def test_compare_gives_per_firm_ratios_and_a_linear_national_estimate():
    small = tier("S", 10_000, {"ingest": 120.0, "scan": 1.0, "features": 60.0, "score": 100.0})
    large = tier(
        "M",
        100_000,
        {"ingest": 1200.0, "scan": 5.0, "features": 330.0, "score": 190.0},
        cpus={"ingest": 2400.0, "scan": 5.0, "features": 495.0, "score": 190.0},
    )
    scaling = compare(large, small)
    features = scaling["stages"]["features"]
    # 60 s at 10k, 330 s at 100k: 3 ms per firm plus 30 s; per-firm cost ratio (330/100k) / (60/10k) = 0.55
    assert features == {"per_firm_ratio": 0.55, "fixed_s": 30.0, "ms_per_firm": 3.0, "national_s": 930.0}
    assert scaling["stages"]["ingest"]["per_firm_ratio"] == 1.0
    monthly = scaling["national_monthly_run"]
    assert monthly["ingest"]["this_machine_s"] == round(3600 / 120)  # one delivery of the 120 months
    assert monthly["features"]["serial_share"] == 0.5  # 330 s wall, 495 s CPU on 2 cores
    assert monthly["features"]["16_cores_s"] == round(930 * (0.5 + 0.5 * 2 / 16))
    assert monthly["score"]["64_cores_s"] == monthly["score"]["this_machine_s"]  # all serial: no gain
    assert monthly["total"]["this_machine_s"] == sum(
        monthly[s]["this_machine_s"] for s in ("ingest", "features", "score")
    )
    assert compare(small, large) == scaling  # order of the arguments does not matter


def test_markdown_has_a_row_per_stage_and_model():
    result = tier("M", 100_000, {"ingest": 1200.0, "scan": 5.0, "features": 330.0, "score": 190.0})
    result["scaling"] = compare(
        result, tier("S", 10_000, {"ingest": 120.0, "scan": 1.0, "features": 60.0, "score": 100.0})
    )
    text = markdown(result)
    for name in ("| ingest |", "| features |", "| score |", "| gbt |", "| lightgbm |", "| total |"):
        assert name in text
    assert "| features | 330.0 | 330.0 |" in text
