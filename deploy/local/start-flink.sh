#!/usr/bin/env bash
# Starts a standalone Flink session cluster on loopback: one JobManager (REST on $FLINK_REST_PORT) and
# $FLINK_TASKMANAGERS TaskManagers, each its own JVM, from Maven-resolved jars (flink-dist is not published).
source "$(dirname "$0")/lib.sh"

require_java
require_free_port "$FLINK_REST_PORT" "Flink REST, FLINK_REST_PORT"
require_free_port "$FLINK_RPC_PORT" "Flink JobManager RPC, FLINK_RPC_PORT"
[[ "$FLINK_TASKMANAGERS" =~ ^[1-9][0-9]*$ ]] || die "FLINK_TASKMANAGERS must be a positive number, got '$FLINK_TASKMANAGERS'"
for i in $(seq 0 "$FLINK_TASKMANAGERS"); do require_free_prometheus_port "$i"; done
argfile="$(classpath_argfile flink)"

mkdir -p "$FLINK_CONF_DIR" "$FLINK_UPLOAD_DIR" "$FLINK_TMP_DIR" "$LOG_DIR" "$FLINK_CHECKPOINT_DIR" "$FLINK_SAVEPOINT_DIR"
# file:// URIs need absolute paths (EXITFLOW_WORK may be relative)
checkpoint_dir="$(cd "$FLINK_CHECKPOINT_DIR" && pwd)"
savepoint_dir="$(cd "$FLINK_SAVEPOINT_DIR" && pwd)"
prometheus_conf="# Metric reporter: none (FLINK_PROMETHEUS_PORT=off)."
jm_prom="$(prometheus_port 0)"
if [[ -n "$jm_prom" ]]; then
  prometheus_conf="# Prometheus reporter (flink-metrics-prometheus, on the classpath from deploy/local/maven/flink-pom.xml): GET
# http://$HOST:<port>/metrics. This port is the JobManager's; TaskManager N gets $jm_prom+N (-D on its command line).
# Flink 2.2.1's reporter has no host setting and listens on every interface.
metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory
metrics.reporter.prom.port: $jm_prom"
fi
cat >"$FLINK_CONF_DIR/config.yaml" <<YAML
# Written by deploy/local/start-flink.sh; rewritten on every start. Flink 2.x reads only config.yaml.
jobmanager.rpc.address: $HOST
jobmanager.rpc.port: $FLINK_RPC_PORT
jobmanager.bind-host: $HOST
jobmanager.memory.process.size: $FLINK_JM_MEMORY
taskmanager.host: $HOST
taskmanager.bind-host: $HOST
taskmanager.numberOfTaskSlots: $FLINK_TM_SLOTS
taskmanager.memory.process.size: $FLINK_TM_MEMORY
# Streaming jobs on the hashmap state backend need little managed memory.
taskmanager.memory.managed.fraction: 0.1
rest.address: $HOST
rest.bind-address: $HOST
rest.port: $FLINK_REST_PORT
parallelism.default: 1
# Checkpoints on disk under the work dir, not in the JobManager's memory (Flink's default without a directory),
# which holds at most 5 MB of state: past it every checkpoint fails and nothing is committed. ExitFlow's jobs refuse
# to start on in-memory storage. Every process here shares this disk; on a real cluster use shared storage (S3, NFS).
execution.checkpointing.dir: file://$checkpoint_dir
execution.checkpointing.savepoint-dir: file://$savepoint_dir
# Keep the last checkpoints of a cancelled or failed job, to restore it (or an earlier checkpoint) with flink run -s.
execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION
execution.checkpointing.num-retained: 3
# Spread slots over all TaskManagers, so even a small job exchanges data between JVMs as on a real cluster.
taskmanager.load-balance.mode: SLOTS
# Every uploaded jar stays here until stop.sh cleans it.
web.upload.dir: $FLINK_UPLOAD_DIR
web.tmpdir: $FLINK_TMP_DIR/web
io.tmp.dirs: $FLINK_TMP_DIR/io
blob.storage.directory: $FLINK_TMP_DIR/blob
# ONNX Runtime is on the cluster classpath: load it parent-first, so its native library is loaded once per
# JVM and survives job restarts (a child-first copy from the job jar would try to load it again).
classloader.parent-first-patterns.additional: ai.onnxruntime.
$prometheus_conf
YAML

cat >"$FLINK_CONF_DIR/log4j.properties" <<'PROPS'
monitorInterval=30
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=MainAppender
appender.main.name=MainAppender
appender.main.type=File
appender.main.fileName=${sys:log.file}
appender.main.layout.type=PatternLayout
appender.main.layout.pattern=%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
logger.kafka.name=org.apache.kafka
logger.kafka.level=WARN
logger.netty.name=org.apache.flink.shaded.netty4.io.netty.channel.DefaultChannelPipeline
logger.netty.level=ERROR
PROPS

common_opts=("@$argfile" "${FLINK_JAVA_MODULE_OPTS[@]}" "-Dlog4j.configurationFile=file:$FLINK_CONF_DIR/log4j.properties")

mapfile -t jm_params < <(flink_resource_params GET_JM_RESOURCE_PARAMS "$argfile")
((${#jm_params[@]} == 2)) || die "unexpected BashJavaUtils output for the JobManager: ${jm_params[*]}"
# shellcheck disable=SC2206  # the lines are lists of words
jm_jvm=(${jm_params[0]}); jm_dyn=(${jm_params[1]})
launch jobmanager "${common_opts[@]}" "${jm_jvm[@]}" "-Dlog.file=$LOG_DIR/jobmanager.log" \
  org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint --configDir "$FLINK_CONF_DIR" "${jm_dyn[@]}"

for i in $(seq 1 "$FLINK_TASKMANAGERS"); do
  launch_taskmanager "$i" "$argfile"
done

rest_up() { curl -fsS -o /dev/null "$(rest_url /overview)" 2>/dev/null; }
registered_tms() { curl -fsS "$(rest_url /overview)" 2>/dev/null | sed -n 's/.*"taskmanagers":\([0-9]*\).*/\1/p'; }
all_registered() {
  for i in $(seq 1 "$FLINK_TASKMANAGERS"); do check_alive "taskmanager-$i"; done
  [[ "$(registered_tms)" == "$FLINK_TASKMANAGERS" ]]
}
wait_for jobmanager "REST endpoint $(rest_url /overview)" rest_up
wait_for jobmanager "$FLINK_TASKMANAGERS registered TaskManagers" all_registered
log "Flink is up: $(rest_url /) with $FLINK_TASKMANAGERS TaskManagers x $FLINK_TM_SLOTS slots"
if [[ -n "$jm_prom" ]]; then
  log "Prometheus metrics: http://$HOST:$jm_prom/metrics (JobManager), TaskManager N on port $jm_prom+N"
fi
