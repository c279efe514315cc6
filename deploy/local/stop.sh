#!/usr/bin/env bash
# Stops everything the deploy/local scripts started (TaskManagers, JobManager, Kafka) and cleans Flink's
# upload and temp dirs; checkpoints and savepoints stay. With --purge it also deletes Kafka's data, the checkpoints
# and the logs (the whole work dir).
source "$(dirname "$0")/lib.sh"

purge=0
case "${1:-}" in
  --purge) purge=1 ;;
  "") ;;
  *) die "usage: stop.sh [--purge]" ;;
esac

shopt -s nullglob
for file in "$PID_DIR"/taskmanager-*.pid; do
  stop_role "$(basename "$file" .pid)"
done
stop_role jobmanager
stop_role kafka

# web.upload.dir keeps every uploaded jar; the blob and io dirs hold copies of jobs and spill files.
rm -rf "$FLINK_UPLOAD_DIR" "$FLINK_TMP_DIR"
if ((purge)); then
  rm -rf "$EXITFLOW_WORK"
  log "removed $EXITFLOW_WORK"
fi
log "stopped"
