package io.exitflow.jobs.simulator;

import io.exitflow.schemas.SensorReading;
import java.util.HashMap;
import java.util.Map;

/**
 * The windows that the first readings of a {@link SensorFleet} make: what the anomaly job has to answer, each one
 * exactly once. Windows are cut the way {@link io.exitflow.data.SensorWindow} cuts them: {@code size} consecutive
 * readings of one sensor, a new window every {@code slide} readings, labelled by the window's last reading. Each is
 * keyed by the job's event id, {@code <sensor id>@<end time in epoch ms>}.
 *
 * <p>The readings are generated again and read once, in order. Memory grows with the number of windows (about
 * readings / slide entries), not with the readings, so a check over millions of readings is cheap.
 */
public final class ExpectedWindows {
    private ExpectedWindows() {}

    /**
     * Event id to label (null when the reading has none) of every window in the fleet's first {@code readings}
     * readings. The fleet must be the one that sent them: same split, sensor count, seed and start time.
     *
     * @param split the fleet's split (train, val, test)
     * @param sensors the fleet's sensor count
     * @param seed the fleet's dataset seed
     * @param startMillis event time of each sensor's first reading, epoch ms
     * @param readings readings sent, all sensors together (the fleet takes its sensors in turns)
     * @param size readings per window (the bundle's {@code input.window.size})
     * @param slide readings between window starts (the bundle's {@code input.window.slide})
     * @throws IllegalArgumentException when a count is not positive or {@code readings} is negative
     */
    public static Map<String, String> labels(
            String split, int sensors, long seed, long startMillis, long readings, int size, int slide) {
        if (size <= 0 || slide <= 0) {
            throw new IllegalArgumentException("window size and slide must be positive, got " + size + "/" + slide);
        }
        if (readings < 0) {
            throw new IllegalArgumentException("readings must not be negative, got " + readings);
        }
        SensorFleet fleet = new SensorFleet(split, sensors, seed, startMillis);
        Map<String, Long> countBySensor = new HashMap<>();
        Map<String, String> labels = new HashMap<>();
        for (long i = 0; i < readings; i++) {
            SensorReading r = fleet.next();
            long n = countBySensor.merge(r.getSensorId(), 1L, Long::sum);
            // Reading n (1-based) closes a window when at least size readings are in and it lies slide after the last.
            if (n >= size && (n - size) % slide == 0) {
                labels.put(r.getSensorId() + "@" + r.getEventTime().toEpochMilli(), r.getLabel());
            }
        }
        return labels;
    }
}
