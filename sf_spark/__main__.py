"""`python -m sf_spark` is the `sf-spark` command."""

from __future__ import annotations

import sys

from sf_spark.cli import main

if __name__ == "__main__":
    sys.exit(main())
