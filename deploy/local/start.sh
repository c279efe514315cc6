#!/usr/bin/env bash
# Starts the whole local stack: a Kafka broker, then a Flink session cluster (see start-kafka.sh and
# start-flink.sh for the settings). Stops what it started when a later step fails.
source "$(dirname "$0")/lib.sh"

for role in kafka jobmanager taskmanager-1; do
  role_running "$role" && die "$role is already running from $EXITFLOW_WORK; run deploy/local/stop.sh first"
done
# Check every port before starting anything, so a conflict costs nothing to undo.
require_free_port "$KAFKA_PORT" "Kafka listener, KAFKA_PORT"
require_free_port "$KAFKA_CONTROLLER_PORT" "Kafka controller, KAFKA_CONTROLLER_PORT"
require_free_port "$FLINK_REST_PORT" "Flink REST, FLINK_REST_PORT"
require_free_port "$FLINK_RPC_PORT" "Flink JobManager RPC, FLINK_RPC_PORT"
trap 'log "startup failed, stopping what was started"; "$LOCAL_DIR/stop.sh"' ERR
"$LOCAL_DIR/start-kafka.sh"
"$LOCAL_DIR/start-flink.sh"
trap - ERR
log "ready: Kafka $HOST:$KAFKA_PORT, Flink $(rest_url /), work dir $EXITFLOW_WORK"
