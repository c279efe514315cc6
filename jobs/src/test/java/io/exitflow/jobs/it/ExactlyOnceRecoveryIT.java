package io.exitflow.jobs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.anomaly.SensorAnomalyJob;
import io.exitflow.jobs.common.JobConfig;
import io.exitflow.jobs.common.JobOptions;
import io.exitflow.jobs.demo.EmbeddedKafka;
import io.exitflow.jobs.demo.TopicReader;
import io.exitflow.jobs.simulator.RateSchedule;
import io.exitflow.jobs.simulator.StreamSimulator;
import io.exitflow.schemas.Prediction;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/**
 * Exactly once across a failure: the anomaly job runs on a MiniCluster while the simulator streams; its
 * TaskManager is killed mid-stream, a new one starts, the job restores from its last checkpoint and replays.
 * A read_committed consumer must still see every window's prediction exactly once.
 */
class ExactlyOnceRecoveryIT {
    private static final int SENSORS = 4;
    private static final int READINGS_PER_SENSOR = 2000;

    @Test
    void everyWindowIsPublishedExactlyOnceDespiteATaskManagerCrash() throws Exception {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 5);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(500));
        try (EmbeddedKafka kafka = EmbeddedKafka.start();
                MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                        .setConfiguration(FreeRestPort.on(conf))
                        .setNumTaskManagers(1)
                        .setNumSlotsPerTaskManager(2)
                        .build())) {
            kafka.createTopics(2, "readings", "predictions", "alerts", "dead-letters", "stage-stats");
            cluster.start();

            Map<ConfigOption<?>, Object> s = new LinkedHashMap<>();
            s.put(JobOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
            s.put(JobOptions.BUNDLE, RepoPaths.resolve("models/sensor-cnn").toString());
            s.put(JobOptions.INPUT_TOPIC, "readings");
            s.put(JobOptions.CONTROL_TOPIC, "");
            s.put(JobOptions.STARTING_OFFSETS, "earliest");
            s.put(JobOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(300));
            s.put(
                    JobOptions.CHECKPOINT_DIR,
                    java.nio.file.Files.createTempDirectory("it-ckpt").toUri().toString());
            s.put(JobOptions.PARALLELISM, 2);
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
            SensorAnomalyJob.build(env, JobConfig.of(s));
            JobID job =
                    cluster.submitJob(env.getStreamGraph().getJobGraph()).get().getJobID();

            StreamSimulator.Settings settings = new StreamSimulator.Settings()
                    .bootstrapServers(kafka.bootstrapServers())
                    .topic("readings")
                    .schedule(RateSchedule.parse("2000"))
                    .sensors(SENSORS)
                    .badShare(0)
                    .maxEvents((long) SENSORS * READINGS_PER_SENSOR);
            Set<String> committedAtCrash = new HashSet<>();
            try (StreamSimulator sim = new StreamSimulator(settings, null);
                    TopicReader<Prediction> reader =
                            new TopicReader<>(kafka.bootstrapServers(), "predictions", Prediction.class)) {
                Thread sender = new Thread(sim, "simulator");
                sender.start();
                // Crash once some windows are committed and the input is about half sent.
                while (committedAtCrash.isEmpty() || sim.sent() < SENSORS * READINGS_PER_SENSOR / 2) {
                    reader.poll(Duration.ofMillis(100)).forEach(p -> committedAtCrash.add(p.getEventId()));
                    assertTrue(sender.isAlive() || sim.sent() > 0, "simulator stopped early");
                }
                assertEquals(JobStatus.RUNNING, cluster.getJobStatus(job).get());
                cluster.terminateTaskManager(0).get(30, TimeUnit.SECONDS);
                cluster.startTaskManager();
                sender.join();
            }
            FleetWindows.sendWatermarkFlush(kafka.bootstrapServers(), "readings", SENSORS, READINGS_PER_SENSOR);

            // Every window of the sent readings, exactly once, as a read_committed consumer sees it.
            int expected = SENSORS * ((READINGS_PER_SENSOR - 128) / 32 + 1);
            Map<String, Integer> seen = new HashMap<>();
            try (TopicReader<Prediction> reader =
                    new TopicReader<>(kafka.bootstrapServers(), "predictions", Prediction.class)) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                while (seen.size() < expected && System.nanoTime() < deadline) {
                    for (Prediction p : reader.poll(Duration.ofMillis(200))) {
                        seen.merge(p.getEventId(), 1, Integer::sum);
                    }
                }
                // Anything late (a duplicate from a replay) would arrive within a few more checkpoints.
                for (Prediction p : reader.readUntilQuiet(Duration.ofSeconds(2))) {
                    seen.merge(p.getEventId(), 1, Integer::sum);
                }
            }
            cluster.cancelJob(job).get(30, TimeUnit.SECONDS);

            assertTrue(committedAtCrash.size() < expected, "the crash came before the end of the stream");
            assertEquals(expected, seen.size(), "one prediction per window");
            seen.forEach((id, n) -> assertEquals(1, n, "prediction of " + id + " published " + n + " times"));
            assertTrue(seen.keySet().containsAll(committedAtCrash));
        }
    }
}
