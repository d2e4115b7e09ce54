"""Annual accounts: Banque de France ratios (`bdf`) and DGFiP tax returns (`liasses`).

Ratios follow the firm's health over the last months of the exercise (`CLOSING_MONTHS`); fragile firms
carry thinner equity, more short-term debt and financial charges. Noise: a small persistent firm effect
and a yearly draw; firms in poor health file less often; a small share of exercises has a second, less
complete return. Accounts are delivered at least `accounts_min_lag_months` after closing (up to 6 more).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sf_spark.generate import encodings as enc
from sf_spark.generate.calendar import day_in_month, month_start
from sf_spark.generate.chunk import Chunk
from sf_spark.generate.delivery import Delivery
from sf_spark.generate.process import SECTOR_RISKS, SIZE_BANDS

# Months up to the closing whose health the accounts reflect.
CLOSING_MONTHS = 3
# Turnover and margin (points) by sector regime at closing (good, normal, bad): downturns show in sales.
REGIME_TURNOVER = np.array([1.05, 1.0, 0.9])
REGIME_MARGIN = np.array([1.0, 0.0, -2.5])


def exercises(chunk: Chunk) -> dict[str, np.ndarray]:
    """One row per (firm, closing month) where the firm operated at closing, with its health at closing.

    `level`: mean smoothed health over the last `CLOSING_MONTHS` months of the exercise, in [0, 1];
    `fragility`: -1 (sturdy), 0 or 1 (fragile).
    """
    firms, panel = chunk.firms, chunk.panel
    months = chunk.months
    calendar_month = (chunk.start_month + np.arange(months)) % 12 + 1
    closes = (calendar_month[None, :] == firms.closing_month[:, None]) & panel.exists
    in_proceedings = (panel.failure_month[:, None] >= 0) & (np.arange(months)[None, :] >= panel.failure_month[:, None])
    firm, closing = np.nonzero(closes & ~in_proceedings)
    cumulative = np.cumsum(np.where(panel.exists, panel.level, 0.0), axis=1)
    count = np.cumsum(panel.exists, axis=1)
    before = np.maximum(closing - CLOSING_MONTHS, -1)
    safe = np.maximum(before, 0)
    total = cumulative[firm, closing] - np.where(before >= 0, cumulative[firm, safe], 0.0)
    seen = count[firm, closing] - np.where(before >= 0, count[firm, safe], 0)
    level = total / np.maximum(seen, 1)
    headcount = panel.headcount[firm, closing]
    fragility = firms.group[firm] // (SIZE_BANDS * SECTOR_RISKS) - 1
    regime = chunk.latent.regime[firm, closing]
    return {
        "firm": firm,
        "closing": closing,
        "level": level,
        "headcount": headcount,
        "fragility": fragility,
        "regime": regime,
    }


def write_accounts(chunk: Chunk, rows: dict[str, np.ndarray]) -> None:
    """Draw each exercise's ratios and amounts, then deliver them to the firms' filers."""
    rng, firms, params = chunk.rng, chunk.firms, chunk.params
    firm, level, fragility = rows["firm"], rows["level"], rows["fragility"]
    n = len(firm)
    firm_margin = rng.normal(0, 3, len(firms))[firm]
    margin = 40 * level - 12 - 2 * fragility + REGIME_MARGIN[rows["regime"]] + firm_margin + rng.normal(0, 2.5, n)
    turnover = (
        np.maximum(rows["headcount"], 1)
        * firms.productivity[firm]
        * (0.7 + 0.5 * level)
        * REGIME_TURNOVER[rows["regime"]]
        * rng.lognormal(0, 0.05, n)
    )
    value_added = turnover * np.clip(rng.normal(0.35, 0.08, n), 0.1, 0.7)
    ebitda = value_added * margin / 100
    closing_date = day_in_month(chunk.start_month + rows["closing"], np.full(n, 31))
    lag = params.accounts_min_lag_months + rng.integers(0, 7, n)
    available = month_start(chunk.start_month + rows["closing"] + lag)
    files_anyway = rng.random(n) > 0.05 + 0.35 * (1 - level)
    values = {
        "firm": firm,
        "closing": closing_date,
        "margin": margin,
        "turnover": turnover,
        "value_added": value_added,
        "ebitda": ebitda,
        "level": level,
        "fragility": fragility,
        "headcount": rows["headcount"],
        "noise": rng.normal(0, 1, (n, 8)),
    }
    bdf = files_anyway & firms.files_bdf[firm]
    _write_bdf(chunk, {k: v[bdf] for k, v in values.items()}, available[bdf])
    liasse = files_anyway & firms.files_liasse[firm] & (rng.random(n) > 0.03)
    second = liasse & (rng.random(n) < 0.03)
    picked = {k: np.concatenate([v[liasse], v[second]]) for k, v in values.items()}
    picked["incomplete"] = np.r_[np.zeros(liasse.sum(), bool), np.ones(second.sum(), bool)]
    _write_liasses(chunk, picked, np.concatenate([available[liasse], available[second]]))


def _write_bdf(chunk: Chunk, cols: dict[str, np.ndarray], available: np.ndarray) -> None:
    firms = chunk.firms
    delivery = chunk.writer.schedules["bdf_ratios"].route(available)

    def formatter(rows: dict[str, np.ndarray], target: Delivery) -> pa.Table:
        firm, level, noise, fragility = rows["firm"], rows["level"], rows["noise"], rows["fragility"]
        bad = 1 - level
        siren = firms.siren.take(firm)
        section = np.char.upper(firms.naf[firm].astype(str))
        return pa.table(
            {
                "D1": enc.spaced_siren(siren) if target.spaced_siren else siren,
                "ANNEE": enc.text(rows["closing"].astype("datetime64[Y]").astype(int) + 1970),
                "ARRETE_BILAN": enc.day_month_year(rows["closing"], french=target.french_months),
                "DENOM": firms.name.take(firm),
                "SECTEUR": pa.array(np.char.add("NAF ", np.char.partition(section, ".")[:, 0])),
                "POIDS_FRNG": enc.dot_decimal(10 + 35 * level - 5 * fragility + 4 * noise[:, 0]),
                "TX_MARGE": enc.dot_decimal(rows["margin"]),
                "DELAI_FRS": enc.dot_decimal(np.maximum(40 + 70 * bad + 6 * noise[:, 1], 0)),
                "POIDS_DFISC_SOC": enc.dot_decimal(np.maximum(6 + 35 * bad + 2 * noise[:, 2], 0)),
                "POIDS_FIN_CT": enc.dot_decimal(np.maximum(5 + 35 * bad + 5 * fragility + 3 * noise[:, 3], 0)),
                "POIDS_FRAIS_FIN": enc.dot_decimal(1 + 8 * bad + fragility + 0.5 * np.abs(noise[:, 4])),
            }
        )

    chunk.writer.write("bdf_ratios", delivery, cols, formatter)


def _write_liasses(chunk: Chunk, cols: dict[str, np.ndarray], available: np.ndarray) -> None:
    firms = chunk.firms
    delivery = chunk.writer.schedules["dgfip_liasses"].route(available)

    def formatter(rows: dict[str, np.ndarray], target: Delivery) -> pa.Table:
        firm, level, noise, turnover = rows["firm"], rows["level"], rows["noise"], rows["turnover"]
        fragility, bad = rows["fragility"], 1 - rows["level"]
        blank = rows["incomplete"]
        staff = np.maximum(rows["headcount"], 0)
        salaries = np.maximum(rows["value_added"] - rows["ebitda"] - 0.03 * rows["value_added"], 0)
        current_assets = turnover * 0.35
        working_capital = turnover * (0.08 + 0.15 * bad + 0.03 * noise[:, 0])

        def euros(values: np.ndarray, optional: bool = True) -> pa.Array:
            return enc.text(np.rint(values).astype(np.int64), blank if optional else None)

        return pa.table(
            {
                "siren": firms.siren.take(firm),
                "date_deb_exercice": enc.iso_date(rows["closing"] - np.timedelta64(364, "D")),
                "date_fin_exercice": enc.iso_date(rows["closing"]),
                "mnt_af_ca": euros(turnover, optional=False),
                "mnt_af_sig_ebe_ret": euros(rows["ebitda"]),
                "mnt_af_sig_va_ret": euros(rows["value_added"]),
                "mnt_af_endettement_net": euros(turnover * (0.1 + 0.6 * bad + 0.08 * fragility + 0.05 * noise[:, 1])),
                "rto_6": euros(rows["ebitda"] * 0.7 - turnover * 0.02 * bad),
                "mnt_af_bfonc_bfr": euros(working_capital),
                "mnt_af_bfonc_tresorerie": euros(turnover * (0.18 * level - 0.05 + 0.02 * noise[:, 2])),
                "mnt_af_bfonc_actif_circ_expl": euros(current_assets),
                "mnt_af_bfonc_passif_circ_expl": euros(current_assets - working_capital),
                "nbr_af_jours_reglt_fourn": euros(np.maximum(40 + 70 * bad + 6 * noise[:, 3], 0)),
                "nbr_af_jours_creance_cli": euros(np.maximum(45 + 20 * bad + 8 * noise[:, 4], 0)),
                "d_dvs_376_nbr_pers": euros(staff, optional=False),
                "d_cr_250_expl_salaire": euros(salaries),
                "d_actf_stk_march_net": euros(turnover * 0.05 * np.abs(noise[:, 5])),
                "d_passf_142_k_propres": euros(turnover * (0.4 * level - 0.12 - 0.05 * fragility + 0.03 * noise[:, 6])),
                "d_passf_120_k": euros(np.choose(firm % 4, [1_000, 7_500, 37_000, 100_000])),
            }
        )

    chunk.writer.write("dgfip_liasses", delivery, cols, formatter)
