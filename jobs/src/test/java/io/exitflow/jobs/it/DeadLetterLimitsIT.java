package io.exitflow.jobs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.anomaly.SensorReadingValidator;
import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.jobs.common.DeadLetterSplitter;
import io.exitflow.jobs.common.DeadLetters;
import io.exitflow.jobs.common.InferencePipeline;
import io.exitflow.jobs.common.JobConfig;
import io.exitflow.jobs.common.JobOptions;
import io.exitflow.jobs.common.KafkaIo;
import io.exitflow.jobs.demo.EmbeddedKafka;
import io.exitflow.jobs.demo.TopicReader;
import io.exitflow.schemas.DeadLetter;
import io.exitflow.schemas.SensorReading;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dead-letter path against a real in-process KRaft broker at and above its limits: the input topic accepts
 * records of up to 4 MiB, the dead-letter topic and producer keep Kafka's defaults (about 1 MiB). Records far larger
 * than the dead-letter topic accepts, exactly at the payload bound and one byte above it, all become dead letters
 * that the exactly-once sink writes, with the bound set to the largest the default producer allows; the job
 * finishes (no restart is allowed) and every dead letter carries the record's first bytes, its size and SHA-256.
 */
class DeadLetterLimitsIT {
    private static final String INPUT = "big-input";
    private static final String DEAD = "dead-letters";
    /** The largest payload bound the default producer (max.request.size 1 MiB) allows. */
    private static final int BOUND = 1_048_576 - DeadLetters.ENVELOPE_BYTES;

    private static EmbeddedKafka kafka;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = EmbeddedKafka.start();
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (Admin admin = Admin.create(p)) {
            admin.createTopics(List.of(
                            new NewTopic(INPUT, 1, (short) 1)
                                    .configs(Map.of("max.message.bytes", String.valueOf(4 << 20))),
                            new NewTopic(DEAD, 1, (short) 1)))
                    .all()
                    .get();
        }
    }

    @AfterAll
    static void stopKafka() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
    }

    private static Map<ConfigOption<?>, Object> settings() throws Exception {
        Map<ConfigOption<?>, Object> s = new LinkedHashMap<>();
        s.put(JobOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        s.put(JobOptions.BOUNDED, true);
        s.put(JobOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(500));
        s.put(
                JobOptions.CHECKPOINT_DIR,
                Files.createTempDirectory("it-ckpt").toUri().toString());
        s.put(JobOptions.DEAD_LETTER_TOPIC, DEAD);
        return s;
    }

    /** The anomaly job's decoding and dead-letter path (source, splitter, dead-letter sink) on a MiniCluster. */
    private static void build(StreamExecutionEnvironment env, JobConfig cfg) {
        InferencePipeline.configure(env, cfg);
        KafkaIo io = new KafkaIo(cfg, "dead-letter-it");
        SingleOutputStreamOperator<SensorReading> readings = env.fromSource(
                        io.decodingSource(INPUT, SensorReading.class, new SensorReadingValidator(3)),
                        WatermarkStrategy.noWatermarks(),
                        "readings")
                .process(new DeadLetterSplitter<SensorReading>(), new AvroTypeInfo<>(SensorReading.class));
        DeadLetters.sinkTo(readings.getSideOutput(DeadLetters.TAG), cfg, io);
    }

    @Test
    void recordsAtAndAboveEveryLimitBecomeDeadLettersThatFit() throws Exception {
        Random random = new Random(2);
        byte[] garbage3MiB = new byte[3 << 20];
        random.nextBytes(garbage3MiB);
        garbage3MiB[0] = 0x01; // a string length of -1: undecodable at once
        byte[] atBound = Arrays.copyOf(garbage3MiB, BOUND);
        byte[] aboveBound = Arrays.copyOf(garbage3MiB, BOUND + 1);
        // A well-formed reading of 2 MiB (a huge sensor id), invalid for its channel count: kept as read, then cut.
        byte[] bigReading = AvroCodec.of(SensorReading.class)
                .encode(SensorReading.newBuilder()
                        .setSensorId("s".repeat(2 << 20))
                        .setEventTime(Instant.ofEpochMilli(1))
                        .setValues(List.of(1f))
                        .build());
        byte[] small = {1, 2, 3};
        List<byte[]> values = List.of(garbage3MiB, atBound, aboveBound, bigReading, small);

        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(5 << 20));
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (byte[] v : values) {
                producer.send(new ProducerRecord<>(INPUT, v)).get(); // the input topic accepts every one
            }
        }

        Map<ConfigOption<?>, Object> s = settings();
        s.put(JobOptions.DEAD_LETTER_MAX_PAYLOAD_BYTES, BOUND + 1);
        Map<ConfigOption<?>, Object> tooLarge = s;
        IllegalArgumentException refused = assertThrows(
                IllegalArgumentException.class,
                () -> build(StreamExecutionEnvironment.createLocalEnvironment(1), JobConfig.of(tooLarge)));
        assertTrue(
                refused.getMessage().contains("--dead-letter-max-payload-bytes " + (BOUND + 1) + " does not fit"),
                refused.getMessage());

        s.put(JobOptions.DEAD_LETTER_MAX_PAYLOAD_BYTES, BOUND);
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none"); // a sink that throws fails the test
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        build(env, JobConfig.of(s));
        env.execute("dead-letter-limits-it");

        List<DeadLetter> dead;
        try (TopicReader<DeadLetter> r = new TopicReader<>(kafka.bootstrapServers(), DEAD, DeadLetter.class)) {
            dead = r.readUntilQuiet(Duration.ofSeconds(2));
        }
        assertEquals(values.size(), dead.size(), "one dead letter per record");
        Map<Long, DeadLetter> byOffset = new HashMap<>();
        dead.forEach(d -> byOffset.put(d.getOffset(), d));
        for (int i = 0; i < values.size(); i++) {
            byte[] v = values.get(i);
            DeadLetter d = byOffset.get((long) i);
            assertEquals(INPUT, d.getSourceTopic());
            assertEquals(v.length, d.getPayloadSize(), "offset " + i);
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(v), bytes(d.getPayloadSha256()));
            assertArrayEquals(Arrays.copyOf(v, Math.min(v.length, BOUND)), bytes(d.getPayload()), "offset " + i);
        }
        assertTrue(
                byOffset.get(3L).getReason().startsWith("invalid: expected 3 values"),
                byOffset.get(3L).getReason());
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }
}
