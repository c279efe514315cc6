#!/usr/bin/env bash
# Creates Kafka topics on the local broker (kafka-topics --create --if-not-exists).
# Usage: create-topics.sh [--partitions N] TOPIC...
source "$(dirname "$0")/lib.sh"

partitions="${TOPIC_PARTITIONS:-2}"
topics=()
while (($#)); do
  case "$1" in
    --partitions) partitions="${2:?--partitions needs a number}"; shift 2 ;;
    -h|--help) sed -n '2,3p' "$0"; exit 0 ;;
    *) topics+=("$1"); shift ;;
  esac
done
((${#topics[@]})) || die "no topics given. Usage: create-topics.sh [--partitions N] TOPIC..."
role_running kafka || port_open "$KAFKA_PORT" || die "no Kafka broker on $HOST:$KAFKA_PORT; run deploy/local/start-kafka.sh first"

argfile="$(classpath_argfile kafka)"
for topic in "${topics[@]}"; do
  "$JAVA" "@$argfile" -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "$HOST:$KAFKA_PORT" \
    --create --if-not-exists --topic "$topic" --partitions "$partitions" --replication-factor 1 \
    || die "could not create topic $topic"
  log "topic $topic ($partitions partitions) ready"
done
