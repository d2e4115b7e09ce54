"""spark-submit entry point of the `demo` step: `./spark-submit.sh jobs/demo.py --help`."""

from __future__ import annotations

import sys

from sf_spark.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", *sys.argv[1:]]))
