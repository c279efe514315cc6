package io.exitflow.jobs.simulator;

import io.exitflow.data.DatasetWriter;
import io.exitflow.data.SensorSignalGenerator;
import io.exitflow.schemas.SensorReading;
import java.util.ArrayList;
import java.util.List;

/**
 * Many simulated sensors read in turns (one reading of each sensor per sampling period), so event time advances
 * evenly across the fleet. Sensor {@code i} of a split is exactly the stream the dataset files hold for
 * {@code <split>-<i>} (same id, seed and start time as {@link io.exitflow.data.DatasetWriter}), so the simulator
 * sends the records the models were trained and evaluated on; beyond the dataset's length the streams go on.
 */
public final class SensorFleet implements ReadingSource {
    /** Dataset defaults (data/dataset.json): seed 7, start 2026-01-01T00:00:00Z. */
    public static final long DATASET_SEED = 7;

    public static final long DATASET_START_MILLIS = 1_767_225_600_000L;

    private final List<SensorSignalGenerator> sensors = new ArrayList<>();
    private int next;

    /**
     * @param split train, val or test (the dataset's disjoint machine sets)
     * @param count number of sensors
     * @param seed dataset seed
     * @param startMillis event time of each sensor's first reading (the dataset's, or a rebased one; the values
     *     do not depend on it)
     */
    public SensorFleet(String split, int count, long seed, long startMillis) {
        if (count <= 0) {
            throw new IllegalArgumentException("sensor count must be positive, got " + count);
        }
        for (int s = 0; s < count; s++) {
            sensors.add(DatasetWriter.generator(split, s, seed, startMillis));
        }
    }

    /** The next reading, taking the sensors in turns (never null: the streams are endless). */
    @Override
    public SensorReading next() {
        SensorReading r = sensors.get(next).next();
        next = (next + 1) % sensors.size();
        return r;
    }

    public int size() {
        return sensors.size();
    }
}
