"""Progress of a step in its own words, through the `sf_spark.progress` logger.

Steps call `say`; only the command line prints (`show_progress` sends the lines to stdout, one per
event, as they happen). In a notebook, `logging.basicConfig(level=logging.INFO)` or
`show_progress()` shows them too; otherwise steps run silent.
"""

from __future__ import annotations

import logging
import sys

LOGGER = logging.getLogger("sf_spark.progress")


def say(message: str) -> None:
    """One progress line for the person running the pipeline."""
    LOGGER.info(message)


class _Flushing(logging.StreamHandler):
    def __init__(self) -> None:
        super().__init__(sys.stdout)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout  # the stdout of the moment (pytest's capture, a notebook's cell)
        super().emit(record)
        self.flush()


def show_progress() -> None:
    """Print every progress line on stdout (once per process, whatever the number of calls)."""
    if not any(isinstance(h, _Flushing) for h in LOGGER.handlers):
        handler = _Flushing()
        handler.setFormatter(logging.Formatter("%(message)s"))
        LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.INFO)
    LOGGER.propagate = False
