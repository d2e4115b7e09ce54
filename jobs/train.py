"""spark-submit entry point of the `train` step: `./spark-submit.sh jobs/train.py --help`."""

from __future__ import annotations

import sys

from sf_spark.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
