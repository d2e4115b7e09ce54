"""Collective proceedings as URSSAF (`Sigfaible_pcoll`) and DGFiP (`jugements`) deliver them.

Noise: each source misses a few proceedings (never both), and the URSSAF effective date differs from
the judgment date by a few days for about a third of the events.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sf_spark.generate import encodings as enc
from sf_spark.generate.calendar import day_in_month, month_of, month_start, weekday_on_or_before
from sf_spark.generate.chunk import Chunk
from sf_spark.generate.delivery import Delivery
from sf_spark.generate.observe import LIQUIDATION, REDRESSEMENT, SAUVEGARDE

PROCEDURE_NAMES = {LIQUIDATION: "liquidation", REDRESSEMENT: "redressement", SAUVEGARDE: "sauvegarde"}
OPENING_CODES = {LIQUIDATION: "4", REDRESSEMENT: "3", SAUVEGARDE: "8"}
PLAN_CODES = {REDRESSEMENT: "5", SAUVEGARDE: "6"}
CATEGORIES = {LIQUIDATION: "2", REDRESSEMENT: "1", SAUVEGARDE: "3"}


def proceedings_events(chunk: Chunk) -> dict[str, np.ndarray]:
    """Every proceedings event of the chunk: firm, judgment date, procedure, URSSAF label, DGFiP code."""
    panel, rng = chunk.panel, chunk.rng
    failed = np.flatnonzero(panel.failure_month >= 0)
    procedure = panel.procedure[failed]
    events = [
        (
            failed,
            panel.failure_date[failed],
            procedure,
            np.array(["Ouverture_" + PROCEDURE_NAMES[p] for p in procedure], dtype=object),
            np.array([OPENING_CODES[p] for p in procedure], dtype=object),
        )
    ]
    converted = failed[panel.conversion_month[failed] >= 0]
    if len(converted):
        when = _court_day(chunk, panel.conversion_month[converted], len(converted))
        events.append(
            (
                converted,
                when,
                np.full(len(converted), REDRESSEMENT),
                np.full(len(converted), "Inclusion_autre_procedure_redressement", dtype=object),
                np.full(len(converted), "", dtype=object),
            )
        )
        events.append(
            (
                converted,
                when,
                np.full(len(converted), LIQUIDATION),
                np.full(len(converted), "Ouverture_liquidation", dtype=object),
                np.full(len(converted), OPENING_CODES[LIQUIDATION], dtype=object),
            )
        )
    planned = failed[panel.plan_month[failed] >= 0]
    if len(planned):
        kind = panel.procedure[planned]
        events.append(
            (
                planned,
                _court_day(chunk, panel.plan_month[planned], len(planned)),
                kind,
                np.array(["Plan_continuation_" + PROCEDURE_NAMES[p] for p in kind], dtype=object),
                np.array([PLAN_CODES[p] for p in kind], dtype=object),
            )
        )
    closed = failed[panel.end_of_proceedings_month[failed] >= 0]
    if len(closed):
        events.append(
            (
                closed,
                _court_day(chunk, panel.end_of_proceedings_month[closed], len(closed)),
                np.full(len(closed), LIQUIDATION),
                np.full(len(closed), "Cloture_insuffisance_actif_liquidation", dtype=object),
                np.full(len(closed), "", dtype=object),
            )
        )
    firm, date, kind, label, code = (np.concatenate(p) for p in zip(*events, strict=True))
    inside = month_of(date) - chunk.start_month < chunk.months
    firm, date, kind, label, code = firm[inside], date[inside], kind[inside], label[inside], code[inside]
    coverage = rng.random(len(chunk.firms))
    return {
        "firm": firm,
        "date": date,
        "procedure": kind,
        "label": label,
        "code": code,
        "urssaf_misses": coverage[firm] < 0.08,
        "dgfip_misses": coverage[firm] > 0.95,
    }


def _court_day(chunk: Chunk, months: np.ndarray, n: int) -> np.ndarray:
    return weekday_on_or_before(day_in_month(chunk.start_month + months, chunk.rng.integers(3, 29, n)))


def write_proceedings(chunk: Chunk, events: dict[str, np.ndarray]) -> None:
    """URSSAF procol (effective date may differ by days) and DGFiP judgments (openings and plans)."""
    rng, firms, est = chunk.rng, chunk.firms, chunk.establishments
    n = len(events["firm"])
    offset = np.where(rng.random(n) < 0.3, rng.integers(-2, 8, n), 0)
    urssaf_date = events["date"] + offset.astype("timedelta64[D]")
    keep = ~events["urssaf_misses"]
    head_office = np.flatnonzero(est.head_office)
    columns = {
        "firm": events["firm"][keep],
        "date": urssaf_date[keep],
        "label": events["label"][keep],
        "procedure": events["procedure"][keep],
    }
    delivery = chunk.writer.schedules["urssaf_procol"].route(month_start(month_of(columns["date"]) + 2))

    def procol_format(cols: dict[str, np.ndarray], target: Delivery) -> pa.Table:
        siren = firms.siren.take(cols["firm"])
        siret = est.siret.take(head_office[cols["firm"]])
        return pa.table(
            {
                "Siret": enc.lost_zeros(siret) if target.lost_zeros else siret,
                "Siren": enc.lost_zeros(siren) if target.lost_zeros else siren,
                "Dt_effet": enc.day_month_year(cols["date"]),
                "Cat_v2": pa.array([CATEGORIES[p] for p in cols["procedure"]]),
                "Lib_actx_stdx": pa.array(cols["label"].astype(str)),
            }
        )

    chunk.writer.write("urssaf_procol", delivery, columns, procol_format)

    keep = ~events["dgfip_misses"] & (events["code"] != "")
    late = rng.random(keep.sum()) < 0.1
    columns = {"firm": events["firm"][keep], "date": events["date"][keep], "code": events["code"][keep]}
    delivery = chunk.writer.schedules["dgfip_jugements"].route(month_start(month_of(columns["date"]) + 1 + late))

    def judgment_format(cols: dict[str, np.ndarray], target: Delivery) -> pa.Table:
        return pa.table(
            {
                "siren": firms.siren.take(cols["firm"]),
                "djug": enc.yyyymmdd(cols["date"]),
                "najug": pa.array(cols["code"].astype(str)),
            }
        )

    chunk.writer.write("dgfip_jugements", delivery, columns, judgment_format)
