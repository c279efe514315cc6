package io.exitflow.data;

import io.exitflow.schemas.SensorReading;
import java.util.List;

/**
 * A window of consecutive readings of one sensor, channels-first, labelled by its last reading.
 * The anomaly job and the toolkit both cut windows with this definition (docs/bundle-contract.md).
 */
public final class SensorWindow {
    private final String sensorId;
    private final long endTimeMillis;
    private final float[] channelsFirst;
    private final int size;
    private final String label;

    private SensorWindow(String sensorId, long endTimeMillis, float[] channelsFirst, int size, String label) {
        this.sensorId = sensorId;
        this.endTimeMillis = endTimeMillis;
        this.channelsFirst = channelsFirst;
        this.size = size;
        this.label = label;
    }

    /**
     * Builds the window from {@code size} readings starting at {@code from}.
     *
     * @throws IllegalArgumentException when a reading has the wrong number of channels
     */
    public static SensorWindow of(List<SensorReading> readings, int from, int size) {
        int channels = SensorClasses.CHANNELS;
        float[] data = new float[channels * size];
        for (int t = 0; t < size; t++) {
            List<Float> values = readings.get(from + t).getValues();
            if (values.size() != channels) {
                throw new IllegalArgumentException("reading " + (from + t) + " of sensor "
                        + readings.get(from + t).getSensorId() + " has " + values.size()
                        + " channels, expected " + channels);
            }
            for (int c = 0; c < channels; c++) {
                data[c * size + t] = values.get(c);
            }
        }
        SensorReading last = readings.get(from + size - 1);
        return new SensorWindow(last.getSensorId(), last.getEventTime().toEpochMilli(), data, size, last.getLabel());
    }

    public String sensorId() {
        return sensorId;
    }

    /** Event time of the last reading. */
    public long endTimeMillis() {
        return endTimeMillis;
    }

    /** Values laid out channel after channel: index {@code c * size + t}. */
    public float[] channelsFirst() {
        return channelsFirst;
    }

    public int size() {
        return size;
    }

    /** Label of the last reading, or null when unknown. */
    public String label() {
        return label;
    }
}
