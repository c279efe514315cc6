package io.exitflow.jobs.anomaly;

/**
 * Keyed state of {@link WindowAssembler}: the last {@code size} readings of one sensor in a ring
 * (reading-major: {@code ring[slot * channels + c]}), how many readings were appended since the last reset,
 * the time and label of the newest one, and what happened since the sensor's last window (to show a sensor whose
 * windows keep restarting). A Flink POJO.
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
    /** Readings appended since the sensor's last window (or its first reading): shows a sensor that makes none. */
    public long sinceWindow;
    /** Window restarts (gaps) since the sensor's last window. */
    public long resetsSinceWindow;
    /** Largest step between readings that restarted the window since the sensor's last window, in ms. */
    public long largestGapSinceWindow;
    /** The last step that restarted the window, in ms. */
    public long lastGap;
    /** Whether the sensor was counted as making no windows ({@code sensorsWithoutWindows}) since its last one. */
    public boolean withoutWindows;

    /** For Flink's POJO serializer. */
    public WindowBuffer() {}

    WindowBuffer(int size, int channels) {
        this.ring = new float[size * channels];
    }
}
