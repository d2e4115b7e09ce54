"""Exact additive explanations of the models' scores, in log-odds (tree SHAP, path-dependent).

- `explain(pipeline_model, df)`: `log_odds`, `contributions` (one per vector slot) and `contribution_bias`,
  computed on the executors; `slot_names(pipeline_model)` names the slots.
- `tree_ensemble(gbt_model)` and `TreeShap`: Spark GBT trees as numpy arrays, and tree SHAP over them.
- `top_contributions`, `by_topic`: what weighs most in one row, and the sum by topic.
"""

from __future__ import annotations

from sf_spark.exports import lazy_exports

EXPORTS = {
    "BIAS": "spark",
    "CONTRIBUTIONS": "spark",
    "LOG_ODDS": "spark",
    "classifier_index": "spark",
    "explain": "spark",
    "slot_names": "spark",
    "by_topic": "summary",
    "top_contributions": "summary",
    "CategorySplit": "trees",
    "Tree": "trees",
    "TreeEnsemble": "trees",
    "tree_ensemble": "trees",
    "Explanation": "treeshap",
    "TreeShap": "treeshap",
}
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
__all__ = sorted(EXPORTS)
