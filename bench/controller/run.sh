#!/usr/bin/env bash
# Controller benchmark: ThresholdController against the simulated plant driven by real bundles' calibration data and
# measured stage costs (io.exitflow.bench.controller.ControllerBenchmark), then the trace plots.
# Usage (from anywhere): bench/controller/run.sh [--bundle DIR [--bundle DIR ...]] [--task-busy]
# (default bundles: models/sensor-cnn and models/features-mlp; ControllerBenchmark --help lists every setting)
# --task-busy: the plant reports its workers' busy time (overhead included), as stage operators report their tasks'.
# Writes bench/controller/out/<model>-trace.jsonl and <model>-trace.png, prints the RESULTS.md table.
set -euo pipefail
cd "$(dirname "$0")/../.."
T="${EXITFLOW_BENCH_TARGET:-target-ctl}" # own build folder when other builds run beside (parent pom: exitflow.target)
# ORT 1.29 segfaults in JVMs with long command lines unless telemetry is off (shared/notes/stack.md).
export ORT_DISABLE_TELEMETRY=1
mvn -q -B -DskipTests -Dexitflow.target=$T -pl bench -am install
mvn -q -B -Dexitflow.target=$T -pl bench dependency:build-classpath -Dmdep.outputFile=$T-cp.txt >/dev/null
argfile="$(mktemp)"
trap 'rm -f "$argfile" bench/$T-cp.txt' EXIT
printf -- '-cp\n%s:%s\n' "bench/$T/classes" "$(cat bench/$T-cp.txt)" >"$argfile"
java -Xmx2g -Dlog4j2.level=WARN @"$argfile" io.exitflow.bench.controller.ControllerBenchmark \
  --out-dir bench/controller/out "$@"
PY="${EXITFLOW_PYTHON:-/root/.cache/exitflow/venv/bin/python}"
for f in bench/controller/out/*-trace.jsonl; do
  "$PY" bench/controller/plot_trace.py "$f" "${f%.jsonl}.png"
done
