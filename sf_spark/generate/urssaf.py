"""URSSAF deliveries: contributions, debts (arrears) with their states, payment plans, CCSF, headcount.

Arrears persist: a debt is settled only once the firm is back in good health (`REPAY_HEALTH`; part of
it that month, the rest a month or more later), so a firm in difficulty accumulates arrears month after
month. Nothing recorded at a month depends on the firm's later health. Noise: contributions carry
+-3 % monthly wage noise; payment incidents strike healthy firms too (a nuisance-driven base rate) and
are settled a month or two later; the latest month of a headcount delivery is provisional (revised in later
deliveries) for a share of establishments.

Debt states (`Cd_op_ecn`): 1 put into recovery (also the state recording proceedings, `Cd_pro_col` 1,
and a recovery plan, 2), 2 payment (partial, then full), 3 write-off after a closing or a liquidation,
12 a payment cancelled (amount due again) then paid again; `Num_Hist_Ecn` numbers them 1, 2, ...
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sf_spark.generate import encodings as enc
from sf_spark.generate.calendar import day_in_month, month_of, month_start
from sf_spark.generate.chunk import Chunk
from sf_spark.generate.delivery import Delivery
from sf_spark.generate.observe import NO_END

EMPLOYEE_SHARE = 0.3
BOUNCED_PAYMENT_SHARE = 0.02
# Health from which a firm settles its arrears, and the monthly chance that a firm in health <=
# CCSF_HEALTH with arrears asks the creditors' committee (once).
REPAY_HEALTH = 5
CCSF_HEALTH = 2
CCSF_MONTHLY_REQUEST = 0.06
# Share of the debts of a firm in health 1 to REPAY_HEALTH - 1 that get a payment plan of their own.
REGULAR_PLAN_SHARE = 0.3


def _siret_text(values: pa.Array, target: Delivery) -> pa.Array:
    return enc.lost_zeros(values) if target.lost_zeros else values


def contribution_rows(chunk: Chunk) -> dict[str, np.ndarray]:
    """One row per establishment and contribution period (month, or quarter for quarterly payers)."""
    firms, est, panel = chunk.firms, chunk.establishments, chunk.panel
    months = chunk.months
    quarter_first = ((chunk.start_month + np.arange(months)) // 3) * 3 - chunk.start_month
    quarterly = firms.quarterly_payer[est.firm]
    siret_due = np.rint(panel.due[est.firm] * est.share[:, None]).astype(np.int64)
    siret_paid = np.rint(panel.paid[est.firm] * est.share[:, None]).astype(np.int64)
    siret_exists = panel.exists[est.firm]
    period = np.where(quarterly[:, None], quarter_first[None, :], np.arange(months)[None, :])
    key = np.arange(len(est.firm))[:, None] * (months + 3) + (period + 3)
    flat_key = np.unique(key[siret_exists])
    inverse = np.searchsorted(flat_key, key[siret_exists])
    due = np.bincount(inverse, weights=siret_due[siret_exists]).astype(np.int64)
    paid = np.bincount(inverse, weights=siret_paid[siret_exists]).astype(np.int64)
    siret = flat_key // (months + 3)
    start = flat_key % (months + 3) - 3
    span = np.where(quarterly[siret], 3, 1)
    deferred = np.bincount(inverse, weights=panel.deferred[est.firm][siret_exists]) > 0
    complete = (start >= 0) & (start + span <= months)
    return {
        "siret": siret[complete],
        "start": start[complete],
        "span": span[complete],
        "due": due[complete],
        "paid": paid[complete],
        "deferred": deferred[complete],
    }


def write_contributions(chunk: Chunk, rows: dict[str, np.ndarray]) -> None:
    """`Sigfaible_cotisdues`: due and collected per period, delivered two months after the period's end."""
    est, firms = chunk.establishments, chunk.firms
    end_month = chunk.start_month + rows["start"] + rows["span"] - 1
    delivery = chunk.writer.schedules["urssaf_cotisation"].route(month_start(end_month + 2))

    def formatter(cols: dict[str, np.ndarray], target: Delivery) -> pa.Table:
        siret, firm = cols["siret"], est.firm[cols["siret"]]
        return pa.table(
            {
                "Urssaf_gestion": pa.array(firms.urssaf_code[firm]),
                "Dep": pa.array(firms.departement[firm]),
                "Siret": _siret_text(est.siret.take(siret), target),
                "Compte": est.account.take(siret),
                "periode": enc.urssaf_period(chunk.start_month + cols["start"], cols["span"], digits=4),
                "mer": enc.comma_euros(cols["due"]),
                "enc_direct": enc.comma_euros(cols["paid"]),
                "cotis_due": enc.comma_euros(cols["due"]),
            }
        )

    chunk.writer.write("urssaf_cotisation", delivery, rows, formatter)


def _recovery_months(health: np.ndarray, threshold: int) -> np.ndarray:
    """For each (firm, month): the first month from it on with health >= `threshold`, else NO_END."""
    out = np.empty(health.shape, dtype=np.int64)
    following = np.full(health.shape[0], NO_END, dtype=np.int64)
    for month in range(health.shape[1] - 1, -1, -1):
        following = np.where(health[:, month] >= threshold, month, following)
        out[:, month] = following
    return out


def write_debts(chunk: Chunk, rows: dict[str, np.ndarray]) -> None:
    """`Sigfaible_debits`, `Sigfaible_delais`: one debt per unpaid period, its successive states, plans."""
    rng, panel, est = chunk.rng, chunk.panel, chunk.establishments
    months = chunk.months
    unpaid = rows["due"] - rows["paid"]
    debt = np.flatnonzero(unpaid >= 100)
    n = len(debt)
    siret = rows["siret"][debt]
    firm = est.firm[siret]
    amount = unpaid[debt]
    created = rows["start"][debt] + rows["span"][debt]
    deferred = rows["deferred"][debt]

    recovery = _recovery_months(panel.health, REPAY_HEALTH)[firm, np.minimum(created, months - 1)]
    settles = np.maximum(recovery, created)
    plan_length = rng.integers(6, 25, len(chunk.firms))[firm]
    first_deferred = np.full(len(chunk.firms), NO_END)
    np.minimum.at(first_deferred, firm[deferred], created[deferred])
    plan_start = first_deferred[firm] + 1
    repaid = np.where(
        deferred, plan_start + plan_length, np.where(recovery < NO_END, settles + rng.geometric(0.5, n), NO_END)
    )
    # Plans are granted on what is known when the debt falls due (health of that month), never on the
    # future; their length is their own, so repayment may deviate from them.
    due_health = panel.health[firm, np.minimum(created, months - 1)]
    regular_plan = (
        ~deferred & (due_health >= 1) & (due_health <= REPAY_HEALTH - 1) & (rng.random(n) < REGULAR_PLAN_SHARE)
    )
    regular_length = rng.integers(6, 25, n)

    failure = panel.failure_month[firm]
    failure = np.where(failure >= 0, failure, NO_END)
    exit_month = panel.exit_month[firm]
    in_proceedings = (panel.failure_month[firm] >= 0) & (failure >= created) & (failure < repaid)
    plan_month = panel.plan_month[firm]
    continued = in_proceedings & (plan_month >= 0)
    liquidated = in_proceedings & ~continued
    closes_first = ~in_proceedings & (exit_month < repaid)
    pays = ~in_proceedings & ~closes_first
    bounced = pays & (rng.random(n) < BOUNCED_PAYMENT_SHARE)
    delay_days = rng.integers(0, 21, n).astype("timedelta64[D]")
    noticed = np.where(in_proceedings, panel.failure_date[firm], month_start(chunk.start_month)) + delay_days
    noticed_month = month_of(noticed) - chunk.start_month
    noticed_day = (noticed - month_start(month_of(noticed))).astype(np.int64) + 1
    employee = np.rint(amount * EMPLOYEE_SHARE).astype(np.int64)
    employer = amount - employee
    zeros = np.zeros(n, dtype=np.int64)
    half = np.rint(rng.uniform(0.3, 0.7, n) * 100).astype(np.int64)
    # A part is paid midway through a deferral plan, or when the firm recovers (if it is still there).
    partial_month = np.where(deferred, (created + repaid) // 2, settles)
    partial = np.where(deferred, repaid - created >= 3, (settles > created) & (repaid - settles >= 2))
    partial &= (partial_month < failure) & (partial_month < exit_month)
    left_employee = np.where(partial, employee * half // 100, employee)
    left_employer = np.where(partial, employer * half // 100, employer)

    states = [
        (np.ones(n, bool), 0, created, rng.integers(6, 26, n), 1, employee, employer, 0, 1),
        (partial, 1, partial_month, rng.integers(1, 29, n), 2, left_employee, left_employer, 0, 1),
        (pays, 2, repaid, rng.integers(1, 29, n), 2, zeros, zeros, 0, 1),
        (bounced, 6, repaid + 1, rng.integers(1, 29, n), 12, employee, employer, 0, 1),
        (bounced, 7, repaid + 2, rng.integers(1, 29, n), 2, zeros, zeros, 0, 1),
        (closes_first, 2, np.maximum(exit_month, created) + 1, rng.integers(1, 29, n), 3, zeros, zeros, 0, 3),
        (in_proceedings, 3, noticed_month, noticed_day, 1, left_employee, left_employer, 1, 2),
        (liquidated, 4, exit_month, rng.integers(1, 29, n), 3, zeros, zeros, 1, 3),
        (continued, 4, plan_month, rng.integers(1, 29, n), 1, left_employee, left_employer, 2, 1),
        (continued, 5, plan_month + rng.integers(12, 37, n), rng.integers(1, 29, n), 2, zeros, zeros, 2, 1),
    ]
    parts = []
    for mask, order, month, day, op, po, pp, procol, state in states:
        keep = mask & (month < months)
        idx = np.flatnonzero(keep)
        parts.append(
            (
                idx,
                np.full(len(idx), order),
                np.broadcast_to(month, n)[idx],
                np.broadcast_to(day, n)[idx],
                np.full(len(idx), op),
                np.broadcast_to(po, n)[idx],
                np.broadcast_to(pp, n)[idx],
                np.full(len(idx), procol),
                np.full(len(idx), state),
            )
        )
    debt_row, order, month, day, op, po, pp, procol, state = (np.concatenate(p) for p in zip(*parts, strict=True))
    sort = np.lexsort((order, debt_row))
    debt_row, month, day, op, po, pp, procol, state = (
        a[sort] for a in (debt_row, month, day, op, po, pp, procol, state)
    )
    first_of_debt = np.r_[0, np.flatnonzero(np.diff(debt_row)) + 1]
    history = np.arange(len(debt_row)) - np.repeat(first_of_debt, np.diff(np.r_[first_of_debt, len(debt_row)])) + 1
    recorded = day_in_month(chunk.start_month + month, day)
    number = rng.integers(1, 1000, n)
    period_start = rows["start"][debt]
    span = rows["span"][debt]
    columns = {
        "siret": siret[debt_row],
        "recorded": recorded,
        "history": history,
        "op": op,
        "po": po,
        "pp": pp,
        "procol": procol,
        "state": state,
        "number": number[debt_row],
        "period": chunk.start_month + period_start[debt_row],
        "span": span[debt_row],
        "motif": rng.integers(0, 80, len(debt_row)),
        "appeal": (rng.random(len(debt_row)) < 0.01).astype(int),
    }
    delivery = chunk.writer.schedules["urssaf_debit"].route(month_start(chunk.start_month + month + 1))
    firms = chunk.firms

    def debit_format(cols: dict[str, np.ndarray], target: Delivery) -> pa.Table:
        row_siret = cols["siret"]
        row_firm = est.firm[row_siret]
        return pa.table(
            {
                "Urssaf_gestion": pa.array(firms.urssaf_code[row_firm]),
                "Dep": pa.array(firms.departement[row_firm]),
                "num_cpte": est.account.take(row_siret),
                "Siren": firms.siren.take(row_firm),
                "Siret": est.siret.take(row_siret),
                "Dt_immat": enc.yyyymmdd(firms.creation[row_firm]),
                "Etat_cpte": enc.text(cols["state"]),
                "Cd_pro_col": enc.text(cols["procol"]),
                "Periode": enc.urssaf_period(cols["period"], cols["span"]),
                "Num_Ecn": enc.text(cols["number"]),
                "Num_Hist_Ecn": enc.text(cols["history"]),
                "Dt_trt_ecn": enc.urssaf_date(cols["recorded"]),
                "Mt_PO": enc.text(cols["po"]),
                "Mt_PP": enc.text(cols["pp"]),
                "Cd_op_ecn": enc.text(cols["op"]),
                "Motif_ecn": enc.text(cols["motif"]),
                "Recours_en_cours": enc.text(cols["appeal"]),
            }
        )

    chunk.writer.write("urssaf_debit", delivery, columns, debit_format)
    _write_plans(chunk, siret, deferred, plan_start, plan_length, regular_plan, created, regular_length, amount)


def _write_plans(
    chunk: Chunk,
    siret: np.ndarray,
    deferred: np.ndarray,
    plan_start: np.ndarray,
    plan_length: np.ndarray,
    regular_plan: np.ndarray,
    created: np.ndarray,
    regular_length: np.ndarray,
    amount: np.ndarray,
) -> None:
    """Payment plans: one per establishment with deferred crisis debts, and some for ordinary debts."""
    rng, est, firms = chunk.rng, chunk.establishments, chunk.firms
    deferred_sirets, inverse = np.unique(siret[deferred], return_inverse=True)
    deferred_amount = np.bincount(inverse, weights=amount[deferred])
    deferred_first = np.flatnonzero(deferred)[np.unique(inverse, return_index=True)[1]]
    regular = np.flatnonzero(regular_plan)
    plan_siret = np.r_[deferred_sirets, siret[regular]]
    start = np.r_[plan_start[deferred_first], created[regular] + 1]
    length = np.r_[plan_length[deferred_first], regular_length[regular]]
    total = np.r_[deferred_amount, amount[regular]].astype(np.int64)
    keep = start < chunk.months
    plan_siret, start, length, total = plan_siret[keep], start[keep], length[keep], total[keep]
    created_on = day_in_month(chunk.start_month + start, rng.integers(1, 29, len(start)))
    days = (month_start(chunk.start_month + start + length) - month_start(chunk.start_month + start)).astype(int)
    columns = {
        "siret": plan_siret,
        "created": created_on,
        "days": days,
        "total": total,
        "structure": rng.integers(10**12, 10**13, len(start)),
        "approved": rng.random(len(start)) < 0.9,
    }
    delivery = chunk.writer.schedules["urssaf_delai"].route(month_start(chunk.start_month + start + 1))

    def formatter(cols: dict[str, np.ndarray], target: Delivery) -> pa.Table:
        row_firm = est.firm[cols["siret"]]
        ends = cols["created"] + cols["days"].astype("timedelta64[D]")
        return pa.table(
            {
                "Urssaf_gestion": pa.array(firms.urssaf_code[row_firm]),
                "Dep": pa.array(firms.departement[row_firm]),
                "Siret": est.siret.take(cols["siret"]),
                "Numero_compte_externe": est.account.take(cols["siret"]),
                "Numero_structure": enc.text(cols["structure"]),
                "Date_creation": enc.slash_date(cols["created"]),
                "Date_echeance": enc.slash_date(ends),
                "Duree_delai": enc.text(cols["days"]),
                "Denomination_premiere_ligne": firms.name.take(row_firm),
                "Indic_6M": pa.array(np.where(cols["days"] <= 180, "INF", "SUP")),
                "Annee_creation": enc.text(cols["created"].astype("datetime64[Y]").astype(int) + 1970),
                "Montant_global_echeancier": enc.dot_decimal(cols["total"] / 100),
                "Code_externe_stade": pa.array(np.where(cols["approved"], "APPROB", "REFUS")),
                "Code_externe_action": pa.array(np.full(len(row_firm), "DELAI")),
            }
        )

    chunk.writer.write("urssaf_delai", delivery, columns, formatter)


def write_ccsf(chunk: Chunk) -> None:
    """Creditors' committee, asked once by firms in poor health with arrears: DEBUT, APPROB or REFUS, FIN or REJ.

    Each month in health <= `CCSF_HEALTH` with an unpaid contribution, a firm asks with chance
    `CCSF_MONTHLY_REQUEST` (recorded the next month), so the longer the trouble the likelier the request.
    """
    rng, panel, firms, est = chunk.rng, chunk.panel, chunk.firms, chunk.establishments
    n, months = panel.health.shape
    trouble = panel.exists & (panel.health >= 0) & (panel.health <= CCSF_HEALTH) & (panel.paid < panel.due)
    trouble &= rng.random((n, months)) < CCSF_MONTHLY_REQUEST
    firm = np.flatnonzero(trouble.any(axis=1))
    begin = trouble[firm].argmax(axis=1) + 1
    decision = begin + rng.integers(1, 4, len(firm))
    approved = rng.random(len(firm)) < 0.65
    failure = np.where(panel.failure_month[firm] >= 0, panel.failure_month[firm], NO_END)
    finish = decision + rng.integers(12, 25, len(firm))
    ended_by_failure = approved & (failure > decision) & (failure < finish)
    stage_rows = [
        (np.ones(len(firm), bool), begin, "DEBUT"),
        (approved, decision, "APPROB"),
        (~approved, decision, "REFUS"),
        (approved & ~ended_by_failure, finish, "FIN"),
        (ended_by_failure, failure + 1, "REJ"),
    ]
    picked = [(firm[m], mon[m], np.full(m.sum(), label)) for m, mon, label in stage_rows]
    row_firm, month, stage = (np.concatenate(p) for p in zip(*picked, strict=True))
    keep = month < np.minimum(months, panel.exit_month[row_firm])
    row_firm, month, stage = row_firm[keep], month[keep], stage[keep]
    head_office = np.flatnonzero(est.head_office)
    siret = head_office[row_firm]
    treated = day_in_month(chunk.start_month + month, rng.integers(1, 29, len(month)))
    delivery = chunk.writer.schedules["urssaf_ccsf"].route(month_start(chunk.start_month + month + 1))

    def formatter(cols: dict[str, np.ndarray], target: Delivery) -> pa.Table:
        f = est.firm[cols["siret"]]
        return pa.table(
            {
                "Urssaf_gestion": pa.array(firms.urssaf_code[f]),
                "Dep": pa.array(firms.departement[f]),
                "Siret": est.siret.take(cols["siret"]),
                "Compte": est.account.take(cols["siret"]),
                "Date_de_traitement": enc.urssaf_date(cols["treated"]),
                "Code_externe_stade": pa.array(cols["stage"]),
                "Code_externe_action": pa.array(np.full(len(f), "CCSF")),
            }
        )

    chunk.writer.write("urssaf_ccsf", delivery, {"siret": siret, "treated": treated, "stage": stage}, formatter)


def _headcount_values(values: np.ndarray, known: np.ndarray, style: int) -> pa.Array:
    """Headcount cells: style 0 zero-padded to 3 digits (`089`), 1 with a thousands separator."""
    if style == 0:
        return pc.utf8_lpad(enc.text(values, ~known), width=3, padding="0")
    return enc.thousands(values, ~known)


def write_headcount(chunk: Chunk) -> None:
    """`Sigfaible_effectif_siret` / `_siren`: wide monthly headcount over the delivery's window."""
    panel, firms, est, rng = chunk.panel, chunk.firms, chunk.establishments, chunk.rng
    params = chunk.params
    siret_headcount = np.rint(panel.headcount[est.firm] * est.share[:, None]).astype(np.int64)
    siret_exists = panel.exists[est.firm]
    for source, count, exists, name_of in (
        ("urssaf_effectif", siret_headcount, siret_exists, est.firm),
        ("urssaf_effectif_ent", panel.headcount, panel.exists, np.arange(len(firms))),
    ):
        schedule = chunk.writer.schedules[source]
        for index, target in enumerate(schedule.deliveries):
            last = int(target.date.astype("datetime64[M]").astype(int)) + 1970 * 12 - 1 - chunk.start_month
            window = np.arange(max(0, last - params.effectif_window_months + 1), min(last, chunk.months - 1) + 1)
            if len(window) == 0:
                continue
            rows = np.flatnonzero(exists[:, window].any(axis=1))
            values = count[rows][:, window].copy()
            known = exists[rows][:, window]
            if window[-1] == last:
                revised = rng.random(len(rows)) < 0.2
                values[revised, -1] = np.maximum(np.rint(values[revised, -1] * rng.normal(1, 0.08, revised.sum())), 0)
            firm = name_of[rows]
            identifier = est.siret.take(rows) if source == "urssaf_effectif" else firms.siren.take(rows)
            identifier = _siret_text(identifier, target)
            cells = {
                enc.effectif_column(chunk.start_month + m): _headcount_values(values[:, k], known[:, k], index % 2)
                for k, m in enumerate(window)
            }
            if source == "urssaf_effectif":
                table = {
                    "compte": est.account.take(rows),
                    "siret": identifier,
                    "rais_soc": firms.name.take(firm),
                    "ape_ins": pc.replace_substring(pa.array(firms.naf[firm]), ".", ""),
                    "dep": pa.array(firms.departement[firm]),
                    **cells,
                    "base": pa.array(np.full(len(rows), "1")),
                    "UR_EMET": pa.array(firms.urssaf_code[firm]),
                }
            else:
                table = {"siren": identifier, **cells, "rais_soc": firms.name.take(firm)}
            chunk.writer.write_table(source, index, pa.table(table))
