"""Where the project is, so that a notebook opened from any folder reads the same configuration and lake."""

from __future__ import annotations

from pathlib import Path

MARKERS = ("conf/local.yaml", "sf_spark/__init__.py")


def project_root(start: str | Path | None = None) -> Path:
    """The nearest of `start` (default: the working folder) and its parents holding `conf/local.yaml` and
    `sf_spark/`: the folder the configuration's relative paths (`work/lake`, ...) are relative to."""
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if all((folder / marker).is_file() for marker in MARKERS):
            return folder
    raise FileNotFoundError(f"no project folder (holding {' and '.join(MARKERS)}) at or above {here}")
