package io.exitflow.jobs.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.it.RepoPaths;
import io.exitflow.jobs.simulator.SensorFleet;
import io.exitflow.schemas.SensorReading;
import java.nio.file.Path;
import java.util.Map;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo on a user's recordings ({@code --readings FILE.avro}): every reading of the file is sent once, and the
 * end flush lets the job answer every window of every recording, with accuracy against the file's labels.
 */
class EmbeddedDemoReadingsIT {
    private static final int SENSORS = 4;
    private static final int READINGS_PER_SENSOR = 640; // 17 windows of 128 every 32

    @Test
    void replaysTheFileOnceAndAnswersEveryWindow(@TempDir Path dir) throws Exception {
        // The recordings: the dataset's first 640 readings of 4 test sensors, written as a user would have them.
        Path file = dir.resolve("recordings.avro");
        SensorFleet fleet =
                new SensorFleet("test", SENSORS, SensorFleet.DATASET_SEED, SensorFleet.DATASET_START_MILLIS);
        try (DataFileWriter<SensorReading> w = new DataFileWriter<>(new SpecificDatumWriter<>(SensorReading.class))) {
            w.create(SensorReading.getClassSchema(), file.toFile());
            for (int i = 0; i < SENSORS * READINGS_PER_SENSOR; i++) {
                w.append(fleet.next());
            }
        }

        EmbeddedDemo.Settings s = EmbeddedDemo.parse(new String[] {
            "--readings",
            file.toString(),
            "--schedule",
            "600s@3000",
            "--bad-share",
            "0.01",
            "--bundle",
            RepoPaths.resolve("models/sensor-cnn").toString(),
            "--report-every",
            "2s"
        });
        Map<String, Object> summary = EmbeddedDemo.run(s);

        assertEquals(Boolean.TRUE, summary.get("ok"), String.valueOf(summary.get("failure")));
        assertEquals((long) SENSORS * READINGS_PER_SENSOR, summary.get("readings_sent"), "every reading, once");
        assertEquals(file.toString(), summary.get("readings"));
        // The schedule lasts 10 minutes: the demo ends long before, when the file does and the job has drained.
        assertTrue(
                (Double) summary.get("seconds") < 300, "the demo ends when the file does: " + summary.get("seconds"));
        // All windows, the last of each recording included (released by the end flush).
        assertEquals((long) SENSORS * ((READINGS_PER_SENSOR - 128) / 32 + 1), summary.get("windows_classified"));
        assertTrue((Double) summary.get("accuracy") > 0.6, "accuracy " + summary.get("accuracy"));
        assertEquals(summary.get("bad_records_sent"), summary.get("dead_letters"));
    }
}
