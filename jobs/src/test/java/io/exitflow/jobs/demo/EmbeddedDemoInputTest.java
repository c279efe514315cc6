package io.exitflow.jobs.demo;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.it.RepoPaths;
import io.exitflow.jobs.simulator.RecordedReadings;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.schemas.SensorReading;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo refuses, before anything starts, input its bundle cannot classify; and its --readings flags. */
class EmbeddedDemoInputTest {
    @TempDir
    Path dir;

    private final Manifest sensorCnn =
            ModelBundle.load(RepoPaths.resolve("models/sensor-cnn")).manifest();

    private RecordedReadings recordings(String label, Float... values) throws Exception {
        Path file = java.nio.file.Files.createTempFile(dir, "r", ".avro");
        try (DataFileWriter<SensorReading> w = new DataFileWriter<>(new SpecificDatumWriter<>(SensorReading.class))) {
            w.create(SensorReading.getClassSchema(), file.toFile());
            for (int i = 0; i < 3; i++) {
                w.append(SensorReading.newBuilder()
                        .setSensorId("rec")
                        .setEventTime(Instant.ofEpochMilli(10L * i))
                        .setValues(List.of(values))
                        .setLabel(label)
                        .setSeverity(null)
                        .build());
            }
        }
        return RecordedReadings.load(file);
    }

    @Test
    void recordingsMustHaveTheBundlesChannelsAndClasses() throws Exception {
        assertDoesNotThrow(() -> EmbeddedDemo.checkInputFitsBundle(sensorCnn, "b", recordings("normal", 1f, 2f, 3f)));
        assertDoesNotThrow(() -> EmbeddedDemo.checkInputFitsBundle(sensorCnn, "b", recordings(null, 1f, 2f, 3f)));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> EmbeddedDemo.checkInputFitsBundle(sensorCnn, "b", recordings("normal", 1f, 2f)));
        assertTrue(
                e.getMessage().contains("2 values per reading")
                        && e.getMessage().contains("reads 3 channels"),
                e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> EmbeddedDemo.checkInputFitsBundle(sensorCnn, "b", recordings("walking", 1f, 2f, 3f)));
        assertTrue(e.getMessage().contains("[walking]") && e.getMessage().contains("--label-column"), e.getMessage());
        // The generator's sensors fit the bundle built on them.
        assertDoesNotThrow(() -> EmbeddedDemo.checkInputFitsBundle(sensorCnn, "b", null));
    }

    @Test
    void readingsFlags() {
        EmbeddedDemo.Settings s = EmbeddedDemo.parse(new String[] {"--readings", "r.avro", "--loop", "on"});
        assertTrue(s.loop && s.readings.equals(Path.of("r.avro")));
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> EmbeddedDemo.parse(new String[] {"--readings", "r.avro", "--sensors", "4"}))
                .getMessage()
                .contains("--sensors"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> EmbeddedDemo.parse(new String[] {"--loop", "on"}))
                .getMessage()
                .contains("--readings"));
    }
}
