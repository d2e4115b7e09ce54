"""Latent monthly health process, failure hazard and the exact failure probabilities (ground truth).

Each firm has a health state h in 0..7 (0 worst) that moves by a Markov chain whose monthly transition
matrix depends on the firm's group (fragility x size band x sector risk), on its sector family's regime
(good / normal / bad, itself a Markov chain shared by the firms of the family) and on the calendar (the
crisis pushes health down). Each month a firm alive at the previous month end first moves, then fails
(opening of proceedings) with hazard lambda(h, size band, month) or closes without proceedings with a
constant hazard. The joint state (h, regime) is Markov, so P(failure in (t, t + H] | state at t) is exact
by backward recursion over the calendar; the crisis calendar is treated as known, firm and sector
shocks as unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sf_spark.generate.calendar import month_number
from sf_spark.generate.params import GeneratorParams

if TYPE_CHECKING:
    from sf_spark.generate.agents import Agents

HEALTH_STATES = 8
REGIMES = 3
HORIZONS = (12, 18, 24)
FRAGILITY_SHARES = np.array([0.3, 0.5, 0.2])
SIZE_BANDS = 3
SECTOR_RISKS = 3
GROUPS = len(FRAGILITY_SHARES) * SIZE_BANDS * SECTOR_RISKS

UP = np.array([0.05, 0.06, 0.07, 0.07, 0.06, 0.05, 0.035, 0.0])
DOWN = np.array([0.0, 0.035, 0.03, 0.027, 0.024, 0.02, 0.014, 0.008])
SHOCK = 0.003
FRAGILITY_DOWN = np.array([0.6, 1.0, 1.7])
REGIME_DOWN = np.array([0.75, 1.0, 1.6])
REGIME_UP = np.array([1.2, 1.0, 0.8])
CRISIS_DOWN = np.array([1.3, 1.6, 2.2])
CRISIS_UP = 0.8
HAZARD = np.array([0.075, 0.028, 0.009, 0.0028, 0.001, 0.0004, 0.00015, 0.00006])
SIZE_HAZARD = np.array([1.3, 1.0, 0.6])
SIZE_CLOSURE = np.array([1.5, 1.0, 0.5])
REGIME_CHAIN = np.array([[0.96, 0.04, 0.0], [0.02, 0.95, 0.03], [0.0, 0.06, 0.94]])
ENTRY_HEALTH = np.array([0.0, 0.02, 0.06, 0.15, 0.3, 0.27, 0.15, 0.05])
BURN_IN_MONTHS = 240


def group_of(fragility: np.ndarray, size_band: np.ndarray, sector_risk: np.ndarray) -> np.ndarray:
    """Index of the (fragility, size band, sector risk) group."""
    return (fragility * SIZE_BANDS + size_band) * SECTOR_RISKS + sector_risk


def _health_transitions(down: np.ndarray, up: np.ndarray, shock: np.ndarray) -> np.ndarray:
    """Health matrices from per-state down / up / shock probabilities: (..., K) -> (..., K, K)."""
    shape = down.shape[:-1]
    matrix = np.zeros((*shape, HEALTH_STATES, HEALTH_STATES))
    states = np.arange(HEALTH_STATES)
    matrix[..., states[1:], states[1:] - 1] += down[..., 1:]
    matrix[..., states[:-1], states[:-1] + 1] += up[..., :-1]
    matrix[..., states, np.maximum(states - 3, 0)] += shock
    matrix[..., states, states] += 1.0 - matrix.sum(axis=-1)
    return matrix


@dataclass(frozen=True)
class LatentModel:
    """Calendar-wide tables shared by all chunks; month index 0 is `params.start`."""

    months: int
    crisis: np.ndarray
    regimes: np.ndarray
    cumulative: np.ndarray
    hazard: np.ndarray
    closure: np.ndarray
    initial_health: np.ndarray
    probabilities: np.ndarray


def build_model(params: GeneratorParams, families: int, rng: np.random.Generator) -> LatentModel:
    """Transition, hazard and exact probability tables for the calendar of `params` (+ 24 months)."""
    months = month_number(params.end) - month_number(params.start) + 1
    extended = months + max(HORIZONS) + 1
    calendar = month_number(params.start) + np.arange(extended)
    crisis = (calendar >= month_number(params.crisis_start)) & (calendar <= month_number(params.crisis_end))
    after = calendar - month_number(params.crisis_end)
    catch_up = (after >= 1) & (after <= params.catch_up_months)
    fade = np.where(catch_up, 1 - (after - 1) / max(params.catch_up_months, 1), 0.0)
    hazard_factor = np.where(crisis, params.crisis_hazard_factor, 1 + (params.catch_up_hazard_factor - 1) * fade)

    fragility, band, risk = np.meshgrid(
        np.arange(len(FRAGILITY_SHARES)), np.arange(SIZE_BANDS), np.arange(SECTOR_RISKS), indexing="ij"
    )
    fragility, band, risk = fragility.ravel(), band.ravel(), risk.ravel()
    crisis_down = np.where(crisis[None, :], CRISIS_DOWN[risk][:, None], 1.0)
    crisis_up = np.where(crisis, CRISIS_UP, 1.0)
    down = (
        DOWN[None, None, None, :]
        * FRAGILITY_DOWN[fragility][:, None, None, None]
        * crisis_down[:, :, None, None]
        * REGIME_DOWN[None, None, :, None]
    )
    up = UP[None, None, None, :] * crisis_up[None, :, None, None] * REGIME_UP[None, None, :, None]
    shock = np.broadcast_to(SHOCK * FRAGILITY_DOWN[fragility][:, None, None, None], down.shape)
    transitions = _health_transitions(down, np.broadcast_to(up, down.shape), shock)
    hazard = (
        params.base_hazard_scale
        * HAZARD[None, None, :]
        * SIZE_HAZARD[band][:, None, None]
        * hazard_factor[None, :, None]
    )
    closure = np.broadcast_to(
        (params.voluntary_closure_rate * SIZE_CLOSURE[band])[:, None], (GROUPS, HEALTH_STATES)
    ).copy()

    regimes = np.empty((families, months), dtype=np.int64)
    stationary = np.linalg.matrix_power(REGIME_CHAIN, 200)[0]
    regimes[:, 0] = rng.choice(REGIMES, size=families, p=stationary)
    cumulative_chain = REGIME_CHAIN.cumsum(axis=1)
    for t in range(1, months):
        draw = rng.random(families)
        regimes[:, t] = (draw[:, None] > cumulative_chain[regimes[:, t - 1]]).sum(axis=1).clip(0, REGIMES - 1)

    initial = _steady_population(transitions[:, 0, 1], 1.0 - hazard[:, 0] / hazard_factor[0] - closure)
    return LatentModel(
        months=months,
        crisis=crisis[:months],
        regimes=regimes,
        cumulative=np.cumsum(transitions[:, :months], axis=-1),
        hazard=hazard[:, :months],
        closure=closure,
        initial_health=initial,
        probabilities=_exact_probabilities(transitions, hazard, closure, months),
    )


def _steady_population(transitions: np.ndarray, survival: np.ndarray) -> np.ndarray:
    """Health distribution of the firms alive after `BURN_IN_MONTHS` of constant entries (group, K)."""
    population = np.zeros_like(survival)
    for _ in range(BURN_IN_MONTHS):
        population = np.einsum("gk,gkj->gj", population, transitions) * survival + ENTRY_HEALTH
    return population / population.sum(axis=1, keepdims=True)


def _exact_probabilities(transitions: np.ndarray, hazard: np.ndarray, closure: np.ndarray, months: int) -> np.ndarray:
    """P(failure in (t, t + H] | health, regime at t) by backward recursion: (group, month, h, regime, H)."""
    joint = np.einsum("ab,gtbij->gtiajb", REGIME_CHAIN, transitions)
    groups, extended = hazard.shape[:2]
    size = HEALTH_STATES * REGIMES
    joint = joint.reshape(groups, extended, size, size)
    fail = np.repeat(hazard, REGIMES, axis=2)
    survive = 1.0 - fail - np.repeat(closure, REGIMES, axis=1)[:, None, :]
    value = np.zeros((groups, extended, size))
    out = np.empty((groups, months, size, len(HORIZONS)))
    for horizon in range(1, max(HORIZONS) + 1):
        step = fail[:, 1:] + survive[:, 1:] * value[:, 1:]
        value = np.zeros_like(value)
        value[:, :-1] = np.einsum("gtij,gtj->gti", joint[:, 1:], step)
        if horizon in HORIZONS:
            out[..., HORIZONS.index(horizon)] = value[:, :months]
    return out.reshape(groups, months, HEALTH_STATES, REGIMES, len(HORIZONS))


@dataclass(frozen=True)
class LatentChunk:
    """Monthly latent path of a chunk of firms; month index 0 is `params.start`.

    `health` is -1 before entry and after exit; `failure_month` / `closure_month` are -1 when none;
    `regime` is the firm's sector regime (0 good, 1 normal, 2 bad) at every month; `hazard` is the
    monthly failure hazard without help (NaN when not alive), `helped` whether a follow-up lowered it.
    """

    health: np.ndarray
    regime: np.ndarray
    failure_month: np.ndarray
    closure_month: np.ndarray
    probabilities: np.ndarray
    hazard: np.ndarray
    helped: np.ndarray


def simulate_chunk(
    model: LatentModel,
    group: np.ndarray,
    family: np.ndarray,
    entry_month: np.ndarray,
    rng: np.random.Generator,
    agents: Agents | None = None,
) -> LatentChunk:
    """Simulate health, failures and closures, with exact probabilities (firm, month, horizon).

    With `agents`, the hazard of a firm under follow-up is lowered and the agents act after each month;
    their draws come from their own generator, so the world without help is drawn identically.
    """
    firms, months = len(group), model.months
    health = np.full((firms, months), -1, dtype=np.int8)
    hazard = np.full((firms, months), np.nan)
    initial_cumulative = np.cumsum(model.initial_health, axis=1)
    entry_cumulative = np.cumsum(ENTRY_HEALTH)
    failure = np.full(firms, -1, dtype=np.int64)
    closure = np.full(firms, -1, dtype=np.int64)
    start_draw = rng.random(firms)
    current = np.where(
        entry_month == 0,
        (start_draw[:, None] > initial_cumulative[group]).sum(axis=1),
        (start_draw[:, None] > entry_cumulative[None, :]).sum(axis=1),
    ).clip(0, HEALTH_STATES - 1)
    alive = entry_month == 0
    health[alive, 0] = current[alive]
    for t in range(1, months):
        move, event = rng.random(firms), rng.random(firms)
        rows = model.cumulative[group, t, model.regimes[family, t], current]
        moved = (move[:, None] > rows).sum(axis=1).clip(0, HEALTH_STATES - 1)
        current = np.where(alive, moved, current)
        fail_hazard = model.hazard[group, t, current]
        hazard[alive, t] = fail_hazard[alive]
        helped = fail_hazard * agents.hazard_factor(t) if agents is not None else fail_hazard
        fails = alive & (event < helped)
        # a failure that help averts is not turned into a closure: closures keep their own draws
        closes = alive & ~fails & (event >= fail_hazard) & (event < fail_hazard + model.closure[group, current])
        failure[fails] = t
        closure[closes] = t
        alive = alive & ~fails & ~closes
        entering = entry_month == t
        alive = alive | entering
        health[alive, t] = current[alive]
        if agents is not None:
            p18 = model.probabilities[group, t, current, model.regimes[family, t], HORIZONS.index(18)]
            agents.month(t, alive, current, p18, fails)
    regime = model.regimes[family]
    month_index = np.broadcast_to(np.arange(months), health.shape)
    known = health >= 0
    probabilities = np.full((firms, months, len(HORIZONS)), np.nan)
    probabilities[known] = model.probabilities[
        np.broadcast_to(group[:, None], health.shape)[known],
        month_index[known],
        health[known],
        regime[known],
    ]
    helped = agents.records.helped if agents is not None else np.zeros(health.shape, dtype=bool)
    return LatentChunk(health, regime, failure, closure, probabilities, hazard, helped)
