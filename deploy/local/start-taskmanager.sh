#!/usr/bin/env bash
# Starts TaskManager N of the running local Flink cluster again (after it died or was killed), with the config
# start-flink.sh wrote, and waits until it has registered with the JobManager.
# Usage: start-taskmanager.sh N
source "$(dirname "$0")/lib.sh"

(($# == 1)) || die "usage: start-taskmanager.sh N (the number of the TaskManager, 1..)"
n="$1"
[[ "$n" =~ ^[1-9][0-9]*$ ]] || die "the TaskManager number must be a positive number, got '$n'"
require_java
role_running jobmanager || die "no JobManager runs from $EXITFLOW_WORK; start the cluster with deploy/local/start-flink.sh"
[[ -f "$FLINK_CONF_DIR/config.yaml" ]] || die "no $FLINK_CONF_DIR/config.yaml; start the cluster with deploy/local/start-flink.sh"
role_running "taskmanager-$n" && die "taskmanager-$n is already running (pid $(cat "$(pid_file "taskmanager-$n")"))"

registered_tms() { curl -fsS "$(rest_url /overview)" 2>/dev/null | sed -n 's/.*"taskmanagers":\([0-9]*\).*/\1/p'; }
before="$(registered_tms)"
[[ -n "$before" ]] || die "no Flink REST endpoint at $(rest_url /overview)"
argfile="$(classpath_argfile flink)"
# The log is appended to, so it may hold a registration of the TaskManager that died: count from here.
tm_log="$LOG_DIR/taskmanager-$n.log"
registrations() { grep -c "Successful registration at resource manager" "$tm_log" 2>/dev/null || true; }
seen="$(registrations)"; seen="${seen:-0}"
launch_taskmanager "$n" "$argfile"

# The JobManager may still count the dead TaskManager until its heartbeat times out, so wait for the new one's
# own registration line rather than for the count to grow.
registered() {
  check_alive "taskmanager-$n"
  local now
  now="$(registrations)"
  ((${now:-0} > seen))
}
wait_for "taskmanager-$n" "registration with the JobManager" registered
log "taskmanager-$n is up ($(registered_tms) TaskManagers registered, $before before)"
