"""From the latent path to the firm's observable life: proceedings, closing, headcount, payments.

Health shows the way it does in administrative data: the worse the state, the more often and the
larger the share of the month's contributions left unpaid at the due date (decided on the cash of the
month the payment falls due, early in the next month), and the fewer the employees. Noise enters here,
once for all sources: a firm-level AR(1) "nuisance" (cash-flow trouble unrelated to failure) adds rare
payment incidents, a little headcount noise and a few partial-activity requests; a firm trend moves
headcount; shares left unpaid are drawn per month. `level` (health lightly smoothed over months)
drives the accounts and crisis partial activity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sf_spark.generate.calendar import day_in_month, weekday_on_or_before
from sf_spark.generate.firms import Firms
from sf_spark.generate.process import HEALTH_STATES, LatentChunk

LIQUIDATION, REDRESSEMENT, SAUVEGARDE = 0, 1, 2
PROCEDURE_SHARES = np.array([0.68, 0.27, 0.05])
# By health state (0 worst): chance to leave part of the month's contributions unpaid, and the mean share
# left unpaid when so (firms in difficulty pay less and less, month after month).
MISSED_PAYMENT = np.array([1.0, 0.98, 0.93, 0.8, 0.4, 0.12, 0.04, 0.008])
UNPAID_SHARE = np.array([0.9, 0.75, 0.55, 0.35, 0.2, 0.15, 0.15, 0.15])
UNPAID_NOISE = 0.05
# Extra monthly chance of a payment incident per unit of positive nuisance (healthy firms too).
NUISANCE_INCIDENT = 0.006
# Log headcount relative to a firm of the same size in health 6, without smoothing: firms in difficulty
# shed staff, the more so the worse their state.
HEADCOUNT_EFFECT = np.array([-0.6, -0.42, -0.3, -0.2, -0.12, -0.06, 0.0, 0.05])
HEADCOUNT_NOISE = 0.01
# Weight of the previous month in `level` (health as seen by the accounts and crisis partial activity).
LEVEL_SMOOTHING = 0.3
NO_END = np.iinfo(np.int64).max // 4


@dataclass(frozen=True)
class Panel:
    """Observable monthly life of a chunk of firms (firm, month); months index 0 is `params.start`.

    `exists`: registered and operating at the month end; `level`: smoothed health in [0, 1];
    `headcount`: employees of the siren (0 when not existing); `due` / `paid`: contributions of the
    month in cents; `deferred`: crisis deferral of the month's contributions. Event months are -1 (or
    NO_END for `exit_month`) when there is none; dates are datetime64[D] (NaT when none).
    """

    exists: np.ndarray
    level: np.ndarray
    nuisance: np.ndarray
    health: np.ndarray
    headcount: np.ndarray
    due: np.ndarray
    paid: np.ndarray
    deferred: np.ndarray
    failure_month: np.ndarray
    failure_date: np.ndarray
    procedure: np.ndarray
    conversion_month: np.ndarray
    plan_month: np.ndarray
    exit_month: np.ndarray
    closing_date: np.ndarray
    end_of_proceedings_month: np.ndarray


def _smooth(values: np.ndarray, weight: float) -> np.ndarray:
    out = np.empty_like(values)
    out[:, 0] = values[:, 0]
    for t in range(1, values.shape[1]):
        out[:, t] = weight * out[:, t - 1] + (1 - weight) * values[:, t]
    return out


def observe(
    firms: Firms,
    latent: LatentChunk,
    start_month: int,
    crisis: np.ndarray,
    deferral_share: float,
    rng: np.random.Generator,
) -> Panel:
    """Draw proceedings, closings, headcount and payments of a chunk from its latent path."""
    n, months = latent.health.shape
    t = np.arange(months)[None, :]
    failed = latent.failure_month >= 0
    failure_month = latent.failure_month
    failure_day = rng.integers(3, 29, n)
    failure_date = np.where(
        failed,
        weekday_on_or_before(day_in_month(start_month + np.maximum(failure_month, 0), failure_day)),
        np.datetime64("NaT"),
    )
    procedure = np.where(failed, rng.choice(3, n, p=PROCEDURE_SHARES), -1)
    converted = (procedure == REDRESSEMENT) & (rng.random(n) < 0.45)
    conversion_month = np.where(converted, failure_month + rng.integers(2, 9, n), -1)
    plan_month = np.where(failed & (procedure != LIQUIDATION) & ~converted, failure_month + rng.integers(6, 15, n), -1)
    liquidation_start = np.where(procedure == LIQUIDATION, failure_month, conversion_month)
    liquidated = liquidation_start >= 0
    exit_month = np.full(n, NO_END, dtype=np.int64)
    closed = latent.closure_month >= 0
    exit_month[closed] = latent.closure_month[closed]
    exit_month[liquidated] = liquidation_start[liquidated] + rng.integers(2, 11, liquidated.sum())
    end_of_proceedings_month = np.where(liquidated, liquidation_start + rng.integers(12, 31, n), -1)
    closing_date = np.where(
        exit_month < months,
        day_in_month(start_month + np.minimum(exit_month, months), rng.integers(1, 29, n)),
        np.datetime64("NaT"),
    )
    exists = (t >= firms.entry_month[:, None]) & (t < exit_month[:, None])

    in_proceedings = failed[:, None] & (t >= failure_month[:, None])
    health = np.where(in_proceedings & exists, 0, latent.health).astype(np.int8)
    normalised = np.where(health >= 0, health / (HEALTH_STATES - 1), 0.0)
    level = _smooth(normalised, LEVEL_SMOOTHING)
    shocks = rng.normal(0, 1, (n, months))
    nuisance = np.empty((n, months))
    nuisance[:, 0] = shocks[:, 0]
    for month in range(1, months):
        nuisance[:, month] = 0.9 * nuisance[:, month - 1] + 0.436 * shocks[:, month]

    trend = rng.normal(0.0, 0.01, n)[:, None] * t / 12
    post = np.where(in_proceedings, 0.7, 1.0)
    effect = HEADCOUNT_EFFECT[np.maximum(health, 0)]
    raw = firms.size[:, None] * np.exp(effect + HEADCOUNT_NOISE * nuisance + trend) * post
    headcount = np.maximum(np.rint(raw), 1).astype(np.int64)
    headcount = np.where(firms.small[:, None], np.minimum(headcount, 9), headcount)
    headcount = np.where(exists, headcount, 0)

    due = np.rint(headcount * firms.contribution_per_employee[:, None] * rng.normal(1.0, 0.03, (n, months)) * 100)
    due = np.where(exists, due, 0).astype(np.int64)
    # A month's contributions fall due early in the next month: paid or not on the health of that month.
    payer_health = health.copy()
    payer_health[:, :-1] = np.where(health[:, 1:] >= 0, health[:, 1:], health[:, :-1])
    state = np.maximum(payer_health, 0)
    miss_probability = MISSED_PAYMENT[state] + NUISANCE_INCIDENT * np.maximum(nuisance, 0)
    missed = exists & (rng.random((n, months)) < np.where(in_proceedings, 0.5, miss_probability))
    share = np.clip(UNPAID_SHARE[state] + rng.normal(0, UNPAID_NOISE, (n, months)), 0.05, 1.0)
    unpaid_share = np.where(missed, share, 0.0)
    crisis_row = crisis[None, :months] & (np.cumsum(crisis[:months]) <= 6)[None, :]
    deferred = (
        exists & ~in_proceedings & crisis_row & (rng.random((n, months)) < deferral_share * firms.exposure[:, None])
    )
    unpaid_share = np.where(deferred, 1.0, unpaid_share)
    paid = np.rint(due * (1 - unpaid_share)).astype(np.int64)
    return Panel(
        exists=exists,
        level=level,
        nuisance=nuisance,
        health=health,
        headcount=headcount,
        due=due,
        paid=paid,
        deferred=deferred,
        failure_month=failure_month,
        failure_date=failure_date,
        procedure=procedure,
        conversion_month=conversion_month,
        plan_month=plan_month,
        exit_month=exit_month,
        closing_date=closing_date,
        end_of_proceedings_month=end_of_proceedings_month,
    )
