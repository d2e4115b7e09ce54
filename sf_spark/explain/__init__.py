"""Exact additive explanations of the models' scores, in log-odds (tree SHAP, path-dependent).

- `explain(pipeline_model, df)`: `log_odds`, `contributions` (one per vector slot) and `contribution_bias`,
  computed on the executors; `slot_names(pipeline_model)` names the slots.
- `tree_ensemble(gbt_model)` and `TreeShap`: Spark GBT trees as numpy arrays, and tree SHAP over them.
- `top_contributions`, `by_topic`: what weighs most in one row, and the sum by topic.
"""

from __future__ import annotations

from sf_spark.explain.spark import BIAS, CONTRIBUTIONS, LOG_ODDS, classifier_index, explain, slot_names
from sf_spark.explain.summary import by_topic, top_contributions
from sf_spark.explain.trees import CategorySplit, Tree, TreeEnsemble, tree_ensemble
from sf_spark.explain.treeshap import Explanation, TreeShap

__all__ = [
    "BIAS",
    "CONTRIBUTIONS",
    "LOG_ODDS",
    "CategorySplit",
    "Explanation",
    "Tree",
    "TreeEnsemble",
    "TreeShap",
    "by_topic",
    "classifier_index",
    "explain",
    "slot_names",
    "top_contributions",
    "tree_ensemble",
]
