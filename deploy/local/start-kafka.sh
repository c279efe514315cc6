#!/usr/bin/env bash
# Starts one Kafka broker JVM (KRaft, broker and controller in one process) on 127.0.0.1:$KAFKA_PORT.
# Data lives in $EXITFLOW_WORK/kafka and is formatted on first start.
source "$(dirname "$0")/lib.sh"

require_java
require_free_port "$KAFKA_PORT" "Kafka listener, KAFKA_PORT"
require_free_port "$KAFKA_CONTROLLER_PORT" "Kafka controller, KAFKA_CONTROLLER_PORT"
argfile="$(classpath_argfile kafka)"

mkdir -p "$KAFKA_DIR"
props="$KAFKA_DIR/server.properties"
cat >"$props" <<PROPS
# Written by deploy/local/start-kafka.sh; rewritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=1
# Topics are created explicitly (create-topics.sh): a typo in a job argument should fail, not create a topic.
auto.create.topics.enable=false
# One broker: every internal topic has one replica; exactly-once sinks need the transaction log settings.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Flink's Kafka sink may ask for transactions up to one hour long.
transaction.max.timeout.ms=3600000
group.initial.rebalance.delay.ms=0
PROPS

cat >"$KAFKA_DIR/log4j2.properties" <<PROPS
appender.file.type=File
appender.file.name=file
appender.file.fileName=$LOG_DIR/kafka.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=%d{HH:mm:ss,SSS} %-5p %c{1} - %m%n
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
logger.kafka.name=kafka
logger.kafka.level=WARN
logger.apache.name=org.apache.kafka
logger.apache.level=WARN
logger.started.name=kafka.server.KafkaRaftServer
logger.started.level=INFO
PROPS
mkdir -p "$LOG_DIR"

jvm_opts=("@$argfile" "-Xms$KAFKA_HEAP" "-Xmx$KAFKA_HEAP" "-Dlog4j2.configurationFile=$KAFKA_DIR/log4j2.properties")

if [[ ! -f "$KAFKA_DIR/data/meta.properties" ]]; then
  cluster_id="$("$JAVA" "${jvm_opts[@]}" kafka.tools.StorageTool random-uuid 2>"$LOG_DIR/kafka-format.out")" \
    || { cat "$LOG_DIR/kafka-format.out" >&2; die "kafka StorageTool random-uuid failed"; }
  log "formatting Kafka storage in $KAFKA_DIR/data (cluster id $cluster_id)"
  "$JAVA" "${jvm_opts[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$props" \
    >>"$LOG_DIR/kafka-format.out" 2>&1 \
    || { cat "$LOG_DIR/kafka-format.out" >&2; die "formatting Kafka storage failed"; }
fi

launch kafka "${jvm_opts[@]}" kafka.Kafka "$props"
wait_for kafka "listener on $HOST:$KAFKA_PORT" port_open "$KAFKA_PORT"
log "Kafka is up on $HOST:$KAFKA_PORT"
