package io.exitflow.jobs.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.data.SensorWindow;
import io.exitflow.schemas.SensorReading;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExpectedWindowsTest {
    private static final long START = 1_800_000_000_000L;

    /** The streaming cut agrees with SensorWindow's over whole lists, including sensors with one reading more. */
    @Test
    void agreesWithSensorWindowCut() {
        int sensors = 3;
        long readings = 3L * 300 + 2; // two sensors get 301 readings, one 300
        Map<String, String> expected = new HashMap<>();
        SensorFleet fleet = new SensorFleet("test", sensors, SensorFleet.DATASET_SEED, START);
        Map<String, List<SensorReading>> bySensor = new HashMap<>();
        for (long i = 0; i < readings; i++) {
            SensorReading r = fleet.next();
            bySensor.computeIfAbsent(r.getSensorId(), k -> new ArrayList<>()).add(r);
        }
        bySensor.forEach((id, list) -> {
            for (int from = 0; from + 128 <= list.size(); from += 32) {
                SensorWindow w = SensorWindow.of(list, from, 128);
                expected.put(id + "@" + w.endTimeMillis(), w.label());
            }
        });

        Map<String, String> windows =
                ExpectedWindows.labels("test", sensors, SensorFleet.DATASET_SEED, START, readings, 128, 32);

        assertEquals(expected, windows);
        assertEquals(3 * 6, windows.size(), "300 readings make windows ending at 128, 160, ..., 288 per sensor");
        assertTrue(
                windows.containsKey("test-000@" + (START + 127 * 10)),
                windows.keySet().toString());
    }

    @Test
    void noReadingsNoWindows() {
        assertTrue(ExpectedWindows.labels("test", 2, 7, START, 0, 128, 32).isEmpty());
        assertTrue(ExpectedWindows.labels("test", 2, 7, START, 2 * 127, 128, 32).isEmpty());
        assertEquals(
                2, ExpectedWindows.labels("test", 2, 7, START, 2 * 128, 128, 32).size());
    }

    @Test
    void refusesBadCounts() {
        assertThrows(IllegalArgumentException.class, () -> ExpectedWindows.labels("test", 2, 7, START, 10, 0, 32));
        assertThrows(IllegalArgumentException.class, () -> ExpectedWindows.labels("test", 2, 7, START, 10, 128, 0));
        assertThrows(IllegalArgumentException.class, () -> ExpectedWindows.labels("test", 2, 7, START, -1, 128, 32));
    }
}
