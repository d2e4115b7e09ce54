"""One writer at a time: a lock file at the lake's root, held by every command that writes the lake.

The lock is `<lake root>/_sf_spark.lock`, created atomically (`O_CREAT | O_EXCL`), holding who
took it (user, host, process id), for which step and since when. A second run is refused with
`LakeLockedError` naming the holder. A lock is stale, and taken over with a message, when its
process is gone (same host) or when it is older than `stale_after_hours`; `sf-spark unlock` is
not needed for either. Delta's own conflict detection still guards every commit.

Only lakes on a local or mounted path (the default) are locked; on an object store the lake runs
without this lock, which the step says.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sf_spark.progress import say

LOCK_NAME = "_sf_spark.lock"


class LakeLockedError(RuntimeError):
    """Another run holds the lake's lock."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def local_root(root: str) -> Path | None:
    """The lake root as a local path, or None for an object store / HDFS root."""
    parsed = urlparse(root)
    if parsed.scheme in ("", "file"):
        return Path(parsed.path if parsed.scheme else root)
    return None


def read_lock(path: Path) -> dict[str, Any] | None:
    """The holder recorded in a lock file (None when absent; `{}` when unreadable)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}


def _stale(holder: dict[str, Any], stale_after_hours: float) -> str | None:
    """Why a recorded holder no longer holds the lock, or None when it still does."""
    since = holder.get("since")
    if since:
        age = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(since)
        if age > dt.timedelta(hours=stale_after_hours):
            return f"taken {age.total_seconds() / 3600:.1f} h ago (more than {stale_after_hours:g} h)"
    same_host = holder.get("host") == socket.gethostname() and isinstance(holder.get("pid"), int)
    if same_host and not _alive(holder["pid"]):
        return f"its process {holder['pid']} on {holder['host']} is gone"
    if not holder:
        return "its lock file is unreadable"
    return None


def describe(holder: dict[str, Any]) -> str:
    return (
        f"{holder.get('step', '?')} by {holder.get('user', '?')}@{holder.get('host', '?')} "
        f"(pid {holder.get('pid', '?')}) since {holder.get('since', '?')}"
    )


@contextlib.contextmanager
def lake_lock(root: str, step: str, stale_after_hours: float = 12.0) -> Iterator[dict[str, Any] | None]:
    """Hold the lake's lock for the duration of the block; raise `LakeLockedError` when another run has it."""
    folder = local_root(root)
    if folder is None:
        say(f"{step}: lake at {root} is not on a local path: running without the lake lock")
        yield None
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    holder = {
        "step": step,
        "user": getpass.getuser(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640)
        except FileExistsError:
            current = read_lock(path)
            if current is None:
                continue  # released meanwhile
            reason = _stale(current, stale_after_hours)
            if reason is None:
                raise LakeLockedError(f"the lake {root} is locked by {describe(current)}; try again later") from None
            say(f"{step}: taking over a stale lake lock ({describe(current)}): {reason}")
            path.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(holder, out)
        break
    else:
        raise LakeLockedError(f"the lake {root} is locked by another run (the lock changed hands while taken)")
    try:
        yield holder
    finally:
        if read_lock(path) == holder:
            path.unlink(missing_ok=True)
