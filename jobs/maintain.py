"""spark-submit entry point of the `maintain` command: `./spark-submit.sh jobs/maintain.py --help`."""

from __future__ import annotations

import sys

from sf_spark.cli import main

if __name__ == "__main__":
    sys.exit(main(["maintain", *sys.argv[1:]]))
