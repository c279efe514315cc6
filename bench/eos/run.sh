#!/usr/bin/env bash
# Exactly-once at scale and a soak, on the real local cluster of deploy/local (not CI: minutes to half an hour).
#   bench/eos/run.sh eos [--readings N] [--rate R] [--kills N] [--restart-after-s S] [--kill-seed N]
#       readings at a steady rate; SIGKILL of a TaskManager at random points, each started again; every window
#       must be answered exactly once
#   bench/eos/run.sh soak [--minutes M] [--capacity-share F | --rate R] [--sample-s S]
#       a steady rate for the duration (a share of the capacity measured first, by default); heap, RSS, checkpoint
#       size and duration, output lag sampled and checked for growth
#   bench/eos/run.sh capacity [--probe-readings N]
#       readings/s the job answers from a backlog; each TaskManager's peak heap and RSS while it drains
#   bench/eos/run.sh scale [--bundle DIR] [--parallelisms 1,2] [--intra-op-threads 1,2] [--slots 1,2]
#       [--probe-readings 2000000] [--minutes 10] [--sample-s 15] [--job-args '...']
#       capacity and peak memory per TaskManager for each parallelism x intra-op threads x slots per TaskManager,
#       ONNX sessions opened per TaskManager, then a soak with heap and RSS over time (ScaleBenchmark; issue 13 item 6);
#       writes table.md, summary.json, scale.png and soak/plot.png
# Common: [--partitions N] [--parallelism N] [--taskmanagers N] [--slots N] [--checkpoint-interval-ms N]
#   [--job-args '--max-batch-size 64 ...'] [--sensors auto|N] [--keep-cluster on|off] [--out DIR] [--work DIR]
# bench/eos/run.sh <mode> --help lists every setting with its default (stated once, in EosOptions and ScaleBenchmark).
# Each run starts its own cluster on free ports (work dir bench/$T/eos-work) and stops it at the end. Results:
# bench/eos/runs/<mode>-<UTC time>/ (summary.json, samples.csv, checkpoints.csv, events.csv, and plot.png drawn by
# bench/eos/plot.py). Exit status 0 when every window was answered exactly once.
# EXITFLOW_BENCH_TARGET: Maven build folder (default target-eos); EXITFLOW_MVN_ARGS: extra Maven arguments (e.g. -o)
# for this build and the cluster's classpaths; EXITFLOW_PYTHON: a Python with matplotlib (default: the toolkit's venv).
set -euo pipefail
cd "$(dirname "$0")/../.."
T=${EXITFLOW_BENCH_TARGET:-target-eos}
# ORT 1.29 segfaults in JVMs with long command lines unless telemetry is off (shared/notes/stack.md).
export ORT_DISABLE_TELEMETRY=1
mode="${1:-}"
case "$mode" in
  eos|soak|capacity) shift; main=(io.exitflow.bench.eos.EosBenchmark "$mode") ;;
  scale) shift; main=(io.exitflow.bench.eos.ScaleBenchmark) ;;
  -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
  *) echo "usage: bench/eos/run.sh eos|soak|capacity|scale [options] (--help)" >&2; exit 2 ;;
esac
out=""
prev=""
for a in "$@"; do
  [ "$prev" = "--out" ] && out="$a"
  prev="$a"
done
extra=()
if [ -z "$out" ]; then
  out="bench/eos/runs/$mode-$(date -u +%Y%m%d-%H%M%S)"
  extra=(--out "$out")
fi

# One reactor build: the job JAR, the bench classes and the jobs module's test jar (the cluster driver) all from
# this tree, nothing installed into ~/.m2.
echo "[eos-bench] building the job JAR and the harness into $T"
# shellcheck disable=SC2086 # EXITFLOW_MVN_ARGS is a list of words
mvn -q -B ${EXITFLOW_MVN_ARGS:-} -DskipTests -Dexitflow.target="$T" -pl bench -am package dependency:build-classpath \
  -Dmdep.outputFile="$T-cp.txt" >/dev/null
jar="jobs/$T/exitflow-jobs-0.1.0-SNAPSHOT-job.jar"
argfile="$(mktemp)"
trap 'rm -f "$argfile" ./$T-cp.txt ./*/$T-cp.txt' EXIT
printf -- '-cp\n%s:%s\n' "bench/$T/classes" "$(cat "bench/$T-cp.txt")" >"$argfile"
rc=0
java -Xmx1g -Dlog4j2.configurationFile=exitflow-demo-log4j2.properties @"$argfile" \
  "${main[@]}" --job-jar "$jar" --work "bench/$T/eos-work" "${extra[@]}" "$@" || rc=$?

PY="${EXITFLOW_PYTHON:-$HOME/.cache/exitflow/venv/bin/python}"
plot() { # script, run dir, the file its input is read from
  if [ -f "$3" ]; then
    if "$PY" -c 'import matplotlib' 2>/dev/null; then
      "$PY" "$1" "$2" || echo "[eos-bench] plotting failed (exit $?); the CSV files are in $2" >&2
    else
      echo "[eos-bench] no matplotlib in $PY (set EXITFLOW_PYTHON); not plotted, the CSV files are in $2" >&2
    fi
  fi
}
if [ "$mode" = scale ]; then
  plot bench/eos/plot.py "$out/soak" "$out/soak/samples.csv"
  plot bench/eos/plot_scale.py "$out" "$out/summary.json"
else
  plot bench/eos/plot.py "$out" "$out/samples.csv"
fi
exit "$rc"
