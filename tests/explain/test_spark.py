"""Explanations of fitted pipelines of both engines: contributions plus bias give the classifier's log-odds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyspark.ml import PipelineModel

from sf_spark.explain import CONTRIBUTIONS, classifier_index, explain, slot_names, tree_ensemble
from sf_spark.explain.spark import _attribute_names, _explain_batch
from sf_spark.explain.trees import LEAF, TreeEnsemble
from sf_spark.explain.treeshap import TreeShap
from tests.explain.conftest import FEATURES

TOLERANCE = 1e-6


def explained(model: PipelineModel, rows) -> pd.DataFrame:
    out = explain(model, rows).toPandas().sort_values("firm", ignore_index=True)
    out["contributions"] = list(np.stack(out["contributions"]))
    return out


def classifier_outputs(model: PipelineModel, rows) -> pd.DataFrame:
    """The classifier's own positive-class probability and raw prediction, by firm."""
    out = model.transform(rows).select("firm", "probability", "rawPrediction").toPandas()
    return pd.DataFrame(
        {
            "firm": out["firm"],
            "p": [v[1] for v in out["probability"]],
            "raw": [v[1] for v in out["rawPrediction"]],
        }
    ).sort_values("firm", ignore_index=True)


def test_gbt_contributions_add_up_to_the_log_odds_of_the_classifier_probability(gbt_model):
    model, rows = gbt_model
    out = explain(model, rows)
    assert "ArrowEvalPython" in out._jdf.queryExecution().executedPlan().toString()  # a pandas UDF on executors
    got, reference = explained(model, rows), classifier_outputs(model, rows)

    log_odds = np.log(reference["p"] / (1 - reference["p"]))
    contributions = np.stack(got["contributions"])
    assert len(got) == rows.count() and contributions.shape[1] == len(FEATURES)
    np.testing.assert_allclose(contributions.sum(axis=1) + got["contribution_bias"], log_odds, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(got["log_odds"], log_odds, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(got["log_odds"], 2 * reference["raw"], rtol=0, atol=1e-12)  # log-odds = 2F
    assert got.columns.tolist() == [*rows.columns, "log_odds", "contributions", "contribution_bias"]


def test_gbt_trees_are_read_with_categorical_splits_weighted_covers_and_tree_weights(gbt_model):
    model, rows = gbt_model
    gbt = model.stages[classifier_index(model)]
    ensemble = tree_ensemble(gbt)

    assert len(ensemble.trees) == 4 and ensemble.weights.tolist() == gbt.treeWeights
    assert ensemble.log_odds_scale == 2.0 and ensemble.num_features == len(FEATURES)
    assert any(tree.category_splits for tree in ensemble.trees)
    total_weight = rows.agg({"weight": "sum"}).first()[0]
    for tree in ensemble.trees:
        inner = tree.left != LEAF
        np.testing.assert_allclose(tree.cover[inner], tree.cover[tree.left[inner]] + tree.cover[tree.right[inner]])
        assert 0.6 * total_weight < tree.cover[0] < total_weight  # a weighted 80 % subsample of the rows
        assert not np.allclose(tree.cover, np.round(tree.cover))  # weights, not row counts


def test_xgboost_contributions_add_up_to_its_log_odds_with_missing_values(xgboost_model):
    model, rows = xgboost_model
    got, reference = explained(model, rows), classifier_outputs(model, rows)
    contributions = np.stack(got["contributions"])
    missing = rows.select("margin").toPandas()["margin"].isna().to_numpy()
    assert missing.any() and np.isfinite(contributions).all()

    np.testing.assert_allclose(
        contributions.sum(axis=1) + got["contribution_bias"], got["log_odds"], rtol=0, atol=TOLERANCE
    )
    np.testing.assert_array_equal(got["log_odds"], reference["raw"])
    # xgboost computes in float32: its probability gives back the log-odds to about 1e-7 relative.
    np.testing.assert_allclose(got["log_odds"], np.log(reference["p"] / (1 - reference["p"])), rtol=0, atol=1e-5)


def test_xgboost_contributions_are_the_boosters_own_with_nan_as_missing(xgboost_model):
    import xgboost

    model, rows = xgboost_model
    vectors = PipelineModel(stages=model.stages[:2]).transform(rows).select("firm", "features").toPandas()
    x = np.stack([v.toArray() for v in vectors.sort_values("firm")["features"]])
    booster = model.stages[classifier_index(model)].get_booster()
    expected = booster.predict(xgboost.DMatrix(x, missing=np.nan), pred_contribs=True)

    got = explained(model, rows)
    np.testing.assert_allclose(np.stack(got["contributions"]), expected[:, :-1], rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(got["contribution_bias"], expected[:, -1], rtol=0, atol=TOLERANCE)
    assert np.isnan(x[:, FEATURES.index("margin")]).any()


@pytest.mark.parametrize("fitted", ["gbt_model", "xgboost_model"])
def test_saved_and_reloaded_pipeline_gives_the_same_contributions(fitted, request, tmp_path):
    model, rows = request.getfixturevalue(fitted)
    model.write().save(str(tmp_path / "model"))
    reloaded = PipelineModel.load(str(tmp_path / "model"))

    before, after = explained(model, rows), explained(reloaded, rows)
    np.testing.assert_allclose(np.stack(after["contributions"]), np.stack(before["contributions"]), rtol=0, atol=1e-12)
    np.testing.assert_allclose(after["contribution_bias"], before["contribution_bias"], rtol=0, atol=1e-12)
    assert slot_names(reloaded) == FEATURES


def test_slot_names_from_the_assembler_or_from_the_vector_metadata(gbt_model):
    model, rows = gbt_model
    assert slot_names(model) == FEATURES
    assert slot_names(model, rows) == FEATURES


def test_slot_names_of_vector_inputs_come_from_the_metadata():
    metadata = {
        "ml_attr": {
            "num_attrs": 3,
            "attrs": {
                "numeric": [{"idx": 0, "name": "debt_ratio"}, {"idx": 2, "name": "scores_1"}],
                "nominal": [{"idx": 1, "name": "sector_index", "vals": ["C", "F"]}],
            },
        }
    }
    assert _attribute_names(metadata) == ["debt_ratio", "sector_index", "scores_1"]
    assert _attribute_names({"ml_attr": {"num_attrs": 2, "attrs": {"numeric": [{"idx": 0, "name": "a"}]}}}) is None


def test_explain_refuses_a_pipeline_without_classifier_and_clashing_columns(spark, gbt_model):
    model, rows = gbt_model
    features_only = PipelineModel(stages=model.stages[:2])
    with pytest.raises(ValueError, match="exactly one"):
        explain(features_only, rows)
    with pytest.raises(ValueError, match="contributions"):
        explain(model, rows.withColumn(CONTRIBUTIONS, rows["margin"]))


def test_a_batch_with_a_null_vector_gives_nulls_for_that_row_only():
    from tests.explain.test_treeshap import hand_tree

    shap = TreeShap(TreeEnsemble(trees=(hand_tree(),), weights=[1.0], num_features=2))
    out = _explain_batch(shap, pd.Series([np.array([0.0, 1.0]), None, np.array([1.0, 0.0])]))

    assert out["contributions"][1] is None and np.isnan(out["log_odds"][1]) and np.isnan(out["bias"][1])
    np.testing.assert_allclose(out["log_odds"][[0, 2]], [3.0, 5.0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(out["contributions"][2], [2.9, -2.5], rtol=0, atol=1e-12)
