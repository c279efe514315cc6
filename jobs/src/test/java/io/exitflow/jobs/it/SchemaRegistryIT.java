package io.exitflow.jobs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.anomaly.SensorAnomalyJob;
import io.exitflow.jobs.common.JobConfig;
import io.exitflow.jobs.common.JobOptions;
import io.exitflow.jobs.common.RecordDecoder;
import io.exitflow.jobs.common.SchemaRegistryConnection;
import io.exitflow.jobs.common.SchemaRegistrySettings;
import io.exitflow.jobs.demo.EmbeddedKafka;
import io.exitflow.jobs.demo.EmbeddedSchemaRegistry;
import io.exitflow.jobs.simulator.SensorFleet;
import io.exitflow.schemas.DeadLetter;
import io.exitflow.schemas.SensorReading;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.avro.JsonProperties;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.flink.avro.registry.confluent.shaded.io.confluent.kafka.schemaregistry.client.CachedSchemaRegistryClient;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The schema registry wire format end to end, with a real registry (Apicurio Registry as its own process, through its
 * Confluent-compatible API) and the in-process KRaft broker: the anomaly job reads readings of an evolved producer
 * schema (a field added, a field with a default missing), dead-letters an unknown schema id and a schema that cannot
 * be resolved with the id and the reason, writes outputs that a registry-aware consumer reads by id, and loses
 * nothing when the registry is down and restarted while the job needs a schema.
 */
class SchemaRegistryIT {
    private static final int SENSORS = 2;
    private static final int READINGS_PER_SENSOR = 320;

    private static EmbeddedKafka kafka;
    private static EmbeddedSchemaRegistry registry;

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.start();
        registry = EmbeddedSchemaRegistry.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (registry != null) {
            registry.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    /** SensorReading as a newer producer writes it: with an added optional field, without {@code severity}. */
    private static Schema evolvedReading(String addedField) {
        Schema reader = SensorReading.getClassSchema();
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : reader.getFields()) {
            if (!f.name().equals("severity")) {
                fields.add(new Schema.Field(f, f.schema()));
            }
        }
        fields.add(new Schema.Field(
                addedField,
                Schema.createUnion(Schema.create(Schema.Type.NULL), Schema.create(Schema.Type.STRING)),
                "added by a newer producer",
                JsonProperties.NULL_VALUE));
        return Schema.createRecord(reader.getName(), reader.getDoc(), reader.getNamespace(), false, fields);
    }

    private static byte[] framed(int id, Schema writer, GenericRecord record) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(id).array());
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(writer).write(record, enc);
        enc.flush();
        return out.toByteArray();
    }

    private static GenericRecord asWriter(SensorReading r, Schema writer, String addedField) {
        GenericRecord g = new GenericData.Record(writer);
        g.put("sensorId", r.getSensorId());
        g.put("eventTime", r.getEventTime().toEpochMilli());
        g.put("values", r.getValues());
        g.put("label", r.getLabel());
        g.put(addedField, "fw-2.1");
        return g;
    }

    /**
     * The dataset's readings of {@link #SENSORS} sensors in the evolved schema {@code id}, then one reading per sensor
     * far ahead that releases the last windows; returns the labels of the windows they make.
     */
    private static Map<String, String> sendReadings(
            String topic, int id, Schema writer, String addedField, List<byte[]> extra) throws Exception {
        List<SensorReading> all = fleetReadings();
        send(topic, all, id, writer, addedField);
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            for (byte[] bad : extra) {
                producer.send(new ProducerRecord<>(topic, null, bad));
            }
        }
        send(topic, flushReadings(), id, writer, addedField);
        return FleetWindows.labels(SENSORS, all.size());
    }

    /** The dataset's first {@link #READINGS_PER_SENSOR} readings of each of {@link #SENSORS} sensors, in turns. */
    private static List<SensorReading> fleetReadings() {
        SensorFleet fleet =
                new SensorFleet("test", SENSORS, SensorFleet.DATASET_SEED, SensorFleet.DATASET_START_MILLIS);
        List<SensorReading> out = new ArrayList<>();
        for (int i = 0; i < SENSORS * READINGS_PER_SENSOR; i++) {
            out.add(fleet.next());
        }
        return out;
    }

    /** One reading per sensor far ahead of {@link #fleetReadings}: it releases their last windows. */
    private static List<SensorReading> flushReadings() {
        long later = SensorFleet.DATASET_START_MILLIS + 10L * READINGS_PER_SENSOR * FleetWindows.SAMPLE_PERIOD_MS;
        List<SensorReading> out = new ArrayList<>();
        for (int i = 0; i < SENSORS; i++) {
            out.add(SensorReading.newBuilder()
                    .setSensorId(String.format(Locale.ROOT, "test-%03d", i))
                    .setEventTime(java.time.Instant.ofEpochMilli(later))
                    .setValues(List.of(0f, 0f, 0f))
                    .setLabel(null)
                    .setSeverity(null)
                    .build());
        }
        return out;
    }

    /** Sends {@code readings} keyed by sensor, each in the writer schema {@code id}, and waits for the acks. */
    private static void send(String topic, List<SensorReading> readings, int id, Schema writer, String addedField)
            throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            for (SensorReading r : readings) {
                producer.send(new ProducerRecord<>(
                        topic,
                        r.getSensorId().getBytes(StandardCharsets.UTF_8),
                        framed(id, writer, asWriter(r, writer, addedField))));
            }
            producer.flush();
        }
    }

    private static KafkaProducer<byte[], byte[]> producer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    private static Map<ConfigOption<?>, Object> jobSettings(String in, String suffix) throws Exception {
        Map<ConfigOption<?>, Object> s = new LinkedHashMap<>();
        s.put(JobOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        s.put(JobOptions.BUNDLE, RepoPaths.resolve("models/sensor-cnn").toString());
        s.put(JobOptions.INPUT_TOPIC, in);
        s.put(JobOptions.PREDICTION_TOPIC, "predictions" + suffix);
        s.put(JobOptions.ALERT_TOPIC, "alerts" + suffix);
        s.put(JobOptions.DEAD_LETTER_TOPIC, "dead-letters" + suffix);
        s.put(JobOptions.STATS_TOPIC, "stage-stats" + suffix);
        s.put(JobOptions.CONTROL_TOPIC, "");
        s.put(JobOptions.BOUNDED, true);
        s.put(
                JobOptions.CHECKPOINT_DIR,
                java.nio.file.Files.createTempDirectory("it-ckpt").toUri().toString());
        s.put(JobOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(500));
        s.put(JobOptions.SCHEMA_REGISTRY_URL, registry.url());
        return s;
    }

    private static KafkaConsumer<byte[], byte[]> consumer(String isolation) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        return new KafkaConsumer<>(p);
    }

    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> c, String topic) {
        return c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(i -> new TopicPartition(topic, i.partition()))
                .toList();
    }

    /**
     * Every committed value of {@code topic}, raw: read from the beginning up to the end a {@code read_committed}
     * consumer sees now (each partition's last stable offset), however long the first fetch takes on a loaded
     * machine. (The first version stopped at the first poll that returned nothing within 2 s, which on a loaded
     * machine can be the very first one: an empty read of a topic that holds every record.)
     */
    private static List<byte[]> readRaw(String topic) {
        List<byte[]> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = consumer("read_committed")) {
            List<TopicPartition> parts = partitions(c, topic);
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (parts.stream().anyMatch(tp -> c.position(tp, Duration.ofSeconds(30)) < end.get(tp))) {
                assertTrue(System.nanoTime() < deadline, topic + ": end offsets " + end + " not reached in 60 s");
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    out.add(r.value());
                }
            }
        }
        return out;
    }

    /**
     * Fails when a transaction on {@code topic} is still open: its records, and every committed record after them,
     * stay invisible to {@code read_committed} consumers until the broker aborts it (transaction timeout).
     */
    private static void assertNoOpenTransaction(String topic) {
        try (KafkaConsumer<byte[], byte[]> committed = consumer("read_committed");
                KafkaConsumer<byte[], byte[]> all = consumer("read_uncommitted")) {
            List<TopicPartition> parts = partitions(committed, topic);
            assertEquals(
                    all.endOffsets(parts, Duration.ofSeconds(30)),
                    committed.endOffsets(parts, Duration.ofSeconds(30)),
                    topic + ": last stable offsets (read_committed) behind the log ends: a "
                            + "transaction is still open");
        }
    }

    /**
     * Predictions as a registry-aware consumer reads them, with Confluent's client and Avro's generic reader only:
     * magic byte, schema id, the writer's schema fetched by that id.
     */
    private static List<GenericRecord> readPredictionsByRegistry(String topic) throws Exception {
        CachedSchemaRegistryClient client = new CachedSchemaRegistryClient(List.of(registry.url()), 100);
        List<GenericRecord> out = new ArrayList<>();
        for (byte[] v : readRaw(topic)) {
            assertEquals(0, v[0], "magic byte");
            int id = ByteBuffer.wrap(v, 1, 4).getInt();
            Schema writer = new Schema.Parser().parse(client.getSchemaById(id).canonicalString());
            out.add(new GenericDatumReader<GenericRecord>(writer)
                    .read(null, DecoderFactory.get().binaryDecoder(v, 5, v.length - 5, null)));
        }
        assertTrue(
                client.getAllSubjects().contains(topic + "-value"),
                client.getAllSubjects().toString());
        return out;
    }

    private static List<DeadLetter> deadLetters(String topic) throws Exception {
        RecordDecoder<DeadLetter> decoder =
                new RecordDecoder<>(DeadLetter.class, SchemaRegistrySettings.of(registry.url()));
        List<DeadLetter> out = new ArrayList<>();
        for (byte[] v : readRaw(topic)) {
            out.add(decoder.decode(v));
        }
        decoder.close();
        return out;
    }

    private static void assertEveryWindowOnce(Map<String, String> expected, List<GenericRecord> predictions) {
        Set<String> ids = new HashSet<>();
        for (GenericRecord p : predictions) {
            String id = p.get("eventId").toString();
            assertTrue(ids.add(id), "duplicate " + id);
            assertEquals(
                    expected.get(id),
                    p.get("label") == null ? null : p.get("label").toString(),
                    id);
        }
        assertEquals(expected.keySet(), ids);
    }

    @Test
    void evolvedProducerSchemaDecodesAndUnknownOrIncompatibleSchemasAreDeadLettered() throws Exception {
        kafka.createTopics(2, "readings-a", "predictions-a", "alerts-a", "dead-letters-a", "stage-stats-a");
        Schema evolved = evolvedReading("firmware");
        Schema incompatible = Schema.createRecord(
                "SensorReading",
                null,
                SensorReading.getClassSchema().getNamespace(),
                false,
                List.of(
                        new Schema.Field("sensorId", Schema.create(Schema.Type.STRING)),
                        new Schema.Field("eventTime", Schema.create(Schema.Type.STRING))));
        int evolvedId;
        int incompatibleId;
        try (SchemaRegistryConnection c =
                new SchemaRegistryConnection(SchemaRegistrySettings.of(registry.url()), null)) {
            evolvedId = c.idOf("readings-a-value", evolved);
            incompatibleId = c.idOf("other-producer-value", incompatible);
        }
        GenericRecord wrong = new GenericData.Record(incompatible);
        wrong.put("sensorId", "test-000");
        wrong.put("eventTime", "yesterday");
        int unknownId = 987654;
        List<byte[]> bad = List.of(
                framed(
                        unknownId,
                        evolved,
                        asWriter(
                                new SensorFleet("test", 1, SensorFleet.DATASET_SEED, SensorFleet.DATASET_START_MILLIS)
                                        .next(),
                                evolved,
                                "firmware")),
                framed(incompatibleId, incompatible, wrong));
        Map<String, String> expected = sendReadings("readings-a", evolvedId, evolved, "firmware", bad);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, new Configuration());
        SensorAnomalyJob.build(env, JobConfig.of(jobSettings("readings-a", "-a")));
        env.execute("registry-it-evolved");

        assertEveryWindowOnce(expected, readPredictionsByRegistry("predictions-a"));
        List<String> reasons = deadLetters("dead-letters-a").stream()
                .map(DeadLetter::getReason)
                .sorted()
                .toList();
        assertEquals(2, reasons.size(), reasons.toString());
        assertTrue(
                reasons.stream().anyMatch(r -> r.contains("schema id " + unknownId + " unknown to the registry")),
                reasons.toString());
        assertTrue(
                reasons.stream()
                        .anyMatch(r -> r.contains("schema id " + incompatibleId) && r.contains("cannot be resolved")),
                reasons.toString());
    }

    /** Sum of the job's metric {@code name} over every operator that has it (counters and gauges). */
    private static long jobMetric(InMemoryReporter reporter, JobClient job, String name) {
        long sum = 0;
        for (Metric m : reporter.findMetrics(job.getJobID(), name).values()) {
            sum += m instanceof Counter c ? c.getCount() : ((Number) ((Gauge<?>) m).getValue()).longValue();
        }
        return sum;
    }

    /**
     * Waits until the job's sources or sinks show the outage in their metrics: requests retried and an outage
     * under way ({@link SchemaRegistryConnection#RETRIES_METRIC}, {@link SchemaRegistryConnection#OUTAGE_METRIC}).
     */
    private static void awaitOutageInMetrics(InMemoryReporter reporter, JobClient job) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (jobMetric(reporter, job, SchemaRegistryConnection.RETRIES_METRIC) == 0
                || jobMetric(reporter, job, SchemaRegistryConnection.OUTAGE_METRIC) == 0) {
            assertTrue(System.nanoTime() < deadline, "no retries in the job's metrics after 60 s of registry outage");
            assertFalse(job.getJobStatus().get().isGloballyTerminalState(), "the job waits for the registry");
            Thread.sleep(200);
        }
    }

    /**
     * The registry is down when the job starts: its sinks (resolving their schema ids as they open) and its source
     * (fetching the readings' writer schema) wait, retry and count it; after the restart the bounded job reads its
     * input to the end and every window is answered exactly once, nothing dead-lettered, no transaction left open.
     */
    @Test
    void registryDownWhileTheJobStartsLosesNothing() throws Exception {
        kafka.createTopics(2, "readings-b", "predictions-b", "alerts-b", "dead-letters-b", "stage-stats-b");
        Schema evolved = evolvedReading("site");
        int id;
        try (SchemaRegistryConnection c =
                new SchemaRegistryConnection(SchemaRegistrySettings.of(registry.url()), null)) {
            id = c.idOf("readings-b-value", evolved);
        }
        Map<String, String> expected = sendReadings("readings-b", id, evolved, "site", List.of());

        registry.stop();
        InMemoryReporter reporter = InMemoryReporter.create();
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironment(2, reporter.addToConfiguration(new Configuration()));
        SensorAnomalyJob.build(env, JobConfig.of(jobSettings("readings-b", "-b")));
        JobClient job = env.executeAsync("registry-it-outage-at-start");
        awaitOutageInMetrics(reporter, job);
        registry.restart();
        job.getJobExecutionResult().get(180, TimeUnit.SECONDS);

        assertNoOpenTransaction("predictions-b");
        assertNoOpenTransaction("dead-letters-b");
        assertEveryWindowOnce(expected, readPredictionsByRegistry("predictions-b"));
        assertEquals(List.of(), deadLetters("dead-letters-b"), "nothing dead-lettered for the outage");
    }

    /**
     * The registry stops mid-stream: the job runs (unbounded) with its schemas cached and has answered windows of the
     * first half of the readings, when the rest arrives written by a newer producer under a schema id the job has
     * not seen. The source waits for the registry (metrics show it), and after the restart every window of the
     * whole input is answered exactly once, nothing dead-lettered.
     */
    @Test
    void registryRestartMidStreamLosesNothing() throws Exception {
        kafka.createTopics(2, "readings-c", "predictions-c", "alerts-c", "dead-letters-c", "stage-stats-c");
        Schema older = evolvedReading("site");
        Schema newer = evolvedReading("firmware");
        int olderId;
        int newerId;
        try (SchemaRegistryConnection c =
                new SchemaRegistryConnection(SchemaRegistrySettings.of(registry.url()), null)) {
            olderId = c.idOf("readings-c-value", older);
            newerId = c.idOf("readings-c-value", newer);
        }
        assertTrue(olderId != newerId, "two schemas, two ids");
        List<SensorReading> readings = fleetReadings();
        Map<String, String> expected = FleetWindows.labels(SENSORS, readings.size());
        int half = readings.size() / 2;
        send("readings-c", readings.subList(0, half), olderId, older, "site");

        Map<ConfigOption<?>, Object> settings = jobSettings("readings-c", "-c");
        settings.put(JobOptions.BOUNDED, false);
        settings.put(JobOptions.STARTING_OFFSETS, "earliest");
        settings.put(JobOptions.IDLE_TIMEOUT, Duration.ofMillis(1000));
        InMemoryReporter reporter = InMemoryReporter.create();
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironment(2, reporter.addToConfiguration(new Configuration()));
        SensorAnomalyJob.build(env, JobConfig.of(settings));
        JobClient job = env.executeAsync("registry-it-restart-mid-stream");
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (readRaw("predictions-c").isEmpty()) {
                assertTrue(System.nanoTime() < deadline, "no prediction of the first half within 120 s");
                assertFalse(job.getJobStatus().get().isGloballyTerminalState(), "job ended");
                Thread.sleep(500);
            }
            assertEquals(0, jobMetric(reporter, job, SchemaRegistryConnection.RETRIES_METRIC), "no outage yet");

            registry.stop();
            List<SensorReading> rest = new ArrayList<>(readings.subList(half, readings.size()));
            rest.addAll(flushReadings());
            send("readings-c", rest, newerId, newer, "firmware");
            awaitOutageInMetrics(reporter, job);
            registry.restart();

            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (readRaw("predictions-c").size() < expected.size()) {
                assertTrue(System.nanoTime() < deadline, "not every window answered within 120 s of the restart");
                assertFalse(job.getJobStatus().get().isGloballyTerminalState(), "job ended");
                Thread.sleep(500);
            }
            assertEquals(0, jobMetric(reporter, job, SchemaRegistryConnection.OUTAGE_METRIC), "outage over");
        } finally {
            job.cancel().get(60, TimeUnit.SECONDS);
        }
        assertEveryWindowOnce(expected, readPredictionsByRegistry("predictions-c"));
        assertEquals(List.of(), deadLetters("dead-letters-c"), "nothing dead-lettered for the outage");
    }
}
