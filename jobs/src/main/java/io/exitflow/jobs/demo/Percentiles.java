package io.exitflow.jobs.demo;

import java.util.Arrays;

/** Latency samples with percentiles; bounded (keeps the first {@code capacity} samples). Not thread-safe. */
final class Percentiles {
    private final int capacity;
    private double[] values = new double[1024];
    private int size;
    private long dropped;

    Percentiles(int capacity) {
        this.capacity = capacity;
    }

    void add(double v) {
        if (size == capacity) {
            dropped++;
            return;
        }
        if (size == values.length) {
            values = Arrays.copyOf(values, Math.min(capacity, values.length * 2));
        }
        values[size++] = v;
    }

    int size() {
        return size;
    }

    /** Samples not kept because the capacity was reached. */
    long dropped() {
        return dropped;
    }

    /** The q-quantile (nearest rank), NaN when empty. */
    double quantile(double q) {
        if (size == 0) {
            return Double.NaN;
        }
        double[] sorted = Arrays.copyOf(values, size);
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(q * size) - 1;
        return sorted[Math.max(0, Math.min(size - 1, rank))];
    }

    void clear() {
        size = 0;
    }
}
