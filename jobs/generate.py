"""spark-submit entry point of the `generate` step: `./spark-submit.sh jobs/generate.py --help`."""

from __future__ import annotations

import sys

from sf_spark.cli import main

if __name__ == "__main__":
    sys.exit(main(["generate", *sys.argv[1:]]))
