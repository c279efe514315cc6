package io.exitflow.jobs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.anomaly.SensorAnomalyJob;
import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.jobs.common.JobConfig;
import io.exitflow.jobs.common.JobOptions;
import io.exitflow.jobs.demo.EmbeddedKafka;
import io.exitflow.jobs.demo.TopicReader;
import io.exitflow.jobs.simulator.RateSchedule;
import io.exitflow.jobs.simulator.StreamSimulator;
import io.exitflow.schemas.Alert;
import io.exitflow.schemas.DeadLetter;
import io.exitflow.schemas.Prediction;
import io.exitflow.schemas.SensorReading;
import io.exitflow.schemas.StageStats;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The anomaly job end to end: an in-process KRaft broker, the stream simulator, and the job on a local Flink
 * MiniCluster with the bundled sensor-cnn model, exactly-once sinks and checkpoints; bounded input so the job
 * finishes and its final checkpoint commits everything.
 */
class SensorAnomalyJobIT {
    private static final int SENSORS = 4;
    private static final int READINGS_PER_SENSOR = 700;
    private static final double ALERT_MIN = 0.8;

    private static EmbeddedKafka kafka;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = EmbeddedKafka.start();
        kafka.createTopics(2, "readings", "predictions", "alerts", "dead-letters", "stage-stats", "threshold-updates");
    }

    @AfterAll
    static void stopKafka() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void classifiesWindowsDeadLettersBadRecordsAndPublishesExactlyOnce() throws Exception {
        // 1. The simulator sends the dataset's test-split readings plus a share of bad records.
        StreamSimulator.Settings settings = new StreamSimulator.Settings()
                .bootstrapServers(kafka.bootstrapServers())
                .topic("readings")
                .schedule(RateSchedule.parse("50000"))
                .sensors(SENSORS)
                .badShare(0.02)
                .maxEvents((long) SENSORS * READINGS_PER_SENSOR);
        long badSent;
        try (StreamSimulator sim = new StreamSimulator(settings, null)) {
            sim.run();
            assertEquals((long) SENSORS * READINGS_PER_SENSOR, sim.sent());
            badSent = sim.badSent();
        }
        assertTrue(badSent > 0, "the seeded simulator sends some bad records");

        // 2. The job, bounded at the input's current end, on a local MiniCluster of parallelism 2.
        Map<ConfigOption<?>, Object> s = new LinkedHashMap<>();
        s.put(JobOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        s.put(JobOptions.BUNDLE, RepoPaths.resolve("models/sensor-cnn").toString());
        s.put(JobOptions.INPUT_TOPIC, "readings");
        s.put(JobOptions.BOUNDED, true);
        s.put(
                JobOptions.CHECKPOINT_DIR,
                java.nio.file.Files.createTempDirectory("it-ckpt").toUri().toString());
        s.put(JobOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(500));
        s.put(JobOptions.ALERT_MIN_PROBABILITY, ALERT_MIN);
        s.put(JobOptions.FULL_DEPTH_SAMPLE_RATE, 0.1);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, new Configuration());
        SensorAnomalyJob.build(env, JobConfig.of(s));
        env.execute("anomaly-it");

        // 3. Expected windows: cut with the dataset's definition from the same readings.
        Map<String, String> expectedLabels = FleetWindows.labels(SENSORS, (long) SENSORS * READINGS_PER_SENSOR);

        // 4. Predictions: every window exactly once (read_committed), labels carried through.
        List<Prediction> predictions;
        try (TopicReader<Prediction> r = new TopicReader<>(kafka.bootstrapServers(), "predictions", Prediction.class)) {
            predictions = r.readUntilQuiet(Duration.ofSeconds(3));
        }
        Set<String> ids = new HashSet<>();
        int correct = 0;
        for (Prediction p : predictions) {
            assertTrue(ids.add(p.getEventId()), "duplicate prediction " + p.getEventId());
            assertTrue(expectedLabels.containsKey(p.getEventId()), "unexpected window " + p.getEventId());
            assertEquals(expectedLabels.get(p.getEventId()), p.getLabel(), p.getEventId());
            assertEquals("sensor-cnn", p.getModelId());
            assertTrue(p.getExitStage() >= 0 && p.getExitStage() < 4);
            if (p.getPredictedClass().equals(p.getLabel())) {
                correct++;
            }
        }
        assertEquals(expectedLabels.keySet(), ids, "one prediction per window");
        double accuracy = correct / (double) predictions.size();
        assertTrue(accuracy > 0.6, "accuracy " + accuracy + " on " + predictions.size() + " windows");

        // 5. Dead letters: exactly the bad records, with their Kafka position and raw bytes.
        List<DeadLetter> dead;
        try (TopicReader<DeadLetter> r =
                new TopicReader<>(kafka.bootstrapServers(), "dead-letters", DeadLetter.class)) {
            dead = r.readUntilQuiet(Duration.ofSeconds(2));
        }
        assertEquals(badSent, dead.size());
        AvroCodec<SensorReading> codec = AvroCodec.of(SensorReading.class);
        Set<String> positions = new HashSet<>();
        for (DeadLetter d : dead) {
            assertEquals("readings", d.getSourceTopic());
            assertTrue(d.getReason().startsWith("undecodable") || d.getReason().startsWith("invalid"), d.getReason());
            assertTrue(d.getPartition() >= 0 && d.getOffset() >= 0);
            assertTrue(positions.add(d.getPartition() + ":" + d.getOffset()), "dead letter twice");
            assertTrue(d.getPayload().remaining() > 0);
            if (d.getReason().startsWith("invalid")) {
                codec.decode(d.getPayload().array()); // the raw record is kept as read
            }
        }

        // 6. Alerts: exactly the confident non-normal predictions.
        List<Alert> alerts;
        try (TopicReader<Alert> r = new TopicReader<>(kafka.bootstrapServers(), "alerts", Alert.class)) {
            alerts = r.readUntilQuiet(Duration.ofSeconds(2));
        }
        long expectedAlerts = predictions.stream()
                .filter(p -> !p.getPredictedClass().equals("normal") && p.getProbability() >= ALERT_MIN)
                .count();
        assertTrue(expectedAlerts > 0, "the test split has confident faults");
        assertEquals(expectedAlerts, alerts.size());

        // 7. Stage stats flowed (the controller's measurement).
        List<StageStats> stats;
        try (TopicReader<StageStats> r = new TopicReader<>(kafka.bootstrapServers(), "stage-stats", StageStats.class)) {
            stats = r.readUntilQuiet(Duration.ofSeconds(2));
        }
        assertTrue(stats.stream().mapToLong(StageStats::getArrivals).sum() > 0, "stage stats published");
    }
}
