#!/usr/bin/env bash
# The Grafana dashboard against a real run: starts the local cluster of deploy/local (Kafka, a JobManager, two
# TaskManagers) on free ports, a real Prometheus server scraping every Flink reporter every 5 s, the anomaly job with
# a cost budget (so the controller publishes thresholds) and the simulator at a rate that steps up and down with 1%
# bad records; then renders every panel of deploy/grafana/exitflow-dashboard.json from Prometheus into one PNG
# (render_dashboard.py) and stops everything. Exit status 0 when every panel had data.
#
# usage: deploy/grafana/real-run.sh [--out docs/grafana-dashboard.png] [--schedule 60s@1500,60s@3000,60s@1500]
#                                   [--job-args '--budget-cost 0.6'] [--jar JOB_JAR]
# needs: Java 17, Maven, Python 3.10+ (the toolkit's venv is made on first use, for matplotlib), and Prometheus 2.x
#        on the PATH (Debian/Ubuntu: apt-get install prometheus; or https://prometheus.io/download/).
# env:   EXITFLOW_MVN_ARGS (extra Maven arguments, e.g. -o), EXITFLOW_GRAFANA_TARGET (build folder, default
#        target-grafana), KEEP_WORK=1 keeps the work dir (logs, Prometheus data) for a look afterwards.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
# shellcheck source=../../scripts/lib/setup.sh
source scripts/lib/setup.sh

out="docs/grafana-dashboard.png"
schedule="60s@1500,60s@3000,60s@1500"
job_args="--budget-cost 0.6"
jar=""
while (($#)); do
  case "$1" in
    --out) out="${2:?--out needs a file}"; shift 2 ;;
    --schedule) schedule="${2:?--schedule needs a schedule}"; shift 2 ;;
    --job-args) job_args="${2?--job-args needs a value}"; shift 2 ;;
    --jar) jar="${2:?--jar needs the job JAR}"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "real-run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
exitflow_require java mvn python
command -v prometheus >/dev/null || {
  echo "real-run.sh: needs Prometheus 2.x on the PATH: apt-get install prometheus (Debian/Ubuntu) or https://prometheus.io/download/" >&2
  exit 2
}
log() { echo "[grafana-run] $*" >&2; }
exitflow_python_env

free_port() { "$EXITFLOW_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
free_run_of_three() {  # a port p with p, p+1, p+2 free (the reporters of the JobManager and TaskManagers 1, 2)
  "$EXITFLOW_PYTHON" - <<'EOF'
import random, socket
for _ in range(200):
    base = random.randrange(20000, 60000)
    socks = []
    try:
        for p in range(base, base + 3):
            s = socket.socket(); s.bind(("127.0.0.1", p)); socks.append(s)
        print(base); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
else:
    raise SystemExit("no three free ports in a row")
EOF
}

if [ -z "$jar" ]; then
  T="${EXITFLOW_GRAFANA_TARGET:-target-grafana}"
  log "building the job JAR into jobs/$T"
  # shellcheck disable=SC2086 # EXITFLOW_MVN_ARGS is a list of words
  mvn -q -B ${EXITFLOW_MVN_ARGS:-} -DskipTests -Dexitflow.target="$T" -pl jobs -am package >/dev/null
  jar="$root/jobs/$T/exitflow-jobs-0.1.0-SNAPSHOT-job.jar"
fi
[ -f "$jar" ] || { echo "real-run.sh: no job JAR at $jar" >&2; exit 2; }
jar="$(cd "$(dirname "$jar")" && pwd)/$(basename "$jar")"

work="$(mktemp -d /tmp/exitflow-grafana.XXXXXX)"
export EXITFLOW_WORK="$work/local" ORT_DISABLE_TELEMETRY=1
KAFKA_PORT="$(free_port)"; KAFKA_CONTROLLER_PORT="$(free_port)"; FLINK_REST_PORT="$(free_port)"
FLINK_RPC_PORT="$(free_port)"; FLINK_PROMETHEUS_PORT="$(free_run_of_three)"; prom_port="$(free_port)"
export KAFKA_PORT KAFKA_CONTROLLER_PORT FLINK_REST_PORT FLINK_RPC_PORT FLINK_PROMETHEUS_PORT
prom_pid=""
cleanup() {
  [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null || true
  deploy/local/stop.sh --purge >/dev/null 2>&1 || log "stop.sh failed; see $work/local/log"
  if [ "${KEEP_WORK:-0}" = 1 ]; then log "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

deploy/local/start.sh
deploy/local/create-topics.sh --partitions 2 sensor-readings predictions alerts dead-letters stage-stats \
  threshold-updates
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 5s
scrape_configs:
  - job_name: flink
    static_configs:
      - targets: ["127.0.0.1:$FLINK_PROMETHEUS_PORT"]
        labels: {component: jobmanager}
      - targets: ["127.0.0.1:$((FLINK_PROMETHEUS_PORT + 1))", "127.0.0.1:$((FLINK_PROMETHEUS_PORT + 2))"]
        labels: {component: taskmanager}
EOF
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
prom_pid=$!
log "Prometheus on http://127.0.0.1:$prom_port (pid $prom_pid), scraping :$FLINK_PROMETHEUS_PORT-$((FLINK_PROMETHEUS_PORT + 2))"

# shellcheck disable=SC2086 # job_args is a list of words
deploy/local/submit.sh --jar "$jar" --parallelism 2 io.exitflow.jobs.anomaly.SensorAnomalyJob \
  --bootstrap-servers "127.0.0.1:$KAFKA_PORT" --bundle "$root/models/sensor-cnn" --starting-offsets earliest $job_args
start="$(date +%s)"
log "simulator: $schedule with 1% bad records"
java -cp "$jar:$(cat "$EXITFLOW_WORK/classpath/flink.classpath")" io.exitflow.jobs.Main simulate \
  --bootstrap-servers "127.0.0.1:$KAFKA_PORT" --schedule "$schedule" --bad-share 0.01 >"$work/simulator.log" 2>&1 \
  || { log "the simulator failed:"; tail -20 "$work/simulator.log" >&2; exit 1; }
sleep 15  # the last windows, checkpoints and scrapes
end="$(date +%s)"
log "rendering the dashboard for $((end - start)) s of the run (unix $start to $end) into $out"
rc=0
"$EXITFLOW_PYTHON" deploy/grafana/render_dashboard.py --prometheus "http://127.0.0.1:$prom_port" \
  --start "$start" --end "$end" --out "$out" --step 5 --scrape-interval 5 || rc=$?
exit "$rc"
