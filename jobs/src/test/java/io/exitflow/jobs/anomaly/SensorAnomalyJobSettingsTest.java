package io.exitflow.jobs.anomaly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.common.JobConfig;
import io.exitflow.jobs.common.OfflineArgs;
import io.exitflow.jobs.it.RepoPaths;
import io.exitflow.runtime.manifest.Manifest;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/** The anomaly job's window and alert settings, resolved against the bundle at start. */
class SensorAnomalyJobSettingsTest {
    private static Manifest manifest(int size, int slide, int channels, double periodMs) {
        return manifest(size, slide, channels, periodMs, null);
    }

    /** A sensor-window manifest; {@code maxGapMs} null as in format 1. */
    private static Manifest manifest(int size, int slide, int channels, double periodMs, Double maxGapMs) {
        Manifest.Input in = new Manifest.Input(
                List.of(channels, size),
                "channels_first",
                null,
                null,
                new Manifest.Window(size, slide, periodMs, maxGapMs));
        return new Manifest(1, "m", "v", "sensor-window", List.of("normal", "fault"), in, 0, List.of(), null, null);
    }

    private static JobConfig cfg(String... args) {
        return JobConfig.parse(OfflineArgs.of("b", args), new Configuration());
    }

    @Test
    void maxGapDefaultsToTheBundlesGapOrAToleranceOfItsPeriodAndTheCapToTheWaitingTime() {
        WindowSpec spec = SensorAnomalyJob.windowSpec(manifest(128, 32, 3, 10), cfg());
        assertEquals(32, spec.maxGapMillis());
        assertEquals(10.0, spec.samplePeriodMs());
        assertEquals(256, spec.maxWaitingReadings());
        WindowSpec slow = SensorAnomalyJob.windowSpec(manifest(64, 16, 6, 40), cfg());
        assertEquals(124, slow.maxGapMillis()); // 120 + 4
        assertEquals(128, slow.maxWaitingReadings());
        // a fractional period (32 Hz): 93.75 + 3.125, rounded up
        assertEquals(
                97,
                SensorAnomalyJob.windowSpec(manifest(64, 16, 3, 31.25), cfg()).maxGapMillis());
        // format 2: the gap the toolkit cut the training windows with
        assertEquals(
                100,
                SensorAnomalyJob.windowSpec(manifest(64, 16, 3, 31.25, 100.5), cfg())
                        .maxGapMillis());
        // a fast sensor with a long drift: 2 x (200 + 5000) ms of readings at 1 ms
        assertEquals(
                10_400,
                SensorAnomalyJob.windowSpec(manifest(128, 32, 3, 1), cfg("--watermark-max-drift-ms", "5000"))
                        .maxWaitingReadings());
    }

    @Test
    void settingsOverrideTheDefaultsAndBadValuesFailAtStart() {
        WindowSpec spec = SensorAnomalyJob.windowSpec(
                manifest(128, 32, 3, 10), cfg("--max-gap-ms", "45", "--max-waiting-readings", "1000"));
        assertEquals(45, spec.maxGapMillis());
        assertEquals(1000, spec.maxWaitingReadings());
        for (String[] bad :
                new String[][] {{"--max-gap-ms", "0"}, {"--max-waiting-readings", "-1"}, {"--allowed-lateness-ms", "-5"}
                }) {
            String msg = assertThrows(
                            IllegalArgumentException.class,
                            () -> SensorAnomalyJob.windowSpec(manifest(128, 32, 3, 10), cfg(bad)))
                    .getMessage();
            assertTrue(msg.contains(bad[0]), msg);
        }
        String msg = assertThrows(
                        IllegalArgumentException.class,
                        () -> SensorAnomalyJob.watermarks(cfg("--watermark-max-drift-ms", "-1"), "t"))
                .getMessage();
        assertTrue(msg.contains("--watermark-max-drift-ms"), msg);
        SensorAnomalyJob.watermarks(cfg("--watermark-max-drift-ms", "0"), "t"); // alignment off
    }

    @Test
    void theJobRefusesAnAlertClassTheBundleDoesNotHaveBeforeItStarts() {
        String bundle = RepoPaths.resolve("models/sensor-cnn").toString();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
        String msg = assertThrows(
                        IllegalArgumentException.class,
                        () -> SensorAnomalyJob.build(
                                env,
                                JobConfig.parse(
                                        OfflineArgs.of(bundle, "--normal-class", "healthy"), new Configuration())))
                .getMessage();
        assertTrue(msg.contains("--normal-class 'healthy'") && msg.contains("bearing_fault"), msg);
        // alerts off: the job builds without an alert sink
        StreamExecutionEnvironment off = StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
        SensorAnomalyJob.build(
                off,
                JobConfig.parse(
                        OfflineArgs.of(bundle, "--alert-classes", "none", "--allow-jobmanager-checkpoints", "true"),
                        new Configuration()));
        assertTrue(off.getStreamGraph().getStreamNodes().stream()
                .noneMatch(n -> n.getOperatorName().contains("alert")));
    }
}
