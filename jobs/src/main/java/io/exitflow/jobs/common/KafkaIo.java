package io.exitflow.jobs.common;

import io.exitflow.schemas.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Properties;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.types.Either;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;

/**
 * Kafka sources and sinks of the jobs, configured from {@link JobOptions}: decoding sources that turn bad
 * records into dead letters, and Avro sinks (exactly-once for data, at-least-once for control traffic).
 */
public final class KafkaIo {
    private final JobConfig cfg;
    private final String jobName;
    private final Properties clientProperties;

    /**
     * @param cfg the job's settings
     * @param jobName short job name, the default consumer group and transactional-id prefix
     *     ({@code exitflow-<jobName>})
     */
    public KafkaIo(JobConfig cfg, String jobName) {
        this.cfg = cfg;
        this.jobName = jobName;
        this.clientProperties = cfg.optional(JobOptions.KAFKA_PROPERTIES)
                .map(f -> KafkaClientProperties.load(Path.of(f)))
                .orElseGet(KafkaClientProperties::none);
    }

    /** Bootstrap servers (required setting). */
    public String bootstrapServers() {
        return cfg.require(JobOptions.BOOTSTRAP_SERVERS);
    }

    /**
     * The sinks' producer limit on one record, in bytes: {@code max.request.size} from {@code --kafka-properties},
     * else Kafka's default.
     */
    public int producerMaxRequestSize() {
        Object v = clientProperties.getProperty(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        if (v == null) {
            v = ProducerConfig.configDef().defaultValues().get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        }
        return (Integer) ConfigDef.parseType(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, v, ConfigDef.Type.INT);
    }

    /** The consumer group of the input source, which commits its offsets on checkpoints. */
    public String groupId() {
        return cfg.get(JobOptions.GROUP_ID, "exitflow-" + jobName);
    }

    /** The lag of the input source's consumer group on {@code topic}, in events of {@code recordsPerEvent} records. */
    public KafkaLagProbe lagProbe(String topic, double recordsPerEvent) {
        KafkaLagProbe.Builder b = KafkaLagProbe.builder()
                .bootstrapServers(bootstrapServers())
                .topic(topic)
                .groupId(groupId())
                .recordsPerEvent(recordsPerEvent);
        clientProperties.stringPropertyNames().forEach(k -> b.property(k, clientProperties.getProperty(k)));
        return b.build();
    }

    /**
     * A source of one topic whose records come out decoded and validated, or as dead letters
     * ({@link DecodingDeserializer}).
     */
    public <T extends SpecificRecordBase> KafkaSource<Either<DeadLetter, T>> decodingSource(
            String topic, Class<T> type, RecordValidator<T> validator) {
        KafkaSourceBuilder<Either<DeadLetter, T>> b = KafkaSource.<Either<DeadLetter, T>>builder()
                .setProperties(clientProperties)
                .setBootstrapServers(bootstrapServers())
                .setTopics(topic)
                .setGroupId(groupId())
                .setClientIdPrefix("exitflow-" + jobName + "-" + topic)
                .setStartingOffsets(startingOffsets())
                .setDeserializer(new DecodingDeserializer<>(type, validator))
                // Read only committed records of transactional producers.
                .setProperty("isolation.level", "read_committed");
        bound(b);
        return b.build();
    }

    /**
     * A source of the control topic: every update from the beginning, so a (re)started job applies the newest
     * thresholds (operators reject updates not newer than the one in force). Bounded like the input in bounded mode.
     */
    public <T extends SpecificRecordBase> KafkaSource<Either<DeadLetter, T>> controlSource(String topic, Class<T> type,
            RecordValidator<T> validator) {
        KafkaSourceBuilder<Either<DeadLetter, T>> b = KafkaSource.<Either<DeadLetter, T>>builder()
                .setProperties(clientProperties)
                .setBootstrapServers(bootstrapServers())
                .setTopics(topic)
                .setGroupId(groupId() + "-control")
                .setClientIdPrefix("exitflow-" + jobName + "-" + topic)
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setDeserializer(new DecodingDeserializer<>(type, validator));
        bound(b);
        return b.build();
    }

    /**
     * An exactly-once (transactional) sink of Avro records: records are visible to {@code read_committed}
     * consumers when the checkpoint that covers them completes, exactly once across failures.
     *
     * @param role short unique name of this sink within the job (part of its transactional ids)
     */
    public <T extends SpecificRecord> KafkaSink<T> exactlyOnceSink(String topic, Class<T> type, RecordKey<T> key,
            String role) {
        String prefix = cfg.get(JobOptions.TRANSACTIONAL_ID_PREFIX, "exitflow-" + jobName) + "-" + role;
        return KafkaSink.<T>builder()
                .setKafkaProducerConfig(clientProperties)
                .setBootstrapServers(bootstrapServers())
                .setRecordSerializer(serializer(topic, type, key))
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(prefix)
                .setProperty("transaction.timeout.ms", String.valueOf(cfg.get(JobOptions.TRANSACTION_TIMEOUT_MS)))
                .build();
    }

    /**
     * An at-least-once sink, for control traffic (stage stats, threshold updates) that must flow between
     * checkpoints; its consumers tolerate duplicates (updates carry versions, stats are measurements).
     */
    public <T extends SpecificRecord> KafkaSink<T> atLeastOnceSink(String topic, Class<T> type, RecordKey<T> key) {
        return KafkaSink.<T>builder()
                .setKafkaProducerConfig(clientProperties)
                .setBootstrapServers(bootstrapServers())
                .setRecordSerializer(serializer(topic, type, key))
                .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                .build();
    }

    private static <T extends SpecificRecord> KafkaRecordSerializationSchema<T> serializer(String topic, Class<T> type,
            RecordKey<T> key) {
        return KafkaRecordSerializationSchema.<T>builder()
                .setTopic(topic)
                .setKeySerializationSchema(record -> {
                    String k = key.apply(record);
                    return k == null ? null : k.getBytes(StandardCharsets.UTF_8);
                })
                .setValueSerializationSchema(new AvroValueSerializer<>(type))
                .build();
    }

    /** Bounded mode: stop at the end offsets as of start; otherwise pick up new partitions without a restart. */
    private void bound(KafkaSourceBuilder<?> b) {
        if (cfg.get(JobOptions.BOUNDED)) {
            b.setBounded(OffsetsInitializer.latest());
        } else {
            b.setProperty("partition.discovery.interval.ms", "60000");
        }
    }

    private OffsetsInitializer startingOffsets() {
        String s = cfg.get(JobOptions.STARTING_OFFSETS).toLowerCase(Locale.ROOT);
        switch (s) {
            case "committed":
                return OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
            case "earliest":
                return OffsetsInitializer.earliest();
            case "latest":
                return OffsetsInitializer.latest();
            default:
                throw new IllegalArgumentException("--" + JobOptions.argName(JobOptions.STARTING_OFFSETS)
                        + " must be committed, earliest or latest, got '" + s + "'");
        }
    }
}
