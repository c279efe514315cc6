#!/usr/bin/env bash
# JMH: raw ONNX Runtime stage calls vs the cascade operator's path, per batch size (StageKernelBenchmark).
# Usage (from the repository root): bench/kernels.sh [bundle-dir ...] [-- extra JMH args]
# Prints a per-event table (bench/kernels_table.py) to paste into bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
T=target-bench
bundles=()
while [[ $# -gt 0 && "$1" != "--" ]]; do bundles+=("$1"); shift; done
[[ "${1:-}" == "--" ]] && shift
[[ ${#bundles[@]} -eq 0 ]] && bundles=(models/sensor-cnn)
# ORT 1.29 segfaults on long java command lines (JMH forks one) unless telemetry is off.
export ORT_DISABLE_TELEMETRY=1
mvn -q -B install -DskipTests -Dexitflow.target=$T -pl schemas,operators,jobs,bench -am
mvn -q -B dependency:build-classpath -Dexitflow.target=$T -pl bench -Dmdep.outputFile=$T-cp.txt >/dev/null
cp="bench/$T/classes:$(cat bench/$T-cp.txt)"
rm -f bench/$T-cp.txt
list=$(IFS=,; echo "${bundles[*]}")
out=bench/$T/kernels.json
java -cp "$cp" org.openjdk.jmh.Main StageKernelBenchmark -p bundle="$list" -rf json -rff "$out" "$@"
python3 bench/kernels_table.py "$out"
