package io.exitflow.jobs.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.exitflow.data.DatasetWriter;
import io.exitflow.schemas.SensorReading;
import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SensorFleetTest {
    @Test
    void streamsExactlyTheDatasetRecordsOfTheSplit(@TempDir Path dir) throws Exception {
        // The small dataset (4 test sensors, 3000 readings each) written by the project's dataset writer.
        DatasetWriter.main(new String[] {"--out", dir.toString(), "--small"});
        Map<String, List<SensorReading>> bySensor = new HashMap<>();
        File file = dir.resolve("sensor/test.avro").toFile();
        try (DataFileReader<SensorReading> in =
                new DataFileReader<>(file, new SpecificDatumReader<>(SensorReading.class))) {
            for (SensorReading r : in) {
                bySensor.computeIfAbsent(r.getSensorId(), k -> new ArrayList<>())
                        .add(r);
            }
        }
        assertEquals(4, bySensor.size());

        SensorFleet fleet = new SensorFleet("test", 4, SensorFleet.DATASET_SEED, SensorFleet.DATASET_START_MILLIS);
        int[] position = new int[4];
        for (int i = 0; i < 4 * 3000; i++) {
            SensorReading r = fleet.next();
            int sensor = i % 4; // readings come in turns
            assertEquals(String.format("test-%03d", sensor), r.getSensorId());
            assertEquals(bySensor.get(r.getSensorId()).get(position[sensor]++), r, "reading " + i);
        }
    }

    @Test
    void rebasedStartTimeChangesOnlyTheTimes() {
        SensorFleet dataset = new SensorFleet("val", 2, 7, SensorFleet.DATASET_START_MILLIS);
        SensorFleet rebased = new SensorFleet("val", 2, 7, 5_000L);
        for (int i = 0; i < 100; i++) {
            SensorReading a = dataset.next();
            SensorReading b = rebased.next();
            assertEquals(a.getValues(), b.getValues());
            assertEquals(a.getLabel(), b.getLabel());
            assertEquals(
                    a.getEventTime().toEpochMilli() - SensorFleet.DATASET_START_MILLIS,
                    b.getEventTime().toEpochMilli() - 5_000L);
        }
        assertNotEquals(
                new SensorFleet("train", 1, 7, 0).next().getValues(),
                new SensorFleet("test", 1, 7, 0).next().getValues(),
                "splits are different machines");
    }
}
