"""DGEFP partial activity: authorisation requests (`act_partielle_ddes`) and monthly use (`_conso`).

Firms in poor health request partial activity far more often, for more of their staff. Noise: healthy
firms also request it (bad weather, supply problems, a nuisance-driven base rate); in the crisis most
firms of exposed sectors do, whatever their health; firms use only part of the hours authorised.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from sf_spark.generate import encodings as enc
from sf_spark.generate.calendar import day_in_month, month_start
from sf_spark.generate.chunk import Chunk
from sf_spark.generate.delivery import Delivery

FULL_TIME_HOURS = 151.67
HOURLY_ALLOWANCE = 7.74
# Monthly chance of an ordinary request by health (0 worst), raised by 30 % per unit of positive nuisance.
START_PROBABILITY = np.array([0.25, 0.15, 0.08, 0.03, 0.01, 0.003, 0.0012, 0.0008])
NUISANCE_REQUESTS = 0.3
# Ordinary requests by sector regime (good, normal, bad): a sector downturn sends its firms to partial activity.
REGIME_REQUESTS = np.array([0.6, 1.0, 2.0])
# Share of the staff put on partial activity: from about 30 % (healthy) to about 80 % (health 0).
STAFF_SHARE_HEALTHY, STAFF_SHARE_WORST = 0.3, 0.8
ORDINARY_REASONS = (np.array(["1", "2", "3", "4", "5"]), np.array([0.65, 0.1, 0.1, 0.08, 0.07]))


def write_partial_activity(chunk: Chunk) -> None:
    """Episodes never overlap within a firm; the request is on the head office, decided in its first month."""
    rng, panel, firms, est, params = chunk.rng, chunk.panel, chunk.firms, chunk.establishments, chunk.params
    n, months = panel.health.shape
    crisis_rank = np.cumsum(chunk.crisis) * chunk.crisis
    peak = np.where(crisis_rank == 1, 1.0, np.where(crisis_rank == 2, 0.5, np.where(crisis_rank > 2, 0.06, 0.0)))
    busy_until = np.full(n, -1)
    starts, lengths, in_crisis = [], [], []
    for t in range(months):
        healthy = np.maximum(panel.health[:, t], 0)
        ordinary = (
            START_PROBABILITY[healthy]
            * REGIME_REQUESTS[chunk.latent.regime[:, t]]
            * (1 + NUISANCE_REQUESTS * np.maximum(panel.nuisance[:, t], 0))
        )
        crisis = params.crisis_partial_activity_share * peak[t] * firms.exposure * (1.3 - 0.4 * panel.level[:, t])
        start = panel.exists[:, t] & (busy_until < t) & (rng.random(n) < ordinary + crisis)
        length = np.where(peak[t] > 0, rng.integers(3, 13, n), rng.integers(1, 7, n))
        busy_until = np.where(start, t + length - 1, busy_until)
        firm = np.flatnonzero(start)
        starts.append(np.column_stack([firm, np.full(len(firm), t)]))
        lengths.append(length[firm])
        in_crisis.append(np.full(len(firm), peak[t] > 0))
    episode = np.concatenate(starts)
    firm, start = episode[:, 0], episode[:, 1]
    length, crisis = np.concatenate(lengths), np.concatenate(in_crisis)
    count = len(firm)
    siret = np.flatnonzero(est.head_office)[firm]
    headcount = np.maximum(panel.headcount[firm, start], 1)
    badness = 1 - panel.level[firm, start]
    staff_share = STAFF_SHARE_HEALTHY + (STAFF_SHARE_WORST - STAFF_SHARE_HEALTHY) * badness
    staff_share = np.clip(staff_share + rng.normal(0, 0.1, count), 0.1, 1.0)
    authorised_staff = np.maximum(np.rint(headcount * staff_share), 1).astype(np.int64)
    hours = np.round(authorised_staff * FULL_TIME_HOURS * length * rng.uniform(0.3, 1.0, count), 2)
    decided = day_in_month(chunk.start_month + start, rng.integers(1, 29, count))
    first_day = np.where(
        crisis,
        month_start(chunk.start_month + start),
        decided + rng.integers(0, 15, count).astype("timedelta64[D]"),
    )
    last_day = month_start(chunk.start_month + start + length) - np.timedelta64(1, "D")
    previous = np.zeros(count, dtype=np.int64)
    order = np.lexsort((start, firm))
    rank = np.arange(count) - np.searchsorted(firm[order], firm[order])
    previous[order] = rank
    reason = np.where(crisis, "5", rng.choice(ORDINARY_REASONS[0], count, p=ORDINARY_REASONS[1]))
    request_id = np.char.add(
        np.array(list("abcdefghjkmnpqrstuvwxyz"))[firms.index[firm] % 23],
        np.char.zfill((firms.index[firm] * 97 + start * 13 + rank).astype(str), 9),
    )
    requests = {
        "id": request_id,
        "siret": siret,
        "firm": firm,
        "headcount": headcount,
        "siret_headcount": np.maximum(np.rint(headcount * est.share[siret]), 0).astype(np.int64),
        "decided": decided,
        "first": first_day,
        "last": last_day,
        "hours": hours,
        "staff": authorised_staff,
        "reason": reason,
        "scope": rng.choice(np.array(["1", "2"]), count),
        "previous": np.minimum(previous, 3),
    }
    delivery = chunk.writer.schedules["ap_demande"].route(month_start(chunk.start_month + start + 1))

    def request_format(cols: dict[str, np.ndarray], target: Delivery) -> pa.Table:
        date = _date_text(target)
        zero = pa.array(np.zeros(len(cols["id"])))
        return pa.table(
            {
                "ID_DA": pa.array(cols["id"]),
                "ETAB_SIRET": est.siret.take(cols["siret"]),
                "EFF_ENT": pa.array(cols["headcount"].astype(float)),
                "EFF_ETAB": pa.array(cols["siret_headcount"].astype(float)),
                "DATE_STATUT": date(cols["decided"]),
                "DATE_DEB": date(cols["first"]),
                "DATE_FIN": date(cols["last"]),
                "HTA": pa.array(cols["hours"]),
                "MTA": pa.array(np.round(cols["hours"] * HOURLY_ALLOWANCE, 2)),
                "EFF_AUTO": pa.array(cols["staff"].astype(float)),
                "MOTIF_RECOURS_SE": pa.array(cols["reason"]),
                "PERIMETRE_AP": pa.array(cols["scope"]),
                "S_HEURE_CONSOM_TOT": zero,
                "S_EFF_CONSOM_TOT": zero,
                "S_MONTANT_CONSOM_TOT": zero,
                "RECOURS_ANTERIEUR": pa.array(cols["previous"].astype(str)),
            }
        )

    chunk.writer.write("ap_demande", delivery, requests, request_format)

    used = np.repeat(np.arange(count), length)
    month = start[used] + np.arange(len(used)) - np.repeat(np.cumsum(length) - length, length)
    alive = month < months
    used, month = used[alive], month[alive]
    alive = panel.exists[firm[used], month]
    used, month = used[alive], month[alive]
    share = np.where(crisis[used], rng.uniform(0.0, 0.9, len(used)), rng.uniform(0.0, 0.6, len(used)))
    consumed = np.round(authorised_staff[used] * FULL_TIME_HOURS * share, 2)
    positive = consumed > 0.5
    consumption = {
        "id": request_id[used][positive],
        "siret": siret[used][positive],
        "hours": consumed[positive],
        "staff": np.maximum(np.rint(authorised_staff[used][positive] * rng.uniform(0.5, 1.0, positive.sum())), 1),
        "month": month_start(chunk.start_month + month[positive]),
    }
    delivery = chunk.writer.schedules["ap_conso"].route(month_start(chunk.start_month + month[positive] + 2))

    def consumption_format(cols: dict[str, np.ndarray], target: Delivery) -> pa.Table:
        return pa.table(
            {
                "ID_DA": pa.array(cols["id"]),
                "ETAB_SIRET": est.siret.take(cols["siret"]),
                "HEURES": pa.array(cols["hours"]),
                "MONTANTS": pa.array(np.round(cols["hours"] * HOURLY_ALLOWANCE, 2)),
                "EFFECTIFS": pa.array(cols["staff"].astype(float)),
                "MOIS": _date_text(target)(cols["month"]),
            }
        )

    chunk.writer.write("ap_conso", delivery, consumption, consumption_format)


def _date_text(target: Delivery) -> Callable[[np.ndarray], pa.Array]:
    """Dates quoted (strings) or bare (date values) depending on the delivery."""
    if target.quoted_dates:
        return enc.iso_date
    return pa.array
