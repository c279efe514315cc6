package io.exitflow.jobs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import io.exitflow.jobs.anomaly.SensorAnomalyJob;
import io.exitflow.jobs.common.JobConfig;
import io.exitflow.jobs.common.JobOptions;
import io.exitflow.jobs.demo.EmbeddedKafka;
import io.exitflow.jobs.demo.TopicReader;
import io.exitflow.jobs.simulator.RateSchedule;
import io.exitflow.jobs.simulator.RecordedReadings;
import io.exitflow.jobs.simulator.StreamSimulator;
import io.exitflow.schemas.DeadLetter;
import io.exitflow.schemas.Prediction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real data end to end (issue 9 item 8): BasicMotions' test recordings (a smartwatch's accelerometer and gyroscope,
 * 6 channels at 10 Hz, 4 activities; {@code models/basicmotions-cnn/test-readings.csv} as
 * {@code ./exitflow convert-readings} writes it, in {@code src/test/resources/basicmotions}) replayed by the stream
 * simulator into an in-process KRaft broker, through the anomaly job on a MiniCluster with the bundle
 * {@code models/basicmotions-cnn}: every window the toolkit predicted gets one prediction, with the toolkit's class
 * and exit stage ({@code expected-predictions.csv}, computed by {@code exitflow.predict} with Python ONNX Runtime).
 * Nothing here assumes five classes, three channels, 128/32 windows or 10 ms.
 */
class BasicMotionsJobIT {
    private static final Path BUNDLE = RepoPaths.resolve("models/basicmotions-cnn");
    private static final Path READINGS = RepoPaths.resolve("jobs/src/test/resources/basicmotions/test-readings.avro");

    private static EmbeddedKafka kafka;

    /** One row of expected-predictions.csv. */
    record Expected(
            String sensor, long windowEndMs, String className, int exitStage, String label, boolean nearThreshold) {}

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = EmbeddedKafka.start();
        kafka.createTopics(
                3, "bm-readings", "predictions", "alerts", "dead-letters", "stage-stats", "threshold-updates");
    }

    @AfterAll
    static void stopKafka() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
    }

    static List<Expected> expected() throws Exception {
        CsvMapper mapper = new CsvMapper();
        List<Expected> out = new ArrayList<>();
        try (MappingIterator<Map<String, String>> rows = mapper.readerFor(Map.class)
                .with(CsvSchema.emptySchema().withHeader())
                .readValues(BUNDLE.resolve("expected-predictions.csv").toFile())) {
            while (rows.hasNext()) {
                Map<String, String> r = rows.next();
                out.add(new Expected(
                        r.get("sensor"),
                        Long.parseLong(r.get("window_end_ms")),
                        r.get("class"),
                        Integer.parseInt(r.get("exit_stage")),
                        r.get("label"),
                        Boolean.parseBoolean(r.get("near_threshold"))));
            }
        }
        return out;
    }

    @Test
    void theJobPredictsWhatTheToolkitPredictsForEveryWindow() throws Exception {
        // 1. The simulator replays the recordings once, each rebased to the file's earliest time, in turns.
        RecordedReadings recorded = RecordedReadings.load(READINGS);
        assertEquals(40, recorded.recordings().size());
        assertEquals(6, recorded.channels());
        StreamSimulator.Settings settings = new StreamSimulator.Settings()
                .bootstrapServers(kafka.bootstrapServers())
                .topic("bm-readings")
                .readings(recorded)
                .schedule(RateSchedule.parse("50000"))
                .badShare(0);
        try (StreamSimulator sim = new StreamSimulator(settings, null)) {
            sim.run();
            assertEquals(4000, sim.sent());
        }
        // Where each recording's times moved: the job names a window <sensor>@<end time as sent>.
        long start = recorded.earliestStartMillis();
        Map<String, Long> shift = new HashMap<>();
        recorded.recordings().forEach(r -> shift.put(r.sensorId(), start - r.time(0)));

        // 2. The job, bounded at the input's end (its end releases every window), with the bundle's thresholds.
        Map<ConfigOption<?>, Object> s = new LinkedHashMap<>();
        s.put(JobOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        s.put(JobOptions.BUNDLE, BUNDLE.toString());
        s.put(JobOptions.INPUT_TOPIC, "bm-readings");
        s.put(JobOptions.BOUNDED, true);
        s.put(
                JobOptions.CHECKPOINT_DIR,
                Files.createTempDirectory("bm-ckpt").toUri().toString());
        s.put(JobOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(500));
        s.put(JobOptions.NORMAL_CLASS, "standing"); // the bundle has no class named normal
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, new Configuration());
        SensorAnomalyJob.build(env, JobConfig.of(s));
        env.execute("basicmotions-it");

        // 3. One prediction per expected window, with the toolkit's class and exit stage.
        Map<String, Prediction> byId = new HashMap<>();
        try (TopicReader<Prediction> r = new TopicReader<>(kafka.bootstrapServers(), "predictions", Prediction.class)) {
            for (Prediction p : r.readUntilQuiet(Duration.ofSeconds(3))) {
                assertEquals(null, byId.put(p.getEventId(), p), "duplicate prediction " + p.getEventId());
            }
        }
        List<Expected> expected = expected();
        assertEquals(240, expected.size(), "40 recordings x 6 windows of 50 every 10");
        assertEquals(expected.size(), byId.size(), "one prediction per window");
        int near = 0;
        int correct = 0;
        for (Expected e : expected) {
            String id = e.sensor() + "@" + (e.windowEndMs() + shift.get(e.sensor()));
            Prediction p = byId.get(id);
            assertTrue(p != null, "no prediction for window " + id + " (" + e + ")");
            assertEquals("basicmotions-cnn", p.getModelId());
            assertEquals(e.label(), p.getLabel(), id);
            if (p.getPredictedClass().equals(p.getLabel())) {
                correct++;
            }
            if (e.nearThreshold()) {
                near++; // a score within 1e-4 of its threshold may exit elsewhere on another machine or batch
                continue;
            }
            assertEquals(e.exitStage(), p.getExitStage(), "exit stage of " + id);
            assertEquals(e.className(), p.getPredictedClass(), "class of " + id);
        }
        assertTrue(near <= 5, near + " windows within 1e-4 of a threshold: too many to call this a match");
        assertTrue(correct >= 0.9 * expected.size(), "accuracy " + correct + "/" + expected.size());

        // 4. Nothing went to the dead-letter topic: every reading of the file was usable.
        try (TopicReader<DeadLetter> r =
                new TopicReader<>(kafka.bootstrapServers(), "dead-letters", DeadLetter.class)) {
            assertEquals(List.of(), r.readUntilQuiet(Duration.ofSeconds(1)));
        }
    }
}
