"""Delivery calendar of every source, routing of rows to deliveries, file writing and injected dirt.

A row is delivered in the first delivery of its source dated on or after the row's availability date;
rows available after the last delivery are never delivered. Files are appended chunk by chunk
(header written once); dirt that needs a whole file (malformed lines, gzip, duplicates) is applied by
`finish` and listed in `TRUTH/dirt.json`.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from sf_spark.generate.calendar import day_in_month, month_number
from sf_spark.generate.params import GeneratorParams
from sf_spark.generate.sources import SOURCES, SourceSpec

LATIN1_SOURCES = ("urssaf_delai", "urssaf_effectif", "urssaf_effectif_ent")
LOST_ZEROS_SOURCES = ("urssaf_cotisation", "urssaf_effectif", "urssaf_effectif_ent", "urssaf_procol")
DUPLICABLE_SOURCES = ("urssaf_debit", "urssaf_cotisation")
SPACED_SIREN_SOURCES = ("bdf_ratios",)
FRENCH_MONTH_SOURCES = ("bdf_ratios",)
QUOTED_DATE_SOURCES = ("ap_demande", "ap_conso")


@dataclass
class Delivery:
    """One file of one source, and how it is soiled."""

    source: str
    date: np.datetime64
    path: Path
    latin1: bool = False
    lost_zeros: bool = False
    malformed: bool = False
    french_months: bool = False
    spaced_siren: bool = False
    quoted_dates: bool = False
    rows: int = 0


@dataclass
class Schedule:
    """Deliveries of one source, in date order."""

    spec: SourceSpec
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def dates(self) -> np.ndarray:
        return np.array([d.date for d in self.deliveries], dtype="datetime64[D]")

    def route(self, available: np.ndarray) -> np.ndarray:
        """Index of the delivery carrying each row available at `available` (datetime64[D]); -1 if none."""
        index = np.searchsorted(self.dates, available, side="left")
        return np.where(index < len(self.deliveries), index, -1)


CADENCES = {
    "urssaf_cotisation": ("monthly", None),
    "urssaf_debit": ("monthly", None),
    "urssaf_delai": ("monthly", None),
    "urssaf_ccsf": ("monthly", None),
    "urssaf_procol": ("monthly", None),
    "urssaf_effectif": ("effectif", 15),
    "urssaf_effectif_ent": ("effectif", 15),
    "ap_demande": ("monthly", 10),
    "ap_conso": ("monthly", 10),
    "sirene_ul": ("sirene", 1),
    "sirene_etab": ("sirene", 1),
    "bdf_ratios": ("accounts", 20),
    "dgfip_liasses": ("accounts", 25),
    "dgfip_jugements": ("monthly", 8),
    "agents_feedback": ("agents", 1),
    "agents_followup": ("agents", 1),
}


def _delivery_months(kind: str, params: GeneratorParams) -> np.ndarray:
    first, last = month_number(params.start), month_number(params.end) + params.delivery_tail_months
    if kind == "monthly":
        return np.arange(first + 1, last + 1)
    if kind == "effectif":
        return np.arange(first + params.effectif_every_months, last + 1, params.effectif_every_months)
    if kind == "agents":  # the agents' tool exports once they act, every month
        if not params.agents.enabled:
            return np.array([], dtype=np.int64)
        return np.arange(max(first, month_number(params.agents.start)) + 1, last + 1)
    if kind == "accounts":
        return np.arange(first + 1, last + 1, params.accounts_every_months)
    snapshots = np.arange(first, last + 1, params.sirene_every_months)
    return np.union1d(snapshots, [month_number(params.end) + 1])


def plan_deliveries(params: GeneratorParams, raw_dir: Path, rng: np.random.Generator) -> dict[str, Schedule]:
    """Every delivery of every source, with its dirt drawn from `rng`."""
    unknown = set(params.gzip_sources) - set(SOURCES)
    if unknown:
        raise ValueError(f"unknown sources in gzip_sources: {sorted(unknown)}")
    schedules: dict[str, Schedule] = {}
    for name, spec in SOURCES.items():
        kind, day = CADENCES[name]
        months = _delivery_months(kind, params)
        dates = day_in_month(months, np.full(len(months), day or params.urssaf_delivery_day))
        schedule = Schedule(spec)
        for date in dates:
            stamp = str(date)[:7].replace("-", "")
            path = raw_dir / str(date) / spec.file_name(stamp, name in params.gzip_sources)
            schedule.deliveries.append(
                Delivery(
                    source=name,
                    date=date,
                    path=path,
                    latin1=name in LATIN1_SOURCES and rng.random() < params.latin1_file_share,
                    lost_zeros=name in LOST_ZEROS_SOURCES and rng.random() < params.lost_zeros_file_share,
                    malformed=name not in params.gzip_sources and rng.random() < params.malformed_file_share,
                    french_months=name in FRENCH_MONTH_SOURCES and rng.random() < params.french_month_file_share,
                    spaced_siren=name in SPACED_SIREN_SOURCES and rng.random() < 0.5,
                    quoted_dates=name in QUOTED_DATE_SOURCES and rng.random() < 0.5,
                )
            )
        schedules[name] = schedule
    _at_least_once(schedules, "latin1", LATIN1_SOURCES, params.latin1_file_share, rng)
    _at_least_once(schedules, "lost_zeros", LOST_ZEROS_SOURCES, params.lost_zeros_file_share, rng)
    _at_least_once(
        schedules,
        "malformed",
        [s for s in SOURCES if s not in params.gzip_sources],
        params.malformed_file_share,
        rng,
    )
    return schedules


def _at_least_once(
    schedules: dict[str, Schedule],
    flag: str,
    sources: list[str] | tuple[str, ...],
    share: float,
    rng: np.random.Generator,
) -> None:
    candidates = [d for s in sources for d in schedules[s].deliveries[:-1]]
    if share > 0 and candidates and not any(getattr(d, flag) for d in candidates):
        setattr(candidates[rng.integers(len(candidates))], flag, True)


Formatter = Callable[[dict[str, np.ndarray], Delivery], pa.Table]


class DeliveryWriter:
    """Appends formatted rows to the files of their deliveries and counts them."""

    def __init__(self, schedules: dict[str, Schedule]) -> None:
        self.schedules = schedules

    def write(self, source: str, delivery: np.ndarray, columns: dict[str, np.ndarray], formatter: Formatter) -> None:
        """Write rows (numpy `columns`, one value per row) to their deliveries (-1: not delivered).

        `formatter(columns, delivery)` turns the rows of one delivery into a table of strings whose column
        names are the file's header.
        """
        schedule = self.schedules[source]
        keep = np.flatnonzero(delivery >= 0)
        order = keep[np.argsort(delivery[keep], kind="stable")]
        targets = delivery[order]
        bounds = np.flatnonzero(np.diff(targets)) + 1
        for rows in np.split(order, bounds) if len(order) else []:
            target = schedule.deliveries[int(delivery[rows[0]])]
            table = formatter({name: values[rows] for name, values in columns.items()}, target)
            self._append(schedule.spec, target, table)

    def write_table(self, source: str, index: int, table: pa.Table) -> None:
        """Append an already formatted table to delivery `index` of `source`."""
        schedule = self.schedules[source]
        self._append(schedule.spec, schedule.deliveries[index], table)

    @staticmethod
    def _append(spec: SourceSpec, target: Delivery, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        buffer = io.BytesIO()
        quoting = "needed" if spec.quote_strings else "none"
        pacsv.write_csv(
            table,
            buffer,
            pacsv.WriteOptions(include_header=False, delimiter=spec.separator, quoting_style=quoting),
        )
        body = buffer.getvalue()
        plain = target.path.with_suffix("") if target.path.suffix == ".gz" else target.path
        new = not plain.exists()
        plain.parent.mkdir(parents=True, exist_ok=True)
        with plain.open("ab") as handle:
            if new:
                handle.write(_header(spec, table.column_names).encode())
            handle.write(body.decode("utf-8").encode("latin-1") if target.latin1 else body)
        target.rows += table.num_rows


def _header(spec: SourceSpec, names: list[str]) -> str:
    quote = '"' if spec.quote_strings else ""
    return spec.separator.join(f"{quote}{name}{quote}" for name in names) + "\n"


def finish(schedules: dict[str, Schedule], params: GeneratorParams, raw_dir: Path, rng: np.random.Generator) -> dict:
    """Header-only files for empty deliveries, malformed lines, gzip and duplicates; returns the dirt list."""
    dirt: dict = {
        "latin1": [],
        "lost_leading_zeros": [],
        "french_months": [],
        "spaced_siren": [],
        "quoted_dates": [],
        "gzip": [],
        "malformed_lines": {},
        "duplicated": {},
    }
    for schedule in schedules.values():
        for target in schedule.deliveries:
            plain = target.path.with_suffix("") if target.path.suffix == ".gz" else target.path
            if not plain.exists():
                if "eff*" in schedule.spec.columns:
                    continue
                plain.parent.mkdir(parents=True, exist_ok=True)
                plain.write_bytes(_header(schedule.spec, list(schedule.spec.columns)).encode())
            relative = str(target.path.relative_to(raw_dir))
            if target.malformed and target.rows and params.malformed_lines_per_file:
                dirt["malformed_lines"][relative] = _add_malformed_lines(plain, params, rng)
            if plain != target.path:
                with (
                    plain.open("rb") as source,
                    target.path.open("wb") as packed,
                    gzip.GzipFile(filename="", mode="wb", compresslevel=5, fileobj=packed, mtime=0) as sink,
                ):
                    shutil.copyfileobj(source, sink)
                plain.unlink()
                dirt["gzip"].append(relative)
            for flag, key in (
                ("latin1", "latin1"),
                ("lost_zeros", "lost_leading_zeros"),
                ("french_months", "french_months"),
                ("spaced_siren", "spaced_siren"),
                ("quoted_dates", "quoted_dates"),
            ):
                if getattr(target, flag) and target.rows:
                    dirt[key].append(relative)
    candidates = [(s, i) for s in DUPLICABLE_SOURCES for i in range(len(schedules[s].deliveries) - 1)]
    for pick in rng.choice(len(candidates), min(params.duplicated_files, len(candidates)), replace=False):
        source, index = candidates[pick]
        original = schedules[source].deliveries[index].path
        copy = schedules[source].deliveries[index + 1].path.parent / original.name
        shutil.copyfile(original, copy)
        copied, source_name = str(copy.relative_to(raw_dir)), str(original.relative_to(raw_dir))
        dirt["duplicated"][copied] = source_name
        for entries in dirt.values():
            if isinstance(entries, list) and source_name in entries:
                entries.append(copied)
        if source_name in dirt["malformed_lines"]:
            dirt["malformed_lines"][copied] = dirt["malformed_lines"][source_name]
    return dirt


def _add_malformed_lines(path: Path, params: GeneratorParams, rng: np.random.Generator) -> list[int]:
    """Insert truncated copies of data lines (wrong field count); returns their 1-based line numbers."""
    lines = path.read_bytes().split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    header, data = lines[0], lines[1:]
    separator = b";" if b";" in header else (b"|" if b"|" in header else b",")
    originals = list(data)
    positions = np.sort(rng.integers(0, len(data) + 1, params.malformed_lines_per_file))
    for offset, position in enumerate(positions):
        fields = originals[int(rng.integers(len(originals)))].split(separator)
        keep = int(rng.integers(1, max(len(fields) - 1, 2)))
        data.insert(int(position) + offset, separator.join(fields[:keep]))
    path.write_bytes(b"\n".join([header, *data]) + b"\n")
    return [int(p) + offset + 2 for offset, p in enumerate(positions)]


def write_dirt(dirt: dict, truth_dir: Path) -> None:
    """The list of injected dirt, for the ingest's tests."""
    (truth_dir / "dirt.json").write_text(json.dumps(dirt, indent=2, sort_keys=True))
