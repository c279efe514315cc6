package io.exitflow.jobs.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.it.RepoPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo (README's first command) runs, reports, writes its JSON summary and leaves no threads behind; here with
 * {@code --schema-registry on}: its embedded registry (a real Apicurio process), the simulator, the job and the
 * demo's readers all in the registry wire format, the feedback loop's control topic included. The demo without a
 * registry runs in {@link EmbeddedDemoReadingsIT}.
 */
class EmbeddedDemoIT {
    private static Set<Thread> liveNonDaemonThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && !t.isDaemon())
                .collect(Collectors.toSet());
    }

    @Test
    void runsEndToEndAndStopsCleanly(@TempDir Path dir) throws Exception {
        Set<Thread> before = liveNonDaemonThreads();
        Path json = dir.resolve("summary.json");
        EmbeddedDemo.Settings s = EmbeddedDemo.parse(new String[] {
            "--schedule",
            "4s@1500,4s@3000",
            "--sensors",
            "8",
            "--bad-share",
            "0.02",
            "--bundle",
            RepoPaths.resolve("models/sensor-cnn").toString(),
            "--summary-json",
            json.toString(),
            "--report-every",
            "2s",
            "--schema-registry",
            "on",
            // A budget starts the feedback loop: stats -> controller -> control topic -> operators.
            "--budget-rate",
            "2000"
        });
        Map<String, Object> summary = EmbeddedDemo.run(s);

        assertEquals(Boolean.TRUE, summary.get("ok"), String.valueOf(summary.get("failure")));
        // The monitor decodes every output by its schema id (a plain record would fail it): the registry format.
        assertTrue(
                String.valueOf(summary.get("schema_registry")).startsWith("http://127.0.0.1:"),
                "schema registry: " + summary.get("schema_registry"));
        long sent = (Long) summary.get("readings_sent");
        assertTrue(sent > 5_000, "readings sent: " + sent);
        // Every bad record the simulator sent came out on the dead-letter topic, no more (framed with the readings'
        // schema id, but the garbage ones: they reach the decoding and validation, as without a registry).
        assertEquals(summary.get("bad_records_sent"), summary.get("dead_letters"));
        long windows = (Long) summary.get("windows_classified");
        // 8 sensors: a window per 32 readings each once the first 128 are in; the last few may still wait for the
        // watermark when the demo stops.
        long atMost = sent / 32;
        assertTrue(windows > atMost / 2 && windows <= atMost, windows + " windows for " + sent + " readings");
        assertTrue((Double) summary.get("accuracy") > 0.6, "accuracy " + summary.get("accuracy"));
        assertTrue(Files.readString(json).contains("\"windows_classified\""));
        // The controller published thresholds on the control topic and the monitor read them back.
        assertTrue(
                (Long) summary.get("threshold_updates") >= 1, "threshold updates: " + summary.get("threshold_updates"));
        assertTrue((Long) summary.get("threshold_version") > 0);

        // No threads left running (Kafka, Flink, simulator, consumers all stopped). Give stragglers a moment.
        Set<Thread> leftover = null;
        for (int i = 0; i < 50; i++) {
            leftover = liveNonDaemonThreads();
            leftover.removeAll(before);
            if (leftover.isEmpty()) {
                break;
            }
            Thread.sleep(100);
        }
        assertTrue(leftover.isEmpty(), "threads still running: " + leftover);
    }
}
