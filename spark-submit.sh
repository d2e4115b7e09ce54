#!/usr/bin/env bash
# Run one pipeline step with spark-submit, shipping the sf_spark package to the executors.
#
#   ./spark-submit.sh [spark-submit options] jobs/<step>.py [step arguments]
#
# Options before the job file go to spark-submit (--master, --deploy-mode, --executor-memory,
# --num-executors, --conf spark.x=y, ...); arguments after it go to the step, e.g.
#   ./spark-submit.sh --master spark://host:7077 --executor-memory 8g \
#       jobs/score.py --conf conf/cluster.yaml --period 2024-03
#
# Shipped: the sf_spark package as a zip (--py-files) and, with --deploy-mode cluster (YARN,
# Kubernetes), the step's YAML file (--files; the step then reads it from its working folder).
# Not shipped: the Python environment (the nodes' own, or a packed one with --archives, see
# README) and the data (the lake, the deliveries: on paths or URIs every node sees).
#
# Environment: SPARK_HOME (a Spark installation; default: the pyspark of .venv), PYSPARK_PYTHON
# (the executors' Python, which needs the runtime packages of setup.py; in client mode the
# default is .venv's, right only when every node has it at the same path) and
# PYSPARK_DRIVER_PYTHON (client mode; default .venv's). In cluster mode set neither here: use
# --conf spark.pyspark.python=<the nodes' interpreter>.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=${SF_SPARK_PYTHON:-}
if [ -z "$python" ]; then
  if [ -x "$here/.venv/bin/python" ]; then python="$here/.venv/bin/python"; else python=$(command -v python3); fi
fi

if [ -n "${SPARK_HOME:-}" ] && [ -x "$SPARK_HOME/bin/spark-submit" ]; then
  submit="$SPARK_HOME/bin/spark-submit"
elif [ -x "$here/.venv/bin/spark-submit" ]; then
  submit="$here/.venv/bin/spark-submit"
elif command -v spark-submit >/dev/null 2>&1; then
  submit=$(command -v spark-submit)
else
  echo "spark-submit.sh: no spark-submit found: set SPARK_HOME or run 'make venv'" >&2
  exit 2
fi

submit_options=()
files=""
job=""
cluster_mode=false
driver_java=false
while [ $# -gt 0 ]; do
  case "$1" in
    *.py) job="$1"; shift; break ;;
    --driver-java-options* | spark.driver.extraJavaOptions=*) driver_java=true; submit_options+=("$1"); shift ;;
    --files) files="${2:-}"; shift 2 ;;
    --deploy-mode) [ "${2:-}" = cluster ] && cluster_mode=true; submit_options+=("$1" "${2:-}"); shift 2 ;;
    --deploy-mode=cluster | spark.submit.deployMode=cluster) cluster_mode=true; submit_options+=("$1"); shift ;;
    *) submit_options+=("$1"); shift ;;
  esac
done
if [ -z "$job" ]; then
  echo "usage: $0 [spark-submit options] jobs/<step>.py [step arguments]" >&2
  exit 2
fi
[ -f "$job" ] || { echo "spark-submit.sh: no job file $job" >&2; exit 2; }

# In cluster deploy mode the driver runs on a cluster node: the step's YAML travels with --files
# and the step reads it by its name in the driver's working folder.
step_args=("$@")
if $cluster_mode; then
  for i in "${!step_args[@]}"; do
    if [ "${step_args[$i]}" = --conf ] && [ $((i + 1)) -lt ${#step_args[@]} ]; then
      conf_file=${step_args[$((i + 1))]}
      [ -f "$conf_file" ] || { echo "spark-submit.sh: no configuration file $conf_file" >&2; exit 2; }
      files="${files:+$files,}$conf_file"
      step_args[$((i + 1))]=$(basename "$conf_file")
    fi
  done
fi
[ -n "$files" ] && submit_options+=(--files "$files")

# The package travels as a zip on --py-files: executors import it from there.
mkdir -p "$here/build"
package="$here/build/sf_spark.zip"
"$python" - "$here" "$package" <<'PY'
import os, pathlib, sys, zipfile
root, target = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
    for path in sorted((root / "sf_spark").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            archive.write(path, path.relative_to(root).as_posix())
tmp.replace(target)
PY

# Spark's start-up notices silenced (the project's log4j2 configuration), as `sf-spark` does, in client
# mode where the driver runs here; kept with the step's --verbose or the submitter's own driver options.
quiet=true
for argument in "${step_args[@]}"; do
  case "$argument" in -v | --verbose) quiet=false ;; esac
done
if $quiet && ! $driver_java && ! $cluster_mode; then
  submit_options+=(--driver-java-options "-Dlog4j2.configurationFile=file:$here/sf_spark/log4j2-quiet.properties")
fi

# This machine's interpreter serves as default only where the driver runs here (client mode):
# a cluster-mode driver takes its Python from spark.pyspark.python or the cluster's environment.
if ! $cluster_mode; then
  export PYSPARK_PYTHON=${PYSPARK_PYTHON:-$python}
  export PYSPARK_DRIVER_PYTHON=${PYSPARK_DRIVER_PYTHON:-$python}
fi
exec "$submit" --py-files "$package" "${submit_options[@]}" "$job" "${step_args[@]}"
