"""spark-submit entry point of the `run` step: `./spark-submit.sh jobs/run.py --help`."""

from __future__ import annotations

import sys

from sf_spark.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
