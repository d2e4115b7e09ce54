"""From the latent path to the firm's observable life: proceedings, closing, headcount, payments.

Noise enters here, once for all sources: a firm-level AR(1) "nuisance" (cash-flow trouble unrelated to
failure) moves headcount, payment incidents and partial activity; health itself is seen only smoothed
over months; payment incidents and their size are drawn per month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sf_spark.generate.calendar import day_in_month, weekday_on_or_before
from sf_spark.generate.firms import Firms
from sf_spark.generate.process import HEALTH_STATES, LatentChunk

LIQUIDATION, REDRESSEMENT, SAUVEGARDE = 0, 1, 2
PROCEDURE_SHARES = np.array([0.68, 0.27, 0.05])
MISSED_PAYMENT = np.array([0.75, 0.55, 0.35, 0.18, 0.08, 0.035, 0.015, 0.008])
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
    plan_month = np.where(
        failed & (procedure != LIQUIDATION) & ~converted, failure_month + rng.integers(6, 15, n), -1
    )
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
    level = _smooth(normalised, 0.7)
    shocks = rng.normal(0, 1, (n, months))
    nuisance = np.empty((n, months))
    nuisance[:, 0] = shocks[:, 0]
    for month in range(1, months):
        nuisance[:, month] = 0.9 * nuisance[:, month - 1] + 0.436 * shocks[:, month]

    trend = rng.normal(0.0, 0.03, n)[:, None] * t / 12
    post = np.where(in_proceedings, 0.7, 1.0)
    raw = firms.size[:, None] * np.exp(0.6 * (level - 0.8) + 0.08 * nuisance + trend) * post
    headcount = np.maximum(np.rint(raw), 1).astype(np.int64)
    headcount = np.where(firms.small[:, None], np.minimum(headcount, 9), headcount)
    headcount = np.where(exists, headcount, 0)

    due = np.rint(
        headcount * firms.contribution_per_employee[:, None] * rng.normal(1.0, 0.03, (n, months)) * 100
    )
    due = np.where(exists, due, 0).astype(np.int64)
    miss_probability = MISSED_PAYMENT[np.maximum(health, 0)] * (1 + 0.8 * np.maximum(nuisance, 0))
    missed = exists & (rng.random((n, months)) < np.where(in_proceedings, 0.5, miss_probability))
    unpaid_share = np.where(missed, rng.uniform(0.2, 1.0, (n, months)), 0.0)
    crisis_row = crisis[None, :months] & (np.cumsum(crisis[:months]) <= 6)[None, :]
    deferred = (
        exists
        & ~in_proceedings
        & crisis_row
        & (rng.random((n, months)) < deferral_share * firms.exposure[:, None])
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
