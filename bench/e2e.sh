#!/usr/bin/env bash
# End-to-end benchmarks, every EarlyExit mode on the same data and bundle, on a local Flink MiniCluster:
#   bench/e2e.sh [--events 300000] [--parallelism 1] [--modes ...] [--bundle DIR]
#       the inference path on in-memory test-split windows (EndToEndBenchmark; bench/target-e2e/e2e.json)
#   bench/e2e.sh kafka [--readings-per-sensor 30000] [--parallelism 1] [--modes ...] [--bundle DIR]
#                      [--warmup-passes 1] [--measure-from 0.3]
#       the whole anomaly job, Kafka to Kafka, in-process broker (KafkaJobBenchmark; bench/target-e2e/e2e-kafka.json);
#       measured from a mark once 30% of the windows are written, with the JIT compilers' share of that CPU
#   bench/e2e.sh latency [--modes CASCADE,FULL_DEPTH] [--loads 0.5,0.9] [--guarantees exactly-once,at-least-once]
#                        [--bundle DIR] [--capacity-rounds 3] [--capacity-warmup-rounds 1] [--capacity-only true]
#       latency at fixed shares of each mode's capacity, split by where it goes (LatencyBenchmark; e2e-latency.json);
#       each capacity the median of rounds on a backlog, after warm-up rounds
# --help after kafka or latency lists every option with its default.
# Prints a table; paste measured numbers into bench/RESULTS.md.
# EXITFLOW_BENCH_TARGET: Maven build folder (default target-e2e); EXITFLOW_BENCH_JAVA_OPTS: extra JVM options
# (for example a profiler: -XX:StartFlightRecording=filename=kafka.jfr,settings=profile).
set -euo pipefail
cd "$(dirname "$0")/.."
T=${EXITFLOW_BENCH_TARGET:-target-e2e}
# ORT 1.29 segfaults in JVMs with long command lines unless telemetry is off (shared/notes/stack.md).
export ORT_DISABLE_TELEMETRY=1
# One reactor build: the sibling modules resolve to this build's jars (nothing is installed into ~/.m2, where
# concurrent builds would pick up each other's).
mvn -q -B -DskipTests -Dexitflow.target=$T -pl bench -am package dependency:build-classpath \
  -Dmdep.outputFile=$T-cp.txt >/dev/null
main="io.exitflow.bench.e2e.EndToEndBenchmark --out bench/$T/e2e.json"
if [ "${1:-}" = kafka ]; then
  shift
  main="io.exitflow.bench.e2e.KafkaJobBenchmark --out bench/$T/e2e-kafka.json"
elif [ "${1:-}" = latency ]; then
  shift
  main="io.exitflow.bench.e2e.LatencyBenchmark --out bench/$T/e2e-latency.json"
fi
argfile="$(mktemp)"
trap 'rm -f "$argfile" ./$T-cp.txt ./*/$T-cp.txt' EXIT
printf -- '-cp\n%s:%s\n' "bench/$T/classes" "$(cat bench/$T-cp.txt)" >"$argfile"
# shellcheck disable=SC2086 # the options are a list of words
java -Xmx3g ${EXITFLOW_BENCH_JAVA_OPTS:-} --add-opens java.base/java.util=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED \
  -Dlog4j2.configurationFile=exitflow-demo-log4j2.properties \
  @"$argfile" $main "$@"
