#!/usr/bin/env bash
# Shows what the deploy/local scripts started: each process (running or not), then Flink's overview and jobs.
# Exits 0 when every recorded process runs, 1 otherwise (also when nothing was started).
source "$(dirname "$0")/lib.sh"

shopt -s nullglob
status=0
files=("$PID_DIR"/*.pid)
((${#files[@]})) || { log "nothing started from $EXITFLOW_WORK"; exit 1; }
for file in "${files[@]}"; do
  role="$(basename "$file" .pid)"
  if role_running "$role"; then
    log "$role: running (pid $(cat "$file"))"
  else
    log "$role: NOT running (pid file $file; log $LOG_DIR/$role.out)"
    status=1
  fi
done
if overview="$(curl -fsS "$(rest_url /overview)" 2>/dev/null)"; then
  log "Flink $(rest_url /): $overview"
  curl -fsS "$(rest_url /jobs/overview)" 2>/dev/null \
    | grep -o '"jid":"[0-9a-f]*","name":"[^"]*"\|"state":"[A-Z]*"' | paste -d' ' - - \
    | sed 's/"jid":"\([0-9a-f]*\)","name":"\([^"]*\)" "state":"\([A-Z]*\)"/  job \1 \3 (\2)/' || true
fi
port_open "$KAFKA_PORT" && log "Kafka: $HOST:$KAFKA_PORT accepts connections"
exit "$status"
