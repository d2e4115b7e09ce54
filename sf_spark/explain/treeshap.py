"""Exact tree SHAP with path-dependent feature perturbation (Lundberg et al. 2018, "Consistent individualized
feature attribution for tree ensembles", algorithm 2), in log-odds, vectorised over rows.

Each leaf of a tree is a small cooperative game over the distinct features split on along its path: with the
features of S known, the leaf receives `value * prod_{d in S} o_d * prod_{d not in S} z_d`, where `o_d` is 1
when the row follows the path at every split on d (else 0) and `z_d` is the share of the training cover that
follows the path at those splits. Summed over leaves this is the path-dependent conditional expectation
E[f(x) | x_S]. The Shapley values of that product game come from the "path weights" polynomial, built by
EXTEND and inverted by UNWIND. Everything that depends only on the tree (the z's, and UNWIND, which is linear
in the path weights once `o` is known to be 0 or 1) is computed once per tree, so explaining a batch costs a
few numpy operations on (path length x rows) arrays per leaf.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sf_spark.explain.trees import LEAF, Tree, TreeEnsemble


class Explanation(NamedTuple):
    """Additive explanation of a batch of rows: `contributions.sum(axis=1) + bias == log_odds` (log-odds)."""

    log_odds: np.ndarray
    contributions: np.ndarray
    bias: float


@dataclass(frozen=True)
class LeafPath:
    """What a leaf's game needs: its value (log-odds), the distinct features split on along its path, for each
    the cover share `zero_fraction` following the path and the splits (node, goes left) it must pass, and the
    linear maps giving, from the path weights, the unwound weight sums when o = 1 and when o = 0."""

    value: float
    features: np.ndarray
    zero_fractions: np.ndarray
    splits: tuple[tuple[tuple[int, bool], ...], ...]
    unwound_sum_one: np.ndarray
    unwound_sum_zero: np.ndarray


def extend(weights: np.ndarray, zero_fraction: float, one_fraction: np.ndarray) -> np.ndarray:
    """EXTEND: path weights (k+1 x rows) of k features -> path weights (k+2 x rows) with one more feature.

    weights[j] = sum over subsets S of size j of prod_{S} o * prod_{not S} z * j! (k-j)! / (k+1)!.
    """
    k = len(weights) - 1
    j = np.arange(k + 1).reshape(-1, *([1] * (weights.ndim - 1)))
    out = np.zeros((k + 2, *weights.shape[1:]))
    out[:-1] = zero_fraction * weights * (k + 1 - j) / (k + 2)
    out[1:] += one_fraction * weights * (j + 1) / (k + 2)
    return out


def unwound_sum_maps(zero_fraction: float, length: int) -> tuple[np.ndarray, np.ndarray]:
    """UNWIND as linear maps: the sum of the path weights without one feature, from the path weights
    (length + 1 entries) of `length` features, when that feature's one-fraction is 1 and when it is 0."""
    identity = np.eye(length + 1)
    unwound = np.zeros((length, length + 1))
    # o = 1: weights[j] = unwound[j-1] * j / (l+1) + z * unwound[j] * (l-j) / (l+1), solved from the top.
    unwound[length - 1] = identity[length] * (length + 1) / length
    for j in range(length - 1, 0, -1):
        unwound[j - 1] = (identity[j] - zero_fraction * unwound[j] * (length - j) / (length + 1)) * (length + 1) / j
    one = unwound.sum(axis=0)
    # o = 0: weights[j] = z * unwound[j] * (l-j) / (l+1). With z = 0 too, every path weight is 0 and so is the sum.
    zero = np.zeros(length + 1)
    if zero_fraction != 0.0:
        j = np.arange(length)
        zero[:length] = (length + 1) / (zero_fraction * (length - j))
    return one, zero


def leaf_paths(tree: Tree, scale: float) -> tuple[LeafPath, ...]:
    """The games of a tree's leaves; `scale` turns leaf values into log-odds."""
    paths: list[LeafPath] = []
    stack: list[tuple[int, dict[int, tuple[float, tuple[tuple[int, bool], ...]]]]] = [(0, {})]
    while stack:
        node, path = stack.pop()
        if tree.left[node] == LEAF:
            features = np.fromiter(path, dtype=np.int64, count=len(path))
            zero_fractions = np.array([path[f][0] for f in features], dtype=np.float64)
            maps = [unwound_sum_maps(z, len(path)) for z in zero_fractions]
            paths.append(
                LeafPath(
                    value=scale * tree.value[node],
                    features=features,
                    zero_fractions=zero_fractions,
                    splits=tuple(path[f][1] for f in features),
                    unwound_sum_one=np.array([m[0] for m in maps]).reshape(len(path), len(path) + 1),
                    unwound_sum_zero=np.array([m[1] for m in maps]).reshape(len(path), len(path) + 1),
                )
            )
            continue
        feature = int(tree.feature[node])
        zero_fraction, splits = path.get(feature, (1.0, ()))
        for child, goes_left in ((tree.left[node], True), (tree.right[node], False)):
            share = tree.cover[child] / tree.cover[node] if tree.cover[node] > 0 else 0.0
            stack.append((int(child), {**path, feature: (zero_fraction * share, (*splits, (node, goes_left)))}))
    return tuple(paths)


class TreeShap:
    """Exact path-dependent tree SHAP of a `TreeEnsemble`, in log-odds; prepare once, explain many batches."""

    def __init__(self, ensemble: TreeEnsemble) -> None:
        self.num_features = ensemble.num_features
        self.log_odds_offset = float(ensemble.log_odds_offset)
        self.trees = ensemble.trees
        self.leaves = tuple(
            leaf_paths(tree, ensemble.log_odds_scale * weight)
            for tree, weight in zip(ensemble.trees, ensemble.weights, strict=True)
        )
        # The expected value: each leaf weighted by the cover share of its path (all features unknown).
        self.bias = float(
            self.log_odds_offset
            + sum(leaf.value * np.prod(leaf.zero_fractions) for leaves in self.leaves for leaf in leaves)
        )

    def explain(self, x: np.ndarray) -> Explanation:
        """Contributions (rows x features) and log-odds of each row of `x` (rows x features, NaN allowed)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"expected a (rows, {self.num_features}) array, got shape {x.shape}")
        rows = len(x)
        contributions = np.zeros((self.num_features, rows))
        log_odds = np.full(rows, self.log_odds_offset)
        for tree, leaves in zip(self.trees, self.leaves, strict=True):
            goes_left = {int(n): tree.goes_left(int(n), x) for n in np.flatnonzero(tree.left != LEAF)}
            for leaf in leaves:
                self._add_leaf(leaf, goes_left, rows, contributions, log_odds)
        return Explanation(log_odds=log_odds, contributions=np.ascontiguousarray(contributions.T), bias=self.bias)

    @staticmethod
    def _add_leaf(
        leaf: LeafPath, goes_left: dict[int, np.ndarray], rows: int, contributions: np.ndarray, log_odds: np.ndarray
    ) -> None:
        """Add one leaf's Shapley values to `contributions` (features x rows) and its value to the rows reaching it."""
        one_fractions = np.ones((len(leaf.features), rows))
        for i, splits in enumerate(leaf.splits):
            for node, left in splits:
                one_fractions[i] *= goes_left[node] if left else ~goes_left[node]
        log_odds += leaf.value * np.prod(one_fractions, axis=0)
        if not len(leaf.features):
            return
        weights = np.ones((1, rows))
        for z, o in zip(leaf.zero_fractions, one_fractions, strict=True):
            weights = extend(weights, z, o)
        unwound = np.where(one_fractions != 0, leaf.unwound_sum_one @ weights, leaf.unwound_sum_zero @ weights)
        # The features of one path are distinct, so a plain fancy-index update adds each once.
        contributions[leaf.features] += leaf.value * (one_fractions - leaf.zero_fractions[:, None]) * unwound
