"""`sf-spark maintain`: the lake's files kept few and clustered, and the ones no version needs removed.

Every table is compacted (small files of a partition rewritten into files of `target_file_mb`); the
tables of `lake.maintenance.zorder` are rewritten clustered by their columns (`siren` for the
firm-month tables, so that one firm's history reads few files); then VACUUM deletes the files that no
version of the last `retention_hours` (at least 7 days) needs. Both writers do all three: delta-spark
with `OPTIMIZE` / `ZORDER BY` / `VACUUM`, delta-rs with its `optimize` and `vacuum`. No row changes.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from sf_spark.lake.core import Lake, LakeError
from sf_spark.progress import say

if TYPE_CHECKING:
    from sf_spark.config import Settings


def maintain_lake(lake: Lake, settings: Settings, tables: list[str] | None = None) -> dict[str, Any]:
    """Compact, cluster and vacuum `tables` (default: every table of the lake); figures per table."""
    config = settings.lake.maintenance
    present = lake.tables()
    chosen = list(tables) if tables else present
    unknown = [name for name in chosen if name not in present]
    if unknown:
        raise LakeError(f"no such table in {lake.root}: {', '.join(unknown)} (tables: {', '.join(present)})")
    report: dict[str, Any] = {}
    for name in chosen:
        started = time.perf_counter()
        zorder = config.zorder.get(name, [])
        missing = [column for column in zorder if column not in lake.read(name).columns]
        if missing:
            raise LakeError(f"lake.maintenance.zorder: {name} has no column {', '.join(missing)}")
        live, stored = lake.live_files(name), lake.stored_files(name)
        version = lake.version(name)
        rewritten = lake.optimize(name, zorder, config.target_file_mb * 2**20)
        lake.vacuum(name, config.retention_hours)
        live_after, stored_after = lake.live_files(name), lake.stored_files(name)
        report[name] = {
            "clustered_by": zorder,
            "live_files": [live[0], live_after[0]],
            "live_bytes": [live[1], live_after[1]],
            "stored_files": [stored[0], stored_after[0]],
            "files_rewritten": rewritten["files_removed"],
            "versions": [version, lake.version(name)],
            "seconds": round(time.perf_counter() - started, 1),
        }
        how = f"clustered by {', '.join(zorder)}" if zorder else "compacted"
        say(
            f"maintain: {name}: {how}, live files {live[0]} -> {live_after[0]}, stored files "
            f"{stored[0]} -> {stored_after[0]} ({report[name]['seconds']} s)"
        )
    return {"writer": lake.backend.name, "retention_hours": config.retention_hours, "tables": report}


def last_commit_engines(root: str) -> dict[str, str]:
    """Every table of a local lake, read whole with `deltalake` (no Spark) -> what wrote its last commit
    (delta-spark's `engineInfo`, delta-rs's `clientVersion`)."""
    from pathlib import Path

    from deltalake import DeltaTable

    engines = {}
    for log in sorted(Path(root).glob("*/*/_delta_log")):
        table = DeltaTable(str(log.parent))
        table.to_pyarrow_table()
        last = table.history(1)[0]
        name = f"{log.parent.parent.name}/{log.parent.name}"
        engines[name] = str(last.get("engineInfo") or last.get("clientVersion"))
    return engines
