package io.exitflow.jobs.anomaly;

import java.util.Arrays;

/**
 * Keyed state of {@link WindowAssembler}: one sensor's readings that wait for the watermark, in event-time order
 * with distinct times. Entries {@code head .. head + size - 1} of parallel arrays hold them (values reading-major:
 * {@code values[i * channels + c]}). Readings of one sensor mostly arrive in time order, so adding is an append and
 * taking the earliest moves {@code head}; an out-of-order reading is inserted in place. How many may wait is capped
 * by {@link WindowAssembler} ({@code --max-waiting-readings}). A Flink POJO.
 */
public class PendingReadings {
    static final int INITIAL_CAPACITY = 16;

    /** Values per reading. */
    public int channels;
    /** Event times, ascending from {@code head}. */
    public long[] times;
    /** Values, {@code channels} per entry. */
    public float[] values;
    /** Ground-truth labels (null when unknown). */
    public String[] labels;
    /** Index of the earliest waiting reading. */
    public int head;
    /** How many readings wait. */
    public int size;
    /**
     * Newest event time used before the watermark passed it (the cap on waiting readings released it early);
     * a reading ahead of the watermark but not after it is late. {@code Long.MIN_VALUE} when none was.
     */
    public long usedAheadUpTo = Long.MIN_VALUE;

    /** For Flink's POJO serializer. */
    public PendingReadings() {}

    PendingReadings(int channels) {
        this.channels = channels;
        allocate(INITIAL_CAPACITY);
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** How many readings wait. */
    int size() {
        return size;
    }

    /** Event time of the earliest waiting reading; only when not empty. */
    long firstTime() {
        return times[head];
    }

    /** Event time of the newest waiting reading; only when not empty. */
    long lastTime() {
        return times[head + size - 1];
    }

    /** Offset of the earliest waiting reading's values in {@link #values}; only when not empty. */
    int firstValuesOffset() {
        return head * channels;
    }

    /** Label of the earliest waiting reading; only when not empty. */
    String firstLabel() {
        return labels[head];
    }

    /** Whether a reading of this event time waits already. */
    boolean contains(long time) {
        return size > 0 && Arrays.binarySearch(times, head, head + size, time) >= 0;
    }

    /**
     * Adds a reading whose time is not waiting yet ({@link #contains} is false).
     *
     * @param readingValues {@code channels} values, copied
     * @return whether it is now the earliest waiting reading
     */
    boolean add(long time, float[] readingValues, String label) {
        if (head + size == times.length) {
            makeRoom();
        }
        int at = head + size; // in time order: append
        if (size > 0 && time < times[at - 1]) {
            at = -Arrays.binarySearch(times, head, head + size, time) - 1;
            int tail = head + size - at;
            System.arraycopy(times, at, times, at + 1, tail);
            System.arraycopy(values, at * channels, values, (at + 1) * channels, tail * channels);
            System.arraycopy(labels, at, labels, at + 1, tail);
        }
        times[at] = time;
        System.arraycopy(readingValues, 0, values, at * channels, channels);
        labels[at] = label;
        size++;
        return at == head;
    }

    /** Drops the earliest waiting reading; only when not empty. */
    void removeFirst() {
        labels[head] = null;
        head++;
        size--;
        if (size == 0) {
            head = 0;
            if (times.length > 4 * INITIAL_CAPACITY) {
                allocate(INITIAL_CAPACITY); // a backlog is over: give its memory (and checkpoint bytes) back
            }
        }
    }

    /** Room for one more entry at the end: grow when more than half full, else shift the entries to the front. */
    private void makeRoom() {
        if (size > times.length / 2) {
            long[] t = times;
            float[] v = values;
            String[] l = labels;
            allocate(2 * t.length);
            System.arraycopy(t, head, times, 0, size);
            System.arraycopy(v, head * channels, values, 0, size * channels);
            System.arraycopy(l, head, labels, 0, size);
        } else {
            System.arraycopy(times, head, times, 0, size);
            System.arraycopy(values, head * channels, values, 0, size * channels);
            System.arraycopy(labels, head, labels, 0, size);
            Arrays.fill(labels, size, head + size, null);
        }
        head = 0;
    }

    private void allocate(int capacity) {
        times = new long[capacity];
        values = new float[capacity * channels];
        labels = new String[capacity];
    }
}
