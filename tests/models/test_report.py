"""The training report on synthetic horizons: sections, embedded figures, group tables, aggregates only."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest

from sf_spark.features.catalogue import TOPICS
from sf_spark.models import metrics
from sf_spark.models.agents import AGENTS_COLUMNS, REASONS_COLUMNS
from sf_spark.models.report import HorizonResult, render_report, write_report

WINDOWS = {
    "train_start": "2016-01",
    "train_end": "2019-12",
    "calibration_start": "2021-01",
    "calibration_end": "2021-12",
    "test_start": "2023-01",
    "test_end": "2023-12",
}
MONTHS = [f"2023-{m:02d}" for m in range(1, 13)]
REGIONS = ["11", "24", "32", "44", "84", "93"]
SECTIONS = ["C", "F", "G", "H", "I", "N"]
ROW_WEIGHT = 25_000  # each synthetic row stands for many, so totals reach nine digits and must be formatted
CORE_FIGURES = ["reliability", "precision-recall", "roc", "score-distribution", "alerts-by-month", "importance"]
SHAP_FIGURES = ["beeswarm", "shap-summary"]
RUN = {
    "run_id": "train-2024-06-01T10-15",
    "engine": "spark 3.5 gbt",
    "created_at": "2024-06-01 10:15 UTC",
    "data_versions": "urssaf 2024-05, dgefp 2024-05",
    "feature_catalogue": "v3",
    "tuning_trials": "40",
}


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def weighted(hist: pd.DataFrame) -> pd.DataFrame:
    return hist.assign(rows=hist["rows"] * ROW_WEIGHT, positives=hist["positives"] * ROW_WEIGHT)


def horizon_result(
    horizon: int, seed: int, *, oracle: bool = True, raw: bool = True, shap: bool = True, rows: int = 6000
) -> HorizonResult:
    """A plausible horizon: true probabilities, a noisy calibrated model, alerts, groups, importances."""
    rng = np.random.default_rng(seed)
    truth = _sigmoid(-4.2 + 0.02 * horizon + 1.1 * rng.normal(size=rows))
    failed = (rng.random(rows) < truth).astype(int)
    score = np.round(_sigmoid(_logit(truth) + 0.6 * rng.normal(size=rows)), 4)
    thresholds = {"red": float(np.quantile(score, 0.98)), "orange": float(np.quantile(score, 0.95))}
    raw_score = np.round(_sigmoid(_logit(score) + 1.5), 4)  # as if trained on up-weighted failures
    test = weighted(metrics.histogram_of(score, failed))
    truth_hist = weighted(metrics.histogram_of(np.round(truth, 4), failed))
    frame = pd.DataFrame(
        {
            "periode": rng.choice(MONTHS, rows),
            "region": rng.choice(REGIONS, rows),
            "naf_section": rng.choice(SECTIONS, rows),
            "score": score,
            "failed": failed,
        }
    )
    for level, threshold in thresholds.items():
        frame[level] = (frame["score"] >= threshold).astype(int)
        frame[f"{level}_positives"] = frame[level] * frame["failed"]

    values = {f"test_{k}": v for k, v in metrics.binary_metrics(test).items()}
    values |= {f"{level}_{k}": v for level, t in thresholds.items() for k, v in metrics.at_threshold(test, t).items()}
    values |= {"firm_test_roc_auc": values["test_roc_auc"] - 0.02, "firm_red_precision": values["red_precision"]}
    if oracle:
        values |= {f"oracle_{k}": v for k, v in metrics.binary_metrics(truth_hist).items() if k in ("roc_auc", "aucpr")}
        values |= {f"model_to_oracle_{k}": values[f"test_{k}"] / values[f"oracle_{k}"] for k in ("roc_auc", "aucpr")}

    by_month = frame.groupby("periode", as_index=False).agg(
        rows=("score", "size"),
        positives=("failed", "sum"),
        red=("red", "sum"),
        orange=("orange", "sum"),
        red_positives=("red_positives", "sum"),
        orange_positives=("orange_positives", "sum"),
    )
    groups = []
    for dimension in ("region", "naf_section"):
        for group, part in frame.groupby(dimension):
            hist = weighted(metrics.histogram_of(part["score"].to_numpy(), part["failed"].to_numpy()))
            figures = metrics.binary_metrics(hist)
            row = {
                "dimension": dimension,
                "group": group,
                "rows": figures["rows"],
                "positives": figures["positives"],
                "roc_auc": figures["roc_auc"],
                "aucpr": figures["aucpr"],
            }
            for level, threshold in thresholds.items():
                point = metrics.at_threshold(hist, threshold)
                row |= {
                    f"{level}_alerts": point["alerts"],
                    f"{level}_precision": point["precision"],
                    f"{level}_recall": point["recall"],
                }
            groups.append(row)

    features = [f"feature_{i:02d}" for i in range(30)]
    topics = [TOPICS[i % len(TOPICS)] for i in range(30)]
    importance = rng.dirichlet(np.linspace(3, 0.2, 30))
    shap_summary = shap_points = None
    if shap:
        shap_summary = pd.DataFrame({"feature": features, "topic": topics, "mean_abs_contribution": 2 * importance})
        points = []
        for feature, size in zip(features[:20], 2 * importance[:20], strict=True):
            quantile = rng.random(300)
            contribution = size * (2 * quantile - 1) * 1.5 + 0.1 * size * rng.normal(size=300)
            quantile[rng.random(300) < 0.1] = np.nan
            points.append(pd.DataFrame({"feature": feature, "contribution": contribution, "value_quantile": quantile}))
        shap_points = pd.concat(points, ignore_index=True)

    return HorizonResult(
        horizon=horizon,
        windows=WINDOWS,
        metrics=values,
        thresholds=thresholds,
        test_histogram=test,
        oracle_histogram=truth_hist if oracle else None,
        raw_histogram=weighted(metrics.histogram_of(raw_score, failed)) if raw else None,
        alerts_by_month=by_month,
        by_group=pd.DataFrame(groups),
        importance=pd.DataFrame({"feature": features, "topic": topics, "importance": importance}),
        shap_summary=shap_summary,
        shap_points=shap_points,
    )


@pytest.fixture(scope="module")
def results() -> list[HorizonResult]:
    return [horizon_result(h, seed) for seed, h in enumerate((24, 12, 18))]


@pytest.fixture(scope="module")
def page(results, tmp_path_factory) -> str:
    path = write_report(tmp_path_factory.mktemp("report") / "training" / "report.html", results, RUN)
    assert path.is_file()
    return path.read_text(encoding="utf-8")


def embedded_figures(page: str) -> dict[str, bytes]:
    found = re.findall(r'<figure id="([a-z0-9-]+)"[^>]*><img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    return {figure_id: base64.b64decode(data) for figure_id, data in found}


def without_images(page: str) -> str:
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)


def table(page: str, heading_id: str) -> str:
    start = page.index(f'id="{heading_id}"')
    return page[start : page.index("</table>", start)]


def test_one_section_per_horizon_in_increasing_order(page):
    assert re.findall(r'<section class="horizon" id="horizon-(\d+)"', page) == ["12", "18", "24"]
    assert all(f'href="#horizon-{h}"' in page for h in (12, 18, 24))


def test_every_expected_figure_is_an_embedded_png(page):
    figures = embedded_figures(page)
    expected = {f"h{h}-{name}" for h in (12, 18, 24) for name in CORE_FIGURES + SHAP_FIGURES}
    assert set(figures) == expected
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in figures.values())
    assert page.count("<img ") == len(expected)


def test_page_is_self_contained(page):
    text = without_images(page)
    assert "<script" not in text and "<link" not in text
    assert not re.search(r"""(src|href)=["'](https?:)?//""", text)


def test_run_facts_and_summary_across_horizons(page, results):
    summary = table(page, "summary")
    assert all(value in page for value in RUN.values())
    by_horizon = {r.horizon: r for r in results}
    for section in (
        "Windows",
        "Test window, per firm-month",
        "Red alerts, per firm-month",
        "Test window, per firm",
        "Oracle (the generator&#x27;s true probabilities)",
        "Model / oracle",
    ):
        assert f">{section}</th>" in summary
    auc_row = re.search(r"<tr><td>ROC AUC</td>(.*?)</tr>", summary).group(1)
    assert re.findall(r"<td>([^<]*)</td>", auc_row) == [
        f"{by_horizon[h].metrics['test_roc_auc']:.3f}" for h in (12, 18, 24)
    ]
    red_section = summary[summary.index(">Red alerts, per firm-month</th>") :]
    red_precision = re.search(r"<tr><td>precision</td><td>([^<]*)</td>", red_section).group(1)
    assert red_precision == f"{100 * by_horizon[12].metrics['red_precision']:.1f} %"
    assert "<td>2023-01 – 2023-12</td>" in summary


def test_group_tables_show_every_group_formatted(page, results):
    twelve = next(r for r in results if r.horizon == 12)
    by_region, by_section = table(page, "h12-by-region"), table(page, "h12-by-naf_section")
    assert all(f"<td>{g}</td>" in by_region for g in REGIONS)
    assert all(f"<td>{g}</td>" in by_section for g in SECTIONS)
    first = twelve.by_group[twelve.by_group["dimension"] == "region"].iloc[0]
    row = re.search(rf"<tr[^>]*><td>{first['group']}</td>(.*?)</tr>", by_region).group(1)
    assert f"<td>{first['rows']:,}</td>" in row
    assert f"<td>{first['roc_auc']:.3f}</td>" in row
    assert f"<td>{100 * first['red_precision']:.1f} %</td>" in row


def test_no_identifier_like_number_appears(page):
    assert not re.search(r"(?<!\d)\d{9}(?!\d)", without_images(page))


def test_missing_oracle_raw_and_contributions_still_render(tmp_path):
    result = horizon_result(12, 7, oracle=False, raw=False, shap=False)
    page = write_report(tmp_path / "report.html", [result], RUN).read_text(encoding="utf-8")
    assert set(embedded_figures(page)) == {f"h12-{name}" for name in CORE_FIGURES}
    assert "No additive contributions were computed" in page
    assert "Oracle" not in table(page, "summary") and "oracle" not in page.split("</section>")[1]


def test_small_groups_are_greyed(tmp_path):
    result = horizon_result(12, 3, oracle=False, shap=False)
    by_group = result.by_group.copy()
    by_group.loc[0, ["positives", "rows"]] = [4, 900]
    page = render_report([HorizonResult(**{**result.__dict__, "by_group": by_group})], RUN)
    assert re.search(rf'<tr class="thin"><td>{by_group.loc[0, "group"]}</td>', page)


def test_inputs_are_not_mutated(page, results):
    for seed, result in enumerate(results):
        fresh = horizon_result(result.horizon, seed)
        for field in ("test_histogram", "alerts_by_month", "by_group", "importance", "shap_points"):
            pd.testing.assert_frame_equal(getattr(result, field), getattr(fresh, field))


@pytest.mark.parametrize(
    ("field", "frame"),
    [
        ("by_group", lambda r: r.by_group.assign(siren="000000000")),
        ("by_group", lambda r: r.by_group.assign(dimension="siren")),
        ("importance", lambda r: r.importance.drop(columns="topic")),
    ],
)
def test_refuses_identifiers_and_malformed_inputs(field, frame):
    result = horizon_result(12, 5, shap=False)
    with pytest.raises(ValueError, match=field):
        render_report([HorizonResult(**{**result.__dict__, field: frame(result)})], RUN)


def test_refuses_duplicate_horizons():
    result = horizon_result(12, 5, shap=False)
    with pytest.raises(ValueError, match="one result per horizon"):
        render_report([result, result], RUN)


AGENTS = pd.DataFrame(
    [
        ("all", "all", "orange", 400, 40.0, 0.1, 120, 54, 0.45),
        ("all", "all", "red", 100, 30.0, 0.3, 60, 45, 0.75),
        ("region", "84", "red", 20, 5.0, 0.25, 0, 0, float("nan")),
        ("month", "2021-03", "red", 10, 4.0, 0.4, 8, 6, 0.75),
    ],
    columns=AGENTS_COLUMNS,
)
REASONS = pd.DataFrame(
    [("red", "deja_connue", 12, 0.8), ("red", "situation_saine", 3, 0.2)],
    columns=REASONS_COLUMNS,
)


def test_the_alerts_as_the_agents_judged_them(tmp_path):
    result = HorizonResult(
        **{**horizon_result(18, 2, shap=False).__dict__, "agents": AGENTS, "agents_reasons": REASONS}
    )
    page = render_report([result], RUN)
    overall = table(page, "h18-agents-all")
    cells = re.findall(r"<td>([^<]*)</td>", overall)
    assert cells == ["all", "100", "30.0 %", "60", "75.0 %", "400", "10.0 %", "120", "45.0 %"]
    assert (
        re.findall(r"<td>([^<]*)</td>", table(page, "h18-agents-region"))
        == ["84", "20", "25.0 %", "0", "–"] + ["–"] * 4
    )
    assert "2021-03" in table(page, "h18-agents-month")
    reasons = table(page, "h18-agents-reasons")
    assert "deja_connue" in reasons and "80.0 %" in reasons
    without = render_report([horizon_result(18, 2, shap=False)], RUN)
    assert "As the agents judged it" not in without
    with pytest.raises(ValueError, match="agents"):
        render_report([HorizonResult(**{**result.__dict__, "agents": AGENTS.assign(siren="1")})], RUN)
