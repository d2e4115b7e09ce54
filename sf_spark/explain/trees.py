"""Tree ensembles as plain numpy arrays, and their extraction from a fitted Spark `GBTClassificationModel`.

A `TreeEnsemble` is what tree SHAP needs and nothing more: per tree, the children, split and leaf value
of every node and its cover (the training weight that reached the node), plus the tree weights and the
factor turning the weighted sum of trees into log-odds. It is picklable, so it can be broadcast to the
executors.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from pyspark.ml.classification import GBTClassificationModel

LEAF = -1
# Spark's GBT with logistic loss recodes labels to -1/+1: P(y=1) = 1 / (1 + exp(-2F)), so log-odds = 2F.
SPARK_GBT_LOG_ODDS_PER_MARGIN = 2.0
_INTERNAL_NODE = "org.apache.spark.ml.tree.InternalNode"
_CATEGORICAL_SPLIT = "org.apache.spark.ml.tree.CategoricalSplit"
_READER_THREADS = 4


class CategorySplit(NamedTuple):
    """A categorical split: rows whose value is in `categories` go left if `members_go_left`, else right;
    all other values (unseen categories, NaN) go the other way."""

    categories: np.ndarray
    members_go_left: bool


@dataclass(frozen=True, eq=False)
class Tree:
    """One binary regression tree as flat arrays over its nodes; node 0 is the root.

    At a leaf `left == right == feature == -1`. A numeric split sends a row left when
    `x[feature] <= threshold` (NaN goes right); nodes listed in `category_splits` split on categories
    instead. `value` is the leaf value (ignored at internal nodes), `cover` the training weight that
    reached the node.
    """

    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray
    cover: np.ndarray
    category_splits: Mapping[int, CategorySplit] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, dtype in (
            ("left", np.int64),
            ("right", np.int64),
            ("feature", np.int64),
            ("threshold", np.float64),
            ("value", np.float64),
            ("cover", np.float64),
        ):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=dtype))
        sizes = {len(getattr(self, name)) for name in ("left", "right", "feature", "threshold", "value", "cover")}
        if len(sizes) != 1:
            raise ValueError(f"every node array of a tree must have one entry per node, got sizes {sorted(sizes)}")

    def goes_left(self, node: int, x: np.ndarray) -> np.ndarray:
        """Boolean per row of `x` (rows x features): does the row take the left branch at `node`?"""
        column = x[:, self.feature[node]]
        split = self.category_splits.get(node)
        if split is None:
            return column <= self.threshold[node]
        member = np.isin(column, split.categories)
        return member if split.members_go_left else ~member

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Leaf value reached by each row of `x` (rows x features)."""
        node = np.zeros(len(x), dtype=np.int64)
        out = np.empty(len(x), dtype=np.float64)
        active = np.arange(len(x))
        while active.size:
            current = node[active]
            leaf = self.left[current] == LEAF
            out[active[leaf]] = self.value[current[leaf]]
            active, current = active[~leaf], current[~leaf]
            for n in np.unique(current):
                rows = active[current == n]
                go_left = self.goes_left(int(n), x[rows])
                node[rows] = np.where(go_left, self.left[n], self.right[n])
        return out


@dataclass(frozen=True, eq=False)
class TreeEnsemble:
    """A sum of weighted trees over a feature vector of `num_features` slots.

    log-odds(x) = log_odds_offset + log_odds_scale * sum_t weights[t] * tree_t(x).
    """

    trees: tuple[Tree, ...]
    weights: np.ndarray
    num_features: int
    log_odds_scale: float = 1.0
    log_odds_offset: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", np.asarray(self.weights, dtype=np.float64))
        if len(self.weights) != len(self.trees):
            raise ValueError(f"{len(self.trees)} trees but {len(self.weights)} tree weights")

    def log_odds(self, x: np.ndarray) -> np.ndarray:
        """The ensemble's log-odds for each row of `x` (rows x features)."""
        x = np.asarray(x, dtype=np.float64)
        total = np.zeros(len(x))
        for tree, weight in zip(self.trees, self.weights, strict=True):
            total += weight * tree.predict(x)
        return self.log_odds_offset + self.log_odds_scale * total


def _spark_tree(root: Any, gateway: Any) -> Tree:
    """Walk one Spark ML tree (its JVM root `Node`) in pre-order through py4j."""
    from py4j.java_gateway import is_instance_of

    columns: dict[str, list[Any]] = {k: [] for k in ("left", "right", "feature", "threshold", "value", "cover")}
    category_splits: dict[int, CategorySplit] = {}
    stack: list[tuple[Any, int, str]] = [(root, LEAF, "")]
    while stack:
        node, parent, side = stack.pop()
        index = len(columns["value"])
        if parent != LEAF:
            columns[side][parent] = index
        internal = is_instance_of(gateway, node, _INTERNAL_NODE)
        for name, value in (
            ("left", LEAF),
            ("right", LEAF),
            ("feature", LEAF),
            ("threshold", np.nan),
            ("value", np.nan if internal else node.prediction()),
            ("cover", node.impurityStats().count()),
        ):
            columns[name].append(value)
        if not internal:
            continue
        split = node.split()
        columns["feature"][index] = split.featureIndex()
        if is_instance_of(gateway, split, _CATEGORICAL_SPLIT):
            category_splits[index] = _category_split(list(split.leftCategories()), split.numCategories())
        else:
            columns["threshold"][index] = split.threshold()
        stack.append((node.rightChild(), index, "right"))
        stack.append((node.leftChild(), index, "left"))
    return Tree(**columns, category_splits=category_splits)


def _category_split(left: list[float], num_categories: int) -> CategorySplit:
    """Spark's `CategoricalSplit` keeps the left set if it has at most numCategories // 2 members, else the
    right set, and sends any value outside the kept set (including unseen categories, NaN) the other way."""
    left_set = np.asarray(left, dtype=np.float64)
    if len(left_set) <= num_categories // 2:
        return CategorySplit(left_set, members_go_left=True)
    right_set = np.setdiff1d(np.arange(num_categories, dtype=np.float64), left_set)
    return CategorySplit(right_set, members_go_left=False)


def tree_ensemble(model: GBTClassificationModel) -> TreeEnsemble:
    """The trees of a fitted Spark GBT classifier (logistic loss) as numpy arrays, in log-odds.

    Read on the driver through py4j (no files written; about a millisecond per node). A node's cover is
    `impurityStats.count`: the weighted count of the training rows (of that tree's subsample) that reached it.
    """
    from pyspark import SparkContext

    loss = model.getOrDefault("lossType")
    if loss != "logistic":
        raise ValueError(f"only the logistic loss gives log-odds; this GBT model uses {loss!r}")
    gateway = SparkContext._gateway
    roots = [tree._java_obj.rootNode() for tree in model.trees]
    # Each py4j call is a round trip to the JVM; a few threads overlap them (results keep the trees' order).
    with ThreadPoolExecutor(max_workers=_READER_THREADS) as pool:
        trees = tuple(pool.map(lambda root: _spark_tree(root, gateway), roots))
    return TreeEnsemble(
        trees=trees,
        weights=np.asarray(model.treeWeights, dtype=np.float64),
        num_features=model.numFeatures,
        log_odds_scale=SPARK_GBT_LOG_ODDS_PER_MARGIN,
    )
