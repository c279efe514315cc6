package io.exitflow.jobs.common;

import io.exitflow.schemas.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.Properties;
import java.util.Set;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.types.Either;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;

/**
 * Kafka sources and sinks of the jobs, configured from {@link JobOptions}: decoding sources that turn bad
 * records into dead letters, and Avro sinks (for data exactly-once, or at-least-once with
 * {@code --delivery-guarantee at-least-once}; at-least-once for control traffic).
 */
public final class KafkaIo {
    private final JobConfig cfg;
    private final String jobName;
    private final Properties clientProperties;
    /** The job's schema registry ({@code --schema-registry-url}), or null for plain Avro binary on every topic. */
    private final SchemaRegistrySettings schemaRegistry;
    /** The topic of the job's input source (the first one built), part of the default transactional-id prefix. */
    private String inputTopic;
    /** Full transactional-id prefixes of the exactly-once sinks built so far, for the start-up check. */
    private final Set<String> exactlyOncePrefixes = new LinkedHashSet<>();

    /**
     * @param cfg the job's settings
     * @param jobName short job name: the default consumer group ({@code exitflow-<jobName>}) and part of the default
     *     transactional-id prefix ({@link #transactionalIdPrefix})
     */
    public KafkaIo(JobConfig cfg, String jobName) {
        this.cfg = cfg;
        this.jobName = jobName;
        this.clientProperties = cfg.optional(JobOptions.KAFKA_PROPERTIES)
                .map(f -> KafkaClientProperties.load(Path.of(f)))
                .orElseGet(KafkaClientProperties::none);
        this.schemaRegistry = SchemaRegistrySettings.from(cfg, clientProperties).orElse(null);
    }

    /**
     * The job's schema registry, or null when the job reads and writes plain Avro binary: every source and sink this
     * builds uses it; a deserializer of the job's own passes it to its {@link DecodingDeserializer}.
     */
    public SchemaRegistrySettings schemaRegistry() {
        return schemaRegistry;
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
        return inputSource(topic, new DecodingDeserializer<>(type, validator, schemaRegistry));
    }

    /**
     * The input source of one topic with a deserializer of the job's own (one that wraps a
     * {@link DecodingDeserializer}, for example to keep each record's partition and offset); configured like
     * {@link #decodingSource}.
     */
    public <T> KafkaSource<T> inputSource(String topic, KafkaRecordDeserializationSchema<T> deserializer) {
        if (inputTopic == null) {
            inputTopic = topic;
        }
        KafkaSourceBuilder<T> b = KafkaSource.<T>builder()
                .setProperties(clientProperties)
                .setBootstrapServers(bootstrapServers())
                .setTopics(topic)
                .setGroupId(groupId())
                .setClientIdPrefix("exitflow-" + jobName + "-" + topic)
                .setStartingOffsets(startingOffsets())
                .setDeserializer(deserializer)
                // Read only committed records of transactional producers.
                .setProperty("isolation.level", "read_committed");
        bound(b);
        return b.build();
    }

    /**
     * A source of the control topic: every update from the beginning, so a (re)started job applies the newest
     * thresholds (operators reject updates not newer than the one in force). Bounded like the input in bounded mode.
     */
    public <T extends SpecificRecordBase> KafkaSource<Either<DeadLetter, T>> controlSource(
            String topic, Class<T> type, RecordValidator<T> validator) {
        KafkaSourceBuilder<Either<DeadLetter, T>> b = KafkaSource.<Either<DeadLetter, T>>builder()
                .setProperties(clientProperties)
                .setBootstrapServers(bootstrapServers())
                .setTopics(topic)
                .setGroupId(groupId() + "-control")
                .setClientIdPrefix("exitflow-" + jobName + "-" + topic)
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setDeserializer(new DecodingDeserializer<>(type, validator, schemaRegistry));
        bound(b);
        return b.build();
    }

    /**
     * The guarantee of the job's data sinks ({@code --delivery-guarantee}): exactly-once or at-least-once.
     *
     * @throws IllegalArgumentException naming the flag for {@code none}, which the jobs do not offer
     */
    public static DeliveryGuarantee deliveryGuarantee(JobConfig cfg) {
        DeliveryGuarantee g = cfg.get(JobOptions.DELIVERY_GUARANTEE);
        if (g != DeliveryGuarantee.EXACTLY_ONCE && g != DeliveryGuarantee.AT_LEAST_ONCE) {
            throw new IllegalArgumentException("--" + JobOptions.argName(JobOptions.DELIVERY_GUARANTEE) + " must be "
                    + DeliveryGuarantee.EXACTLY_ONCE + " or " + DeliveryGuarantee.AT_LEAST_ONCE + ", got '" + g
                    + "' (a sink without a guarantee would drop output on any failure without a word)");
        }
        return g;
    }

    /**
     * A sink of the job's data (predictions, alerts, dead letters) with the guarantee of
     * {@code --delivery-guarantee}: {@link #exactlyOnceSink} (the default), or a plain at-least-once
     * {@link KafkaSink} (no transactions, so no transaction checks: records are visible as soon as they are sent,
     * flushed at each checkpoint, and a restart may write some twice).
     *
     * @param role short unique name of this sink within the job (part of its transactional ids when exactly once)
     */
    public <T extends SpecificRecord> Sink<T> dataSink(String topic, Class<T> type, RecordKey<T> key, String role) {
        return deliveryGuarantee(cfg) == DeliveryGuarantee.EXACTLY_ONCE
                ? exactlyOnceSink(topic, type, key, role)
                : atLeastOnceSink(topic, type, key);
    }

    /**
     * An exactly-once (transactional) sink of Avro records: records are visible to {@code read_committed}
     * consumers when the checkpoint that covers them completes, exactly once across failures. A transaction that
     * cannot be committed (aborted by the broker, fenced by another producer) fails the job ({@link StrictKafkaSink})
     * instead of being dropped with a log line. Its transactional ids are {@code <prefix>-<role>-<subtask>-<n>}
     * ({@link #transactionalIdPrefix}); building the first one registers the start-up check of the prefix and the
     * transaction timeout against the broker ({@link ExactlyOnceCheck#checkBroker}, run by
     * {@link JobConfig#runStartChecks}).
     *
     * @param role short unique name of this sink within the job (part of its transactional ids)
     */
    public <T extends SpecificRecord> StrictKafkaSink<T> exactlyOnceSink(
            String topic, Class<T> type, RecordKey<T> key, String role) {
        String prefix = transactionalIdPrefix() + "-" + role;
        long timeout = cfg.get(JobOptions.TRANSACTION_TIMEOUT).toMillis();
        exactlyOncePrefixes.add(prefix);
        cfg.addStartCheck("exactly-once sinks " + transactionalIdPrefix(), () -> {
            Properties admin = new Properties();
            admin.putAll(clientProperties);
            admin.put("bootstrap.servers", bootstrapServers());
            admin.put("client.id", "exitflow-" + jobName + "-start-check");
            // Watch a prefix in use for about one checkpoint: a running job creates a transaction per checkpoint.
            Duration probe = cfg.get(JobOptions.CHECKPOINT_INTERVAL).plusSeconds(2);
            ExactlyOnceCheck.checkBroker(admin, timeout, Set.copyOf(exactlyOncePrefixes), probe);
        });
        return new StrictKafkaSink<>(
                KafkaSink.<T>builder()
                        .setKafkaProducerConfig(clientProperties)
                        .setBootstrapServers(bootstrapServers())
                        .setRecordSerializer(serializer(topic, type, key))
                        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                        .setTransactionalIdPrefix(prefix)
                        .setProperty("transaction.timeout.ms", String.valueOf(timeout))
                        .build(),
                prefix,
                timeout);
    }

    /**
     * The transactional-id prefix of this job's exactly-once sinks: {@code --transactional-id-prefix}, else
     * {@link #defaultTransactionalIdPrefix} of the job name, the input topic (that of the first input source built;
     * {@code --input-topic} before one is built) and the consumer group. Stable across restarts with the same
     * settings; different for jobs that differ in any of the three.
     */
    public String transactionalIdPrefix() {
        String topic = inputTopic != null ? inputTopic : cfg.get(JobOptions.INPUT_TOPIC, "");
        return cfg.get(JobOptions.TRANSACTIONAL_ID_PREFIX, defaultTransactionalIdPrefix(jobName, topic, groupId()));
    }

    /**
     * {@code exitflow-<job>-<topic>-<hash>}: the topic reduced to at most 40 characters of {@code [A-Za-z0-9._-]}
     * for the reader, and the first 8 hex digits of SHA-256 over job, topic and group for uniqueness.
     */
    public static String defaultTransactionalIdPrefix(String jobName, String topic, String groupId) {
        String readable = topic.replaceAll("[^A-Za-z0-9._-]", "_");
        if (readable.length() > 40) {
            readable = readable.substring(0, 40);
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest((jobName + "\0" + topic + "\0" + groupId).getBytes(StandardCharsets.UTF_8));
            return "exitflow-" + jobName + "-" + readable + "-" + HexFormat.of().formatHex(digest, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
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

    private <T extends SpecificRecord> KafkaRecordSerializationSchema<T> serializer(
            String topic, Class<T> type, RecordKey<T> key) {
        return KafkaRecordSerializationSchema.<T>builder()
                .setTopic(topic)
                .setKeySerializationSchema(record -> {
                    String k = key.apply(record);
                    return k == null ? null : k.getBytes(StandardCharsets.UTF_8);
                })
                .setValueSerializationSchema(new AvroValueSerializer<>(type, topic, schemaRegistry))
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

    // flink-connector-kafka 5.0 takes only Kafka's deprecated OffsetResetStrategy for committed offsets
    @SuppressWarnings("deprecation")
    private OffsetsInitializer startingOffsets() {
        return switch (cfg.get(JobOptions.STARTING_OFFSETS)) {
            case COMMITTED -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
            case EARLIEST -> OffsetsInitializer.earliest();
            case LATEST -> OffsetsInitializer.latest();
        };
    }
}
