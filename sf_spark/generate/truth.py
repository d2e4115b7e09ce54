"""Ground truth under TRUTH/: exact probabilities, failures, static firm attributes, optional panel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sf_spark.generate.calendar import month_start
from sf_spark.generate.chunk import Chunk
from sf_spark.generate.firms import Firms

SCOPE_MIN_HEADCOUNT = 10
SCOPE_MONTHS = 36
EXCLUDED_NAF_DIVISIONS = ("84", "85")
SIZE_CLASSES = np.array(["1-9", "10-49", "50+"])


def rolling_max(values: np.ndarray, window: int) -> np.ndarray:
    """Max over the last `window` months, this one included (firm, month)."""
    out = values.copy()
    span = 1
    while span * 2 <= window:
        out[:, span:] = np.maximum(out[:, span:], out[:, :-span])
        span *= 2
    if span < window:
        rest = window - span
        shifted = np.full_like(out, out.min())
        shifted[:, rest:] = out[:, :-rest]
        out = np.maximum(out, shifted)
    return out


def eligible_activity(firms: Firms) -> np.ndarray:
    """Firms whose activity and legal category are in scope (not NAF 84/85, not public 7xxx)."""
    eligible = ~np.isin(np.char.partition(firms.naf.astype(str), ".")[:, 0], EXCLUDED_NAF_DIVISIONS)
    return eligible & ~np.char.startswith(firms.legal_category.astype(str), "7")


def in_scope(chunk: Chunk) -> np.ndarray:
    """Generator's view of the scope (firm, month): alive, not failed, >= 10 employees within 36 months."""
    eligible = eligible_activity(chunk.firms)
    sized = rolling_max(chunk.panel.headcount, SCOPE_MONTHS) >= SCOPE_MIN_HEADCOUNT
    return (chunk.latent.health >= 0) & sized & eligible[:, None]


def write_truth(chunk: Chunk, truth_dir: Path, part: int) -> dict[str, pa.Table]:
    """Write this chunk's probability (and panel) parts; return its firm and failure rows."""
    firms, latent, panel = chunk.firms, chunk.latent, chunk.panel
    firm, month = np.nonzero(latent.health >= 0)
    periode = month_start(chunk.start_month + month)
    probability = latent.probabilities[firm, month]
    scope = in_scope(chunk)
    table = pa.table(
        {
            "siren": firms.siren.take(firm),
            "periode": pa.array(periode),
            "p_12": pa.array(probability[:, 0]),
            "p_18": pa.array(probability[:, 1]),
            "p_24": pa.array(probability[:, 2]),
            "in_scope": pa.array(scope[firm, month]),
            "helped": pa.array(latent.helped[firm, month]),
            "hazard_without_help": pa.array(latent.hazard[firm, month]),
            "hazard": pa.array(
                np.where(latent.helped[firm, month], chunk.params.agents.help_hazard_factor, 1.0)
                * latent.hazard[firm, month]
            ),
        }
    )
    (truth_dir / "probabilities").mkdir(parents=True, exist_ok=True)
    pq.write_table(table, truth_dir / "probabilities" / f"part-{part:05d}.parquet")
    if chunk.params.write_panel:
        firm, month = np.nonzero(panel.exists)
        (truth_dir / "panel").mkdir(parents=True, exist_ok=True)
        pq.write_table(
            pa.table(
                {
                    "siren": firms.siren.take(firm),
                    "periode": pa.array(month_start(chunk.start_month + month)),
                    "health": pa.array(panel.health[firm, month]),
                    "headcount": pa.array(panel.headcount[firm, month]),
                    "due_cents": pa.array(panel.due[firm, month]),
                    "paid_cents": pa.array(panel.paid[firm, month]),
                }
            ),
            truth_dir / "panel" / f"part-{part:05d}.parquet",
        )
    failed = panel.failure_month >= 0
    procedure = np.array(["liquidation", "redressement", "sauvegarde"])[np.maximum(panel.procedure, 0)]
    attributes = pa.table(
        {
            "siren": firms.siren,
            "naf": pa.array(firms.naf),
            "departement": pa.array(firms.departement),
            "region": pa.array(firms.region),
            "legal_category": pa.array(firms.legal_category),
            "creation_date": pa.array(firms.creation),
            "closing_date": pa.array(panel.closing_date),
            "size_class": pa.array(SIZE_CLASSES[firms.size_band]),
            "base_headcount": pa.array(firms.size),
            "in_scope_sized": pa.array(~firms.small),
            "files_bdf": pa.array(firms.files_bdf),
            "files_liasse": pa.array(firms.files_liasse),
            "accounts_closing_month": pa.array(firms.closing_month),
        }
    )
    failures = pa.table(
        {
            "siren": firms.siren.filter(pa.array(failed)),
            "failure_date": pa.array(panel.failure_date[failed]),
            "procedure": pa.array(procedure[failed]),
        }
    )
    return {"firms": attributes, "failures": failures}
