#!/usr/bin/env bash
# ML_PREDICT benchmark: the same events through the exitflow SQL model provider (async, batched cascade), the same
# provider one row at a time, the DataStream cascade, and a per-row synchronous predict function on the bundle's
# whole-model graph (a plain ONNX provider), on a local Flink MiniCluster (SqlPredictBenchmark):
#   bench/sql.sh [--events 100000] [--parallelism 1] [--capacity 256] [--max-batch-size 64] [--modes ...]
# Prints a table and writes bench/$EXITFLOW_BENCH_TARGET/sql.json; paste measured numbers into bench/RESULTS.md.
# EXITFLOW_BENCH_TARGET: Maven build folder (default target-sql); EXITFLOW_BENCH_JAVA_OPTS: extra JVM options.
set -euo pipefail
cd "$(dirname "$0")/.."
T=${EXITFLOW_BENCH_TARGET:-target-sql}
# ORT 1.29 segfaults in JVMs with long command lines unless telemetry is off (shared/notes/stack.md).
export ORT_DISABLE_TELEMETRY=1
# One reactor build: the sibling modules resolve to this build's jars (nothing is installed into ~/.m2).
mvn -q -B -DskipTests -Dexitflow.target=$T ${EXITFLOW_MVN_ARGS:-} -pl bench -am package dependency:build-classpath \
  -Dmdep.outputFile=$T-cp.txt >/dev/null
argfile="$(mktemp)"
trap 'rm -f "$argfile" ./$T-cp.txt ./*/$T-cp.txt' EXIT
printf -- '-cp\n%s:%s\n' "bench/$T/classes" "$(cat bench/$T-cp.txt)" >"$argfile"
# shellcheck disable=SC2086 # the options are a list of words
java -Xmx3g ${EXITFLOW_BENCH_JAVA_OPTS:-} --add-opens java.base/java.util=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED \
  -Dlog4j2.configurationFile=exitflow-demo-log4j2.properties \
  @"$argfile" io.exitflow.bench.e2e.SqlPredictBenchmark --out "bench/$T/sql.json" "$@"
