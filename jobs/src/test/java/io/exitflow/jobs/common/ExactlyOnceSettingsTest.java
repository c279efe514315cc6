package io.exitflow.jobs.common;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.anomaly.SensorAnomalyJob;
import io.exitflow.jobs.it.RepoPaths;
import io.exitflow.schemas.DeadLetter;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once settings checked while the job is built (issue 14, item 3): a transaction timeout that does not
 * cover the checkpoints is refused, and the default transactional-id prefix differs per job.
 */
class ExactlyOnceSettingsTest {
    @TempDir
    Path dir;

    private String[] anomalyArgs(String... more) {
        return OfflineArgs.of(
                RepoPaths.resolve("models/sensor-cnn").toString(),
                java.util.stream.Stream.concat(
                                java.util.stream.Stream.of(
                                        "--checkpoint-dir", dir.toUri().toString()),
                                java.util.stream.Stream.of(more))
                        .toArray(String[]::new));
    }

    @Test
    void theReportedTimeoutIsRefusedNamingTheFlagsTheRuleAndTheSmallestValue() {
        // The reported case: the job ran, checkpoints completed and nothing was ever committed.
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> SensorAnomalyJob.build(
                        env,
                        JobConfig.parse(
                                anomalyArgs("--transaction-timeout-ms", "2000", "--checkpoint-interval-ms", "30000"),
                                new Configuration())));
        String m = e.getMessage();
        assertTrue(
                m.contains("--transaction-timeout-ms 2000")
                        && m.contains("--checkpoint-interval-ms 30000")
                        && m.contains("--checkpoint-timeout-ms 120000")
                        && m.contains("= 150000 ms"),
                m);
        assertTrue(m.contains("at least 225000"), m); // 150 s open + max(60 s, 75 s) margin
    }

    @Test
    void theDefaultsPass() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
        assertDoesNotThrow(() -> SensorAnomalyJob.build(env, JobConfig.parse(anomalyArgs(), new Configuration())));
        assertEquals(120_000, env.getCheckpointConfig().getCheckpointTimeout());
        assertTrue(JobOptions.TRANSACTION_TIMEOUT.defaultValue().toMillis()
                >= ExactlyOnceCheck.minTransactionTimeoutMs(
                        JobOptions.CHECKPOINT_INTERVAL.defaultValue().toMillis(),
                        JobOptions.CHECKPOINT_TIMEOUT.defaultValue().toMillis(),
                        0));
    }

    @Test
    void theRuleCountsToleratedFailedCheckpointsAndKeepsAtLeastAMinuteOfMargin() {
        assertEquals(5_000 + 120_000 + 62_500, ExactlyOnceCheck.minTransactionTimeoutMs(5_000, 120_000, 0));
        assertEquals(1_000 + 10_000 + 60_000, ExactlyOnceCheck.minTransactionTimeoutMs(1_000, 10_000, 0));
        assertEquals(3 * 125_000 + 3 * 125_000 / 2, ExactlyOnceCheck.minTransactionTimeoutMs(5_000, 120_000, 2));
        assertTrue(ExactlyOnceCheck.minTransactionTimeoutMs(5_000, 120_000, Integer.MAX_VALUE) > 900_000);
        assertEquals(
                Long.MAX_VALUE, ExactlyOnceCheck.minTransactionTimeoutMs(Long.MAX_VALUE / 2, Long.MAX_VALUE / 2, 1));

        // A cluster that tolerates failed checkpoints keeps transactions open longer: the defaults no longer fit.
        Configuration cluster = new Configuration();
        cluster.set(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER, 3);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(cluster);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> SensorAnomalyJob.build(env, JobConfig.parse(anomalyArgs(), cluster)));
        assertTrue(e.getMessage().contains("tolerable-failed-checkpoints 3"), e.getMessage());
    }

    @Test
    void jobsOnDifferentTopicsGetDifferentPrefixesAndOneJobAlwaysTheSame() {
        // The reported case: three anomaly jobs on one cluster, different topics, default prefix.
        Set<String> prefixes = new HashSet<>();
        for (String topic : List.of("plant-a", "plant-b", "plant-c")) {
            String p = prefixOf("--input-topic", topic);
            assertTrue(p.startsWith("exitflow-anomaly-" + topic + "-"), p);
            assertTrue(p.matches("[A-Za-z0-9._-]+"), p);
            assertEquals(p, prefixOf("--input-topic", topic), "stable across restarts");
            prefixes.add(p);
        }
        assertEquals(3, prefixes.size());
        assertNotEquals(prefixOf("--input-topic", "x"), prefixOf("--input-topic", "x", "--group-id", "other"));
        assertNotEquals(
                KafkaIo.defaultTransactionalIdPrefix("anomaly", "x", "g"),
                KafkaIo.defaultTransactionalIdPrefix("classification", "x", "g"));
        assertEquals("mine", prefixOf("--input-topic", "x", "--transactional-id-prefix", "mine"));
        String odd = KafkaIo.defaultTransactionalIdPrefix("anomaly", "a/b c".repeat(20), "g");
        assertTrue(odd.matches("exitflow-anomaly-[A-Za-z0-9._-]{40}-[0-9a-f]{8}"), odd);
    }

    @Test
    void onlyTheSinksOwnTransactionalIdsCount() {
        Set<String> ours = Set.of("exitflow-anomaly-in-0a1b2c3d-predictions");
        assertTrue(ExactlyOnceCheck.usesPrefix("exitflow-anomaly-in-0a1b2c3d-predictions-0-17", ours));
        assertTrue(ExactlyOnceCheck.usesPrefix("exitflow-anomaly-in-0a1b2c3d-predictions-11-1", ours));
        assertFalse(ExactlyOnceCheck.usesPrefix("exitflow-anomaly-in-0a1b2c3d-predictions-x-0-1", ours));
        assertFalse(ExactlyOnceCheck.usesPrefix("exitflow-anomaly-in-0a1b2c3d-predictions", ours));
        assertFalse(ExactlyOnceCheck.usesPrefix("exitflow-anomaly-in-0a1b2c3d-alerts-0-1", ours));
    }

    private String prefixOf(String... args) {
        List<String> a = new java.util.ArrayList<>(List.of("--bootstrap-servers", OfflineArgs.NO_BROKER));
        a.addAll(List.of(args));
        JobConfig cfg = JobConfig.parse(a.toArray(String[]::new), new Configuration());
        KafkaIo io = new KafkaIo(cfg, SensorAnomalyJob.NAME);
        io.decodingSource(cfg.get(JobOptions.INPUT_TOPIC), DeadLetter.class, RecordValidator.acceptAll());
        return io.transactionalIdPrefix();
    }
}
