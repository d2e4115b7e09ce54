"""The lake layer: Delta tables under one root, read and written through one interface.

Two writers stand behind `Lake`:

- `native`: the delta-spark writer, used when the Delta classes are on the JVM classpath
  (a managed cluster, or a session started with the Delta packages);
- `delta-rs`: Spark writes the parquet files of a write in parallel into a staging folder of
  the table, the driver moves them into place and commits them as one Delta transaction with
  the `deltalake` package. It needs no JAR and works offline, on a local or mounted path (on a
  cluster: a path every node sees, since executors write the staging folder the driver commits).

Both produce plain Delta tables that either one (and any Delta reader) can read.
"""

from __future__ import annotations

from sf_spark.exports import lazy_exports

EXPORTS = {
    "Lake": "core",
    "LakeError": "core",
    "TableNotFoundError": "core",
    "local_uri": "core",
}
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
__all__ = sorted(EXPORTS)
