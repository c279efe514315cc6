#!/usr/bin/env bash
# Shared settings and helpers of the deploy/local scripts. Sourced, never run.
#
# Every setting is an environment variable with a default, so two clusters (or a test and a developer)
# can run side by side on one machine by changing the work dir and the ports.

set -euo pipefail

EXITFLOW_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL_DIR="$EXITFLOW_HOME/deploy/local"

EXITFLOW_WORK="${EXITFLOW_WORK:-$LOCAL_DIR/work}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
FLINK_REST_PORT="${FLINK_REST_PORT:-8081}"
FLINK_RPC_PORT="${FLINK_RPC_PORT:-6123}"
FLINK_TASKMANAGERS="${FLINK_TASKMANAGERS:-2}"
FLINK_TM_SLOTS="${FLINK_TM_SLOTS:-2}"
FLINK_TM_MEMORY="${FLINK_TM_MEMORY:-1280m}"
FLINK_JM_MEMORY="${FLINK_JM_MEMORY:-1024m}"
# Flink's Prometheus reporter: the JobManager serves GET /metrics on FLINK_PROMETHEUS_PORT, TaskManager N on
# FLINK_PROMETHEUS_PORT+N (9249, 9250, 9251 by default). Flink 2.2.1's reporter has no host setting: it listens on
# every interface, not only loopback. "off" starts no reporter.
FLINK_PROMETHEUS_PORT="${FLINK_PROMETHEUS_PORT:-9249}"
KAFKA_HEAP="${KAFKA_HEAP:-512m}"
# Extra Maven arguments for classpath resolution, e.g. "-o" (offline) or "-Pgpu" (CUDA ONNX Runtime).
EXITFLOW_MVN_ARGS="${EXITFLOW_MVN_ARGS:-}"
JAVA="${JAVA:-java}"
# Seconds to wait for a process to come up before giving up.
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-90}"

# ONNX Runtime 1.29 segfaults in JVMs with long command lines unless telemetry is off: every JVM we start
# inherits this.
export ORT_DISABLE_TELEMETRY=1

# Bind and advertise loopback only: nothing here is meant to be reachable from other machines.
readonly HOST=127.0.0.1

PID_DIR="$EXITFLOW_WORK/pids"
LOG_DIR="$EXITFLOW_WORK/log"
FLINK_CONF_DIR="$EXITFLOW_WORK/flink/conf"
FLINK_UPLOAD_DIR="$EXITFLOW_WORK/flink/web-upload"
FLINK_TMP_DIR="$EXITFLOW_WORK/flink/tmp"
# Durable checkpoint and savepoint storage (execution.checkpointing.dir / savepoint-dir); kept by stop.sh so a job
# can be restored from them, removed by stop.sh --purge.
FLINK_CHECKPOINT_DIR="$EXITFLOW_WORK/flink/checkpoints"
FLINK_SAVEPOINT_DIR="$EXITFLOW_WORK/flink/savepoints"
KAFKA_DIR="$EXITFLOW_WORK/kafka"
# Resolved classpaths (java @argfiles); put EXITFLOW_CLASSPATH_DIR outside the work dir to keep them across
# stop.sh --purge.
CLASSPATH_DIR="${EXITFLOW_CLASSPATH_DIR:-$EXITFLOW_WORK/classpath}"

# The Java 17 module openings a Flink process needs (what flink-dist's config.yaml passes as
# env.java.opts.all); without them /jars/:id/run fails with InaccessibleObjectException.
FLINK_JAVA_MODULE_OPTS=(
  --add-exports=java.base/sun.net.util=ALL-UNNAMED
  --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.text=ALL-UNNAMED
  --add-opens=java.base/java.time=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED
)

log() { printf '[exitflow-local] %s\n' "$*"; }
die() { printf '[exitflow-local] ERROR: %s\n' "$*" >&2; exit 1; }

require_java() {
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found (set JAVA or PATH); Java 17 is required"
  command -v curl >/dev/null 2>&1 || die "curl not found; the scripts talk to Flink's REST API with it"
}

# True when something accepts connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

require_free_port() {
  local port="$1" what="$2"
  if port_open "$port"; then
    die "port $port ($what) is already in use on $HOST; stop whatever holds it or choose another port (see deploy/local/lib.sh for the variables)"
  fi
}

# Resolves the classpath of deploy/local/maven/$1-pom.xml into a java @argfile, once; re-resolved when the
# pom or the Maven arguments change.
classpath_argfile() {
  local name="$1"
  local pom="$LOCAL_DIR/maven/$name-pom.xml"
  local argfile="$CLASSPATH_DIR/$name.args"
  local stamp="$CLASSPATH_DIR/$name.mvnargs"
  mkdir -p "$CLASSPATH_DIR"
  if [[ -s "$argfile" && "$argfile" -nt "$pom" && "$argfile" -nt "$EXITFLOW_HOME/pom.xml" \
        && -f "$stamp" && "$(cat "$stamp")" == "$EXITFLOW_MVN_ARGS" ]]; then
    echo "$argfile"
    return
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found: Maven resolves the $name classpath"
  log "resolving the $name classpath with Maven ($pom)" >&2
  local cp="$CLASSPATH_DIR/$name.classpath"
  # shellcheck disable=SC2086  # EXITFLOW_MVN_ARGS is a list of words
  if ! mvn -q -B $EXITFLOW_MVN_ARGS -f "$pom" dependency:build-classpath -Dmdep.outputFile="$cp" \
        >"$CLASSPATH_DIR/$name.mvn.log" 2>&1; then
    cat "$CLASSPATH_DIR/$name.mvn.log" >&2
    die "Maven could not resolve the $name classpath (log above; offline? try EXITFLOW_MVN_ARGS= without -o)"
  fi
  { echo "-cp"; cat "$cp"; echo; } >"$argfile"
  printf '%s' "$EXITFLOW_MVN_ARGS" >"$stamp"
  echo "$argfile"
}

pid_file() { echo "$PID_DIR/$1.pid"; }

# True when the process recorded for role $1 is alive and is still ours (its command line carries the role).
role_running() {
  local file pid
  file="$(pid_file "$1")"
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && command_line "$pid" | grep -q -- "-Dexitflow.role=$1 "
}

# The command line of process $1 (from /proc where there is one: slim images lack ps).
command_line() {
  if [[ -r "/proc/$1/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$1/cmdline"
  else
    ps -p "$1" -o args= 2>/dev/null
  fi
}

# Starts a JVM for role $1 in the background in its own session (so it outlives this shell),
# stdout/stderr to $LOG_DIR/$1.out, and records its pid. Remaining arguments: the java arguments.
launch() {
  local role="$1"; shift
  mkdir -p "$PID_DIR" "$LOG_DIR"
  if role_running "$role"; then
    die "$role is already running (pid $(cat "$(pid_file "$role")")); run deploy/local/stop.sh first"
  fi
  setsid nohup "$JAVA" "-Dexitflow.role=$role" "$@" >"$LOG_DIR/$role.out" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$(pid_file "$role")"
  # Until the child has exec'd java its command line lacks the role marker: wait for that (or its death).
  for _ in $(seq 1 100); do
    role_running "$role" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  log "started $role (pid $pid), log $LOG_DIR/$role.out"
}

# Fails with the end of the role's log when its process is gone.
check_alive() {
  local role="$1"
  if ! role_running "$role"; then
    log "last lines of $LOG_DIR/$role.out:" >&2
    tail -n 40 "$LOG_DIR/$role.out" >&2 || true
    [[ -f "$LOG_DIR/$role.log" ]] && { log "last lines of $LOG_DIR/$role.log:" >&2; tail -n 40 "$LOG_DIR/$role.log" >&2; }
    die "$role exited during startup (logs above)"
  fi
}

# Waits until command "$2..." succeeds, while process role $1 stays alive.
wait_for() {
  local role="$1" what="$2"; shift 2
  local deadline=$((SECONDS + STARTUP_TIMEOUT))
  until "$@"; do
    check_alive "$role"
    if ((SECONDS >= deadline)); then
      die "$role: $what not reached within ${STARTUP_TIMEOUT}s (log: $LOG_DIR/$role.out)"
    fi
    sleep 0.5
  done
}

# Stops role $1: SIGTERM, then SIGKILL after a grace period; removes its pid file.
stop_role() {
  local role="$1" file pid
  file="$(pid_file "$role")"
  [[ -f "$file" ]] || return 0
  pid="$(cat "$file")"
  if role_running "$role"; then
    log "stopping $role (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$role did not stop within 15 s, killing it"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
  else
    log "$role (pid $pid) is not running"
  fi
  rm -f "$file"
}

rest_url() { echo "http://$HOST:$FLINK_REST_PORT$1"; }

# The Prometheus reporter's port of process $1 (0: the JobManager, N: TaskManager N); prints nothing when off.
prometheus_port() {
  [[ "$FLINK_PROMETHEUS_PORT" == off ]] && return 0
  [[ "$FLINK_PROMETHEUS_PORT" =~ ^[1-9][0-9]*$ ]] \
    || die "FLINK_PROMETHEUS_PORT must be a port number or off, got '$FLINK_PROMETHEUS_PORT'"
  echo $((FLINK_PROMETHEUS_PORT + $1))
}

# Checks that the reporter's port of process $1 (as prometheus_port) is free: Flink only logs a reporter that
# cannot bind, and the process would run without its metrics endpoint.
require_free_prometheus_port() {
  local port
  port="$(prometheus_port "$1")"
  [[ -z "$port" ]] || require_free_port "$port" "Flink Prometheus reporter of process $1, FLINK_PROMETHEUS_PORT+$1"
}

# What flink-dist's scripts do: let Flink derive heap, direct and metaspace sizes from the memory config
# (start-flink.sh writes it). $1: GET_JM_RESOURCE_PARAMS or GET_TM_RESOURCE_PARAMS, $2: the flink classpath
# argfile. Prints two lines: JVM options, then -D dynamic properties for the process.
flink_resource_params() {
  local out
  out="$("$JAVA" "@$2" org.apache.flink.runtime.util.bash.BashJavaUtils "$1" --configDir "$FLINK_CONF_DIR" 2>&1)" \
    || { echo "$out" >&2; die "BashJavaUtils $1 failed: check the memory settings in $FLINK_CONF_DIR/config.yaml"; }
  echo "$out" | sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p' | tail -n 2
}

# Starts TaskManager $1 (role taskmanager-$1, log $LOG_DIR/taskmanager-$1.log) with the config start-flink.sh
# wrote; $2: the flink classpath argfile. Used by start-flink.sh and start-taskmanager.sh.
launch_taskmanager() {
  local i="$1" argfile="$2" params jvm dyn
  mapfile -t params < <(flink_resource_params GET_TM_RESOURCE_PARAMS "$argfile")
  ((${#params[@]} == 2)) || die "unexpected BashJavaUtils output for the TaskManagers: ${params[*]}"
  read -ra jvm <<<"${params[0]}"
  read -ra dyn <<<"${params[1]}"
  local prom
  prom="$(prometheus_port "$i")"
  if [[ -n "$prom" ]]; then
    require_free_prometheus_port "$i"
    dyn+=(-D "metrics.reporter.prom.port=$prom")
  fi
  launch "taskmanager-$i" "@$argfile" "${FLINK_JAVA_MODULE_OPTS[@]}" \
    "-Dlog4j.configurationFile=file:$FLINK_CONF_DIR/log4j.properties" "${jvm[@]}" "-Dlog.file=$LOG_DIR/taskmanager-$i.log" \
    org.apache.flink.runtime.taskexecutor.TaskManagerRunner --configDir "$FLINK_CONF_DIR" "${dyn[@]}"
}
