"""Summaries of one row's contributions for the people who act on an alert: the features that weigh most,
and the sum by topic. Contributions are in log-odds and stay additive: a topic's weight is a plain sum,
never a probability (no sigmoid of a part of the log-odds means anything)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike


def _checked(names: Sequence[str], contributions: ArrayLike) -> np.ndarray:
    values = np.asarray(contributions, dtype=np.float64)
    if values.ndim != 1 or len(values) != len(names):
        raise ValueError(f"{len(names)} names but contributions of shape {values.shape}: pass one row")
    return values


def top_contributions(names: Sequence[str], contributions: ArrayLike, k: int = 5) -> list[tuple[str, float]]:
    """The `k` features of largest absolute contribution (log-odds), largest first, as (name, contribution);
    ties keep slot order."""
    values = _checked(names, contributions)
    order = np.argsort(-np.abs(values), kind="stable")[:k]
    return [(names[i], float(values[i])) for i in order]


def by_topic(
    names_to_topic: Mapping[str, str], names: Sequence[str], contributions: ArrayLike, *, unassigned: str | None = None
) -> dict[str, float]:
    """Sum of the contributions (log-odds) of each topic's features, topics in order of first slot.

    Features missing from `names_to_topic` go to the topic `unassigned` if given, else raise `ValueError`.
    With the bias, the topics add up to the row's log-odds.
    """
    values = _checked(names, contributions)
    missing = [n for n in names if n not in names_to_topic]
    if missing and unassigned is None:
        raise ValueError(f"no topic for {missing}: add them to the mapping or pass `unassigned=`")
    totals: dict[str, float] = {}
    for name, value in zip(names, values, strict=True):
        topic = names_to_topic.get(name, unassigned)
        totals[topic] = totals.get(topic, 0.0) + float(value)
    return totals
