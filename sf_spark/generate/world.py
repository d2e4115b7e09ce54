"""`generate_world`: the chunk loop that draws firms, simulates them and writes their deliveries."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sf_spark.generate.accounts import exercises, write_accounts
from sf_spark.generate.agents import Agents, write_agents
from sf_spark.generate.calendar import month_number
from sf_spark.generate.chunk import Chunk
from sf_spark.generate.delivery import DeliveryWriter, finish, plan_deliveries, write_dirt
from sf_spark.generate.dgefp import write_partial_activity
from sf_spark.generate.firms import SECTOR_FAMILIES, make_establishments, make_firms
from sf_spark.generate.observe import observe
from sf_spark.generate.params import GeneratorParams
from sf_spark.generate.proceedings import proceedings_events, write_proceedings
from sf_spark.generate.process import build_model, simulate_chunk
from sf_spark.generate.sirene import write_sirene
from sf_spark.generate.truth import eligible_activity, write_truth
from sf_spark.generate.urssaf import (
    contribution_rows,
    write_ccsf,
    write_contributions,
    write_debts,
    write_headcount,
)


def _refuse_non_empty(folder: Path) -> None:
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} is not empty: the generator writes a whole world into an empty folder")


def small_firm_flags(total: int, small: int) -> np.ndarray:
    """Which global firm indices are below the scope threshold (spread evenly over the indices)."""
    index = np.arange(total, dtype=np.int64)
    return (index + 1) * small // total > index * small // total


def generate_world(raw_dir: str | Path, truth_dir: str | Path, params: GeneratorParams) -> dict:
    """Write every partner delivery under `raw_dir` and the ground truth under `truth_dir`.

    Returns a JSON-able summary: files and rows per source, firms, failures, seconds.
    """
    began = time.perf_counter()
    raw_dir, truth_dir = Path(raw_dir), Path(truth_dir)
    _refuse_non_empty(raw_dir)
    _refuse_non_empty(truth_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    model_seed, dirt_seed, chunk_seed, agents_seed = np.random.SeedSequence(params.seed).spawn(4)
    model = build_model(params, SECTOR_FAMILIES, np.random.default_rng(model_seed))
    dirt_rng = np.random.default_rng(dirt_seed)
    schedules = plan_deliveries(params, raw_dir, dirt_rng)
    writer = DeliveryWriter(schedules)
    start_month = month_number(params.start)
    total = params.firms + round(params.firms * params.small_firm_ratio)
    small = small_firm_flags(total, total - params.firms)
    firm_tables, failure_tables = [], []
    chunks = -(-total // params.chunk_firms)
    for part, (low, chunk_rng, agents_rng) in enumerate(
        zip(range(0, total, params.chunk_firms), chunk_seed.spawn(chunks), agents_seed.spawn(chunks), strict=True)
    ):
        rng = np.random.default_rng(chunk_rng)
        index = np.arange(low, min(low + params.chunk_firms, total))
        firms = make_firms(index, small[index], start_month, model.months, params.entry_rate, rng)
        establishments = make_establishments(firms, rng)
        agents = (
            Agents(
                params.agents,
                start_month,
                model.months,
                ~firms.small & eligible_activity(firms),
                firms.departement,
                np.random.default_rng(agents_rng),
            )
            if params.agents.enabled
            else None
        )
        latent = simulate_chunk(model, firms.group, firms.family, firms.entry_month, rng, agents)
        panel = observe(firms, latent, start_month, model.crisis, params.crisis_deferral_share, rng)
        chunk = Chunk(
            params, start_month, model.months, model.crisis, firms, establishments, latent, panel, writer, rng
        )
        contributions = contribution_rows(chunk)
        write_contributions(chunk, contributions)
        write_debts(chunk, contributions)
        write_ccsf(chunk)
        write_headcount(chunk)
        write_partial_activity(chunk)
        write_proceedings(chunk, proceedings_events(chunk))
        write_sirene(chunk)
        write_accounts(chunk, exercises(chunk))
        if agents is not None:
            write_agents(chunk, agents.finish())
        truth = write_truth(chunk, truth_dir, part)
        firm_tables.append(truth["firms"])
        failure_tables.append(truth["failures"])
    dirt = finish(schedules, params, raw_dir, dirt_rng)
    write_dirt(dirt, truth_dir)
    pq.write_table(pa.concat_tables(firm_tables), truth_dir / "firms.parquet")
    failures = pa.concat_tables(failure_tables)
    pq.write_table(failures, truth_dir / "failures.parquet")
    return {
        "files": {name: sum(1 for d in s.deliveries if d.path.exists()) for name, s in schedules.items()},
        "rows": {name: sum(d.rows for d in s.deliveries) for name, s in schedules.items()},
        "firms": total,
        "in_scope_sized_firms": params.firms,
        "failures": failures.num_rows,
        "seconds": round(time.perf_counter() - began, 1),
    }
