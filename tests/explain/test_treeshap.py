"""Tree SHAP in numpy against Shapley values computed by brute force over feature subsets."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from sf_spark.explain.trees import LEAF, CategorySplit, Tree, TreeEnsemble, _category_split
from sf_spark.explain.treeshap import TreeShap

NAN = np.nan


def hand_tree() -> Tree:
    """Root x0 <= 0.5 (cover 10); left: x1 <= 0.5 (cover 6) ? 1 (cover 2) : 3 (cover 4);
    right: x1 <= 0.5 (cover 4) ? 5 (cover 1) : 9 (cover 3)."""
    return Tree(
        left=[1, 2, LEAF, LEAF, 5, LEAF, LEAF],
        right=[4, 3, LEAF, LEAF, 6, LEAF, LEAF],
        feature=[0, 1, LEAF, LEAF, 1, LEAF, LEAF],
        threshold=[0.5, 0.5, NAN, NAN, 0.5, NAN, NAN],
        value=[0, 0, 1, 3, 0, 5, 9],
        cover=[10, 6, 2, 4, 4, 1, 3],
    )


def test_hand_built_tree_matches_shapley_values_computed_by_hand():
    # Path-dependent expectations E[f | x_S] (unknown features: children weighted by cover):
    #   f({})  = 6/10 (2/6 * 1 + 4/6 * 3) + 4/10 (1/4 * 5 + 3/4 * 9) = 7/5 + 16/5 = 23/5
    # row (0, 1):  f({0}) = 7/3, f({1}) = 6/10 * 3 + 4/10 * 9 = 27/5, f({0, 1}) = 3
    #   phi0 = 1/2 [(7/3 - 23/5) + (3 - 27/5)] = -7/3      phi1 = 1/2 [(27/5 - 23/5) + (3 - 7/3)] = 11/15
    # row (1, 0):  f({0}) = 8, f({1}) = 6/10 * 1 + 4/10 * 5 = 13/5, f({0, 1}) = 5
    #   phi0 = 1/2 [(8 - 23/5) + (5 - 13/5)] = 29/10        phi1 = 1/2 [(13/5 - 23/5) + (5 - 8)] = -5/2
    expected = np.array([[Fraction(-7, 3), Fraction(11, 15)], [Fraction(29, 10), Fraction(-5, 2)]], dtype=float)
    ensemble = TreeEnsemble(trees=(hand_tree(),), weights=[1.0], num_features=2)

    out = TreeShap(ensemble).explain(np.array([[0.0, 1.0], [1.0, 0.0]]))

    assert out.bias == pytest.approx(23 / 5, abs=1e-12)
    np.testing.assert_allclose(out.contributions, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out.log_odds, [3.0, 5.0], rtol=0, atol=1e-12)


def conditional_expectation(tree: Tree, row: np.ndarray, known: frozenset[int]) -> float:
    """E[tree(x) | x_known] with path-dependent perturbation: unknown splits average children by cover."""

    def walk(node: int) -> float:
        if tree.left[node] == LEAF:
            return float(tree.value[node])
        left, right = int(tree.left[node]), int(tree.right[node])
        if tree.feature[node] in known:
            return walk(left if tree.goes_left(node, row[None, :])[0] else right)
        return (tree.cover[left] * walk(left) + tree.cover[right] * walk(right)) / tree.cover[node]

    return walk(0)


def brute_force_shapley(ensemble: TreeEnsemble, row: np.ndarray) -> tuple[np.ndarray, float]:
    """Shapley values of every feature by enumeration of subsets, and the value of the empty set."""
    m = ensemble.num_features

    def value(known: frozenset[int]) -> float:
        pairs = zip(ensemble.trees, ensemble.weights, strict=True)
        total = sum(w * conditional_expectation(t, row, known) for t, w in pairs)
        return ensemble.log_odds_offset + ensemble.log_odds_scale * total

    phi = np.zeros(m)
    for i in range(m):
        others = [j for j in range(m) if j != i]
        for size in range(m):
            weight = math.factorial(size) * math.factorial(m - size - 1) / math.factorial(m)
            for subset in itertools.combinations(others, size):
                known = frozenset(subset)
                phi[i] += weight * (value(known | {i}) - value(known))
    return phi, value(frozenset())


CATEGORICAL = 3  # slot 3 holds category indices 0..3 in the random ensembles


def random_tree(rng: np.random.Generator, max_depth: int, num_features: int) -> Tree:
    """A random tree with consistent covers, numeric splits on a coarse grid and categorical splits on slot 3."""
    nodes: list[dict] = []

    def grow(depth: int, cover: int) -> int:
        index = len(nodes)
        nodes.append(
            {
                "cover": float(cover),
                "value": float(rng.normal()),
                "left": LEAF,
                "right": LEAF,
                "feature": LEAF,
                "threshold": NAN,
            }
        )
        if depth == max_depth or cover < 2 or rng.random() < 0.15:
            return index
        feature = int(rng.integers(num_features))
        nodes[index]["feature"] = feature
        if feature == CATEGORICAL:
            members = rng.choice(4, size=int(rng.integers(1, 4)), replace=False).astype(float)
            nodes[index]["split"] = CategorySplit(members, members_go_left=bool(rng.random() < 0.5))
        else:
            nodes[index]["threshold"] = float(rng.choice([-1.0, 0.0, 0.5, 1.0]))
        left_cover = int(rng.integers(1, cover))
        nodes[index]["left"] = grow(depth + 1, left_cover)
        nodes[index]["right"] = grow(depth + 1, cover - left_cover)
        return index

    grow(0, int(rng.integers(20, 200)))
    columns = {k: [n[k] for n in nodes] for k in ("left", "right", "feature", "threshold", "value", "cover")}
    return Tree(**columns, category_splits={i: n["split"] for i, n in enumerate(nodes) if "split" in n})


def test_random_ensemble_matches_brute_force_shapley_values():
    rng = np.random.default_rng(20240501)
    trees = tuple(random_tree(rng, max_depth=4, num_features=5) for _ in range(6))
    assert any(len(set(t.feature[t.feature != LEAF])) < np.sum(t.feature != LEAF) for t in trees)  # repeats
    ensemble = TreeEnsemble(
        trees=trees, weights=rng.uniform(0.1, 1.0, 6), num_features=5, log_odds_scale=2.0, log_odds_offset=-0.3
    )
    grid = np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0, NAN])
    rows = rng.choice(grid, size=(25, 5))
    rows[:, CATEGORICAL] = rng.choice([0.0, 1.0, 2.0, 3.0, 7.0, NAN], size=25)  # 7: a category never seen

    out = TreeShap(ensemble).explain(rows)

    for row, contributions in zip(rows, out.contributions, strict=True):
        expected, empty = brute_force_shapley(ensemble, row)
        np.testing.assert_allclose(contributions, expected, rtol=0, atol=1e-12)
        assert out.bias == pytest.approx(empty, abs=1e-12)
    np.testing.assert_allclose(out.log_odds, ensemble.log_odds(rows), rtol=0, atol=1e-12)
    np.testing.assert_allclose(out.contributions.sum(axis=1) + out.bias, out.log_odds, rtol=0, atol=1e-12)


def test_a_single_leaf_tree_only_moves_the_bias():
    leaf = Tree(left=[LEAF], right=[LEAF], feature=[LEAF], threshold=[NAN], value=[0.7], cover=[5.0])
    out = TreeShap(TreeEnsemble(trees=(leaf, hand_tree()), weights=[1.0, 1.0], num_features=2)).explain(
        np.array([[0.0, 1.0]])
    )
    assert out.bias == pytest.approx(0.7 + 23 / 5, abs=1e-12)
    np.testing.assert_allclose(out.log_odds, [3.7], rtol=0, atol=1e-12)
    np.testing.assert_allclose(out.contributions, [[-7 / 3, 11 / 15]], rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("left_categories", "num_categories", "expected_left"),
    [
        ([1.0], 4, [False, True, False, False, False, False]),  # kept as the left set: unseen and NaN go right
        ([0.0, 1.0, 3.0], 4, [True, True, False, True, True, True]),  # kept as the right set {2}: others go left
    ],
)
def test_categorical_split_sends_unseen_values_where_spark_does(left_categories, num_categories, expected_left):
    split = _category_split(left_categories, num_categories)
    tree = Tree(
        left=[1, LEAF, LEAF],
        right=[2, LEAF, LEAF],
        feature=[0, LEAF, LEAF],
        threshold=[NAN] * 3,
        value=[0, 1, 2],
        cover=[2, 1, 1],
        category_splits={0: split},
    )
    values = np.array([[0.0], [1.0], [2.0], [3.0], [9.0], [NAN]])
    assert tree.goes_left(0, values).tolist() == expected_left


def test_explain_refuses_a_matrix_of_the_wrong_width():
    with pytest.raises(ValueError, match=r"\(rows, 2\)"):
        TreeShap(TreeEnsemble(trees=(hand_tree(),), weights=[1.0], num_features=2)).explain(np.zeros((3, 3)))
