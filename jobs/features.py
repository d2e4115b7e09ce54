"""spark-submit entry point of the `features` step: `./spark-submit.sh jobs/features.py --help`."""

from __future__ import annotations

import sys

from sf_spark.cli import main

if __name__ == "__main__":
    sys.exit(main(["features", *sys.argv[1:]]))
