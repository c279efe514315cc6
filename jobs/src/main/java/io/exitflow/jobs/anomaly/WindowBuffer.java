package io.exitflow.jobs.anomaly;

/**
 * Keyed state of {@link WindowAssembler}: the last {@code size} readings of one sensor in a ring
 * (reading-major: {@code ring[slot * channels + c]}), how many readings were appended since the last reset,
 * and the time and label of the newest one. A Flink POJO.
 */
public class WindowBuffer {
    /** Ring of {@code size * channels} values. */
    public float[] ring;
    /** Readings appended since the window was (re)started; the ring slot of reading i is {@code i % size}. */
    public long count;
    /** Event time of the newest appended reading. */
    public long lastTime;
    /** Label of the newest appended reading (null when unknown). */
    public String lastLabel;

    /** For Flink's POJO serializer. */
    public WindowBuffer() {}

    WindowBuffer(int size, int channels) {
        this.ring = new float[size * channels];
    }
}
