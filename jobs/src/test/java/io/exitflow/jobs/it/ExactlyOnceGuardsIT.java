package io.exitflow.jobs.it;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.jobs.common.DeadLetters;
import io.exitflow.jobs.common.JobConfig;
import io.exitflow.jobs.common.JobLauncher;
import io.exitflow.jobs.common.JobOptions;
import io.exitflow.jobs.common.KafkaIo;
import io.exitflow.jobs.common.RecordValidator;
import io.exitflow.jobs.common.StrictKafkaSink;
import io.exitflow.schemas.DeadLetter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.java.typeutils.EitherTypeInfo;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.types.Either;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.server.common.MetadataVersion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Exactly-once settings that used to lose output silently, against a real broker (in-process KRaft) and a Flink
 * MiniCluster (issue 14, item 3): a transaction timeout above the broker's maximum is refused at start; a
 * transactional-id prefix another running job writes with is refused, leftovers of a crashed run are not; a
 * transaction the broker aborted fails the job instead of being dropped while the checkpoints move on.
 */
class ExactlyOnceGuardsIT {
    /** The broker's transaction.max.timeout.ms in these tests. */
    private static final long BROKER_MAX_TIMEOUT_MS = 120_000;

    private static KafkaClusterTestKit kafka;
    private static MiniCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        kafka = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                        .setCombined(true)
                        .setNumBrokerNodes(1)
                        .setNumControllerNodes(1)
                        .setBootstrapMetadataVersion(MetadataVersion.latestProduction())
                        .build())
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("offsets.topic.num.partitions", "2")
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .setConfigProp("transaction.state.log.num.partitions", "2")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .setConfigProp("auto.create.topics.enable", "false")
                .setConfigProp("transaction.max.timeout.ms", String.valueOf(BROKER_MAX_TIMEOUT_MS))
                // abort timed-out transactions promptly (default every 10 s)
                .setConfigProp("transaction.abort.timed.out.transaction.cleanup.interval.ms", "200")
                .build();
        kafka.format();
        kafka.startup();
        kafka.waitForReadyBrokers();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            List<NewTopic> topics = new ArrayList<>();
            for (String t : List.of("in-a", "out-a", "in-b", "in-slow", "out-slow")) {
                topics.add(new NewTopic(t, 1, (short) 1));
            }
            admin.createTopics(topics).all().get();
        }
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(FreeRestPort.on(conf))
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(4)
                .build());
        cluster.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void aTransactionTimeoutAboveTheBrokersMaximumIsRefusedAtStartNamingTheFlag() {
        JobConfig tooLong =
                settings("in-a", "out-a", Map.of(JobOptions.TRANSACTION_TIMEOUT, Duration.ofMillis(180_000)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> prepare(tooLong));
        assertTrue(
                e.getMessage().contains("--transaction-timeout-ms 180000")
                        && e.getMessage().contains("transaction.max.timeout.ms " + BROKER_MAX_TIMEOUT_MS),
                e.getMessage());

        JobConfig fits = settings("in-a", "out-a", Map.of(JobOptions.TRANSACTION_TIMEOUT, Duration.ofMillis(100_000)));
        assertDoesNotThrow(() -> prepare(fits));
    }

    @Test
    void aPrefixAnotherRunningJobWritesWithIsRefusedAndLeftoversOfACrashedRunAreNot() throws Exception {
        // Job A runs (idle input: its sink still starts a transaction per checkpoint).
        JobConfig a = settings("in-a", "out-a", Map.of());
        StreamExecutionEnvironment envA = prepare(a);
        JobID jobA =
                cluster.submitJob(envA.getStreamGraph().getJobGraph()).get().getJobID();
        try {
            waitUntilRunning(jobA);
            String prefixOfA = new KafkaIo(a, "guard").transactionalIdPrefix();
            waitForTransactionsOf(prefixOfA); // A's sink has started: its transactional ids exist on the broker

            // Job B on another topic, default prefix: its own prefix, so it starts.
            JobConfig b = settings("in-b", "out-a", Map.of());
            assertDoesNotThrow(() -> prepare(b));

            // Job C names A's prefix: refused while A runs.
            JobConfig c = settings("in-b", "out-a", Map.of(JobOptions.TRANSACTIONAL_ID_PREFIX, prefixOfA));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> prepare(c));
            assertTrue(
                    e.getMessage().contains("in use by a running producer")
                            && e.getMessage().contains("--transactional-id-prefix"),
                    e.getMessage());
        } finally {
            cluster.cancelJob(jobA).get(30, TimeUnit.SECONDS);
            waitUntil(jobA, JobStatus.CANCELED);
        }

        // A crashed run leaves an open transaction nobody touches: a restart of A is not refused (a warning).
        String prefixOfA = new KafkaIo(a, "guard").transactionalIdPrefix();
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        p.put("transactional.id", prefixOfA + "-copy-0-999");
        p.put("transaction.timeout.ms", "100000");
        KafkaProducer<byte[], byte[]> crashed =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        crashed.initTransactions();
        crashed.beginTransaction();
        crashed.send(new ProducerRecord<>("out-a", new byte[] {1})).get();
        crashed.close(Duration.ZERO); // no abort: the transaction stays open, as after a crash
        assertDoesNotThrow(() -> prepare(settings("in-a", "out-a", Map.of())));
    }

    @Test
    void aTransactionTheBrokerAbortedFailsTheJobInsteadOfBeingDropped() throws Exception {
        // One record in; the broker aborts its transaction after 1 s; only then the checkpoint that commits it.
        // The checkpoint is triggered by hand once the abort marker is in the output topic: a periodic one could
        // come before the broker's abort when the source is slow to read the record (seen on a loaded machine),
        // and its commit would then succeed. (The start-up checks refuse such settings; this builds the sink
        // directly to see what a commit failure does.)
        Map<ConfigOption<?>, Object> extra = new LinkedHashMap<>();
        extra.put(JobOptions.TRANSACTION_TIMEOUT, Duration.ofMillis(1_000));
        extra.put(JobOptions.CHECKPOINT_INTERVAL, Duration.ofHours(1));
        JobConfig cfg = settings("in-slow", "out-slow", extra);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        build(env, cfg); // no start-up checks: they would refuse the timeout
        JobID job = cluster.submitJob(env.getStreamGraph().getJobGraph()).get().getJobID();
        waitUntilRunning(job);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(
                Map.of("bootstrap.servers", kafka.bootstrapServers()),
                new ByteArraySerializer(),
                new ByteArraySerializer())) {
            DeadLetter record = DeadLetters.of("somewhere", 0, 0L, "test", new byte[] {42}, 0L);
            producer.send(new ProducerRecord<>(
                            "in-slow", AvroCodec.of(DeadLetter.class).encode(record)))
                    .get();
        }
        waitForAbortMarker("out-slow"); // the record, then the broker's abort marker
        cluster.triggerCheckpoint(job);

        // Before StrictKafkaSink the job ran on (one ERROR line, ProducerFencedException) and this timed out.
        JobResult result = cluster.requestJobResult(job).get(60, TimeUnit.SECONDS);
        assertEquals(
                JobStatus.FAILED,
                result.getApplicationStatus().deriveJobStatus(),
                "a transaction that could not be committed must fail the job");
        Throwable t = result.getSerializedThrowable()
                .orElseThrow()
                .deserializeError(getClass().getClassLoader());
        boolean found = false;
        for (Throwable c = t; c != null; c = c.getCause()) {
            found |= c instanceof StrictKafkaSink.CommitFailedException
                    || String.valueOf(c.getMessage()).contains("could not be committed");
        }
        if (!found) {
            fail("the failure must name the lost commit", t);
        }
    }

    /** Settings of a small job with an exactly-once sink of ExitFlow's wiring; {@code extra} wins. */
    private static JobConfig settings(String in, String out, Map<ConfigOption<?>, Object> extra) {
        Map<ConfigOption<?>, Object> s = new LinkedHashMap<>();
        s.put(JobOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        s.put(JobOptions.INPUT_TOPIC, in);
        s.put(JobOptions.PREDICTION_TOPIC, out);
        s.put(JobOptions.STARTING_OFFSETS, "earliest");
        s.put(JobOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(200));
        s.put(JobOptions.CHECKPOINT_TIMEOUT, Duration.ofMillis(20_000));
        s.put(JobOptions.TRANSACTION_TIMEOUT, Duration.ofMillis(100_000));
        s.putAll(extra);
        return JobConfig.of(s);
    }

    /** Builds the small job and runs the start-up checks, as the launcher does before it submits. */
    private static StreamExecutionEnvironment prepare(JobConfig cfg) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        JobLauncher.prepare(env, cfg, ExactlyOnceGuardsIT::build);
        return env;
    }

    /** Input topic to the "prediction" topic through KafkaIo's decoding source and exactly-once sink. */
    private static void build(StreamExecutionEnvironment env, JobConfig cfg) {
        env.enableCheckpointing(cfg.get(JobOptions.CHECKPOINT_INTERVAL).toMillis(), CheckpointingMode.EXACTLY_ONCE);
        env.setParallelism(1);
        KafkaIo io = new KafkaIo(cfg, "guard");
        AvroTypeInfo<DeadLetter> type = new AvroTypeInfo<>(DeadLetter.class);
        env.fromSource(
                        io.decodingSource(
                                cfg.require(JobOptions.INPUT_TOPIC), DeadLetter.class, RecordValidator.acceptAll()),
                        WatermarkStrategy.noWatermarks(),
                        "in",
                        new EitherTypeInfo<>(type, type))
                .map(ExactlyOnceGuardsIT::either, type)
                .sinkTo(io.exactlyOnceSink(
                        cfg.get(JobOptions.PREDICTION_TOPIC), DeadLetter.class, DeadLetter::getSourceTopic, "copy"));
    }

    private static DeadLetter either(Either<DeadLetter, DeadLetter> e) {
        return e.isLeft() ? e.left() : e.right();
    }

    /** Waits until {@code topic} holds a record and, after it, a transaction marker (end offset 2 or more). */
    private static void waitForAbortMarker(String topic) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            while (admin.listOffsets(
                                    Map.of(tp, OffsetSpec.latest()),
                                    new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED))
                            .partitionResult(tp)
                            .get()
                            .offset()
                    < 2) {
                assertTrue(System.nanoTime() < deadline, "the broker did not abort the transaction on " + topic);
                Thread.sleep(100);
            }
        }
    }

    private static void waitForTransactionsOf(String prefix) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            while (true) {
                List<String> ids = admin.listTransactions().all().get().stream()
                        .map(t -> t.transactionalId())
                        .toList();
                if (ids.stream().anyMatch(id -> id.startsWith(prefix + "-"))) {
                    return;
                }
                assertTrue(System.nanoTime() < deadline, "no transaction of " + prefix + " among " + ids);
                Thread.sleep(200);
            }
        }
    }

    private static void waitUntilRunning(JobID job) throws Exception {
        waitUntil(job, JobStatus.RUNNING);
    }

    private static void waitUntil(JobID job, JobStatus status) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (cluster.getJobStatus(job).get() != status) {
            assertTrue(System.nanoTime() < deadline, "job did not reach " + status);
            assertNotEquals(JobStatus.FAILED, cluster.getJobStatus(job).get());
            Thread.sleep(100);
        }
    }
}
