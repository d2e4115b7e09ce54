"""Progress of a step in its own words, through the `sf_spark.progress` logger.

Steps call `say`; only the command line prints (`show_progress` sends the lines to stdout, one per
event, as they happen, and with `heartbeat` a line after every 25 s of silence saying the run is alive
and since when). In a notebook, `logging.basicConfig(level=logging.INFO)` or `show_progress()`
shows them too; otherwise steps run silent.
"""

from __future__ import annotations

import logging
import sys
import threading
import time

LOGGER = logging.getLogger("sf_spark.progress")
HEARTBEAT_SECONDS = 25.0  # so that a run says something at least every 30 s
_last = {"at": time.monotonic(), "line": ""}


def say(message: str) -> None:
    """One progress line for the person running the pipeline."""
    LOGGER.info(message)
    _last.update(at=time.monotonic(), line=message.strip())


class _Flushing(logging.StreamHandler):
    def __init__(self) -> None:
        super().__init__(sys.stdout)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout  # the stdout of the moment (pytest's capture, a notebook's cell)
        super().emit(record)
        self.flush()


def _beat(every: float, stop: threading.Event) -> None:
    beating_for, beats = None, 0
    while not stop.wait(min(1.0, every / 6)):
        at, line = _last["at"], _last["line"]
        if at != beating_for:
            beating_for, beats = at, 0
        silent = time.monotonic() - at
        if line and silent >= every * (beats + 1):
            beats += 1
            shown = line if len(line) <= 70 else line[:67] + "..."
            LOGGER.info(f"  (working: {silent:.0f} s since '{shown}')")


def show_progress(heartbeat: bool = False) -> None:
    """Print every progress line on stdout (once per process, whatever the number of calls); with
    `heartbeat`, also a line after every 25 s without one."""
    if not any(isinstance(h, _Flushing) for h in LOGGER.handlers):
        handler = _Flushing()
        handler.setFormatter(logging.Formatter("%(message)s"))
        LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.INFO)
    LOGGER.propagate = False
    if heartbeat and not any(t.name == "sf-spark-heartbeat" for t in threading.enumerate()):
        beat = threading.Thread(
            target=_beat, args=(HEARTBEAT_SECONDS, threading.Event()), name="sf-spark-heartbeat", daemon=True
        )
        beat.start()
