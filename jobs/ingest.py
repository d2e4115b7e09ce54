"""spark-submit entry point of the `ingest` step: `./spark-submit.sh jobs/ingest.py --help`."""

from __future__ import annotations

import sys

from sf_spark.cli import main

if __name__ == "__main__":
    sys.exit(main(["ingest", *sys.argv[1:]]))
