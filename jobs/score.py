"""spark-submit entry point of the `score` step: `./spark-submit.sh jobs/score.py --help`."""

from __future__ import annotations

import sys

from sf_spark.cli import main

if __name__ == "__main__":
    sys.exit(main(["score", *sys.argv[1:]]))
