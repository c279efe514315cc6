package io.exitflow.jobs.anomaly;

import java.io.Serializable;

/**
 * How {@link WindowAssembler} cuts a sensor's readings into windows.
 *
 * @param size readings per window (manifest {@code input.window.size})
 * @param slide readings between window starts (manifest {@code input.window.slide})
 * @param channels values per reading (manifest {@code input.shape[0]})
 * @param samplePeriodMs the bundle's sample period (manifest {@code input.window.sample_period_ms}, may be
 *     fractional; 0 when unknown), named in the window step's warnings
 * @param maxGapMillis a step in event time larger than this between consecutive readings of one sensor is a
 *     gap: the window restarts there, so no window spans missing data
 * @param allowedLatenessMillis how far behind the watermark a reading may arrive and still be used (if it is
 *     still newer than the sensor's newest used reading); later ones go to the dead-letter topic
 * @param maxWaitingReadings most readings of one sensor that wait for the watermark; past it the earliest is used
 *     without waiting ({@link WindowAssembler})
 */
public record WindowSpec(
        int size,
        int slide,
        int channels,
        double samplePeriodMs,
        long maxGapMillis,
        long allowedLatenessMillis,
        int maxWaitingReadings)
        implements Serializable {

    /** Floor of the default {@link #defaultMaxGapMillis jitter tolerance}: timestamps rounded to whole ms. */
    static final double MIN_JITTER_MS = 2;

    public WindowSpec {
        if (size <= 0 || slide <= 0 || channels <= 0) {
            throw new IllegalArgumentException("window size, slide and channels must be positive, got size=" + size
                    + " slide=" + slide + " channels=" + channels);
        }
        if (!(samplePeriodMs >= 0) || Double.isInfinite(samplePeriodMs)) {
            throw new IllegalArgumentException("samplePeriodMs must be finite and >= 0, got " + samplePeriodMs);
        }
        if (maxGapMillis <= 0) {
            throw new IllegalArgumentException("maxGapMillis must be positive, got " + maxGapMillis);
        }
        if (allowedLatenessMillis < 0) {
            throw new IllegalArgumentException("allowedLatenessMillis must be >= 0, got " + allowedLatenessMillis);
        }
        if (maxWaitingReadings <= 0) {
            throw new IllegalArgumentException("maxWaitingReadings must be positive, got " + maxWaitingReadings);
        }
    }

    /**
     * The default max gap for a sensor sampled every {@code periodMs}: {@code 3 x period + max(2 ms, period / 10)},
     * rounded up. Three periods let a window bridge up to two dropped samples in a row (real recordings drop
     * some: radio loss, a busy sampler); the tolerance absorbs timing jitter of real samplers (a tenth of a period)
     * and timestamps rounded to whole milliseconds (a 31.25 ms period arrives as steps of 31 and 32 ms). A longer
     * pause starts a fresh window.
     *
     * @param periodMs the real sample period in ms (> 0; may be fractional)
     */
    public static long defaultMaxGapMillis(double periodMs) {
        if (!(periodMs > 0) || Double.isInfinite(periodMs)) {
            throw new IllegalArgumentException("sample period must be a positive number of ms, got " + periodMs);
        }
        return (long) Math.ceil(3 * periodMs + Math.max(MIN_JITTER_MS, periodMs / 10));
    }

    /**
     * The default cap on one sensor's readings waiting for the watermark: twice the readings it sends in the time
     * a reading can legitimately wait ({@code outOfOrdernessMs}, the watermark's bound, plus {@code maxDriftMs},
     * how far watermark alignment lets one partition run ahead of another), and at least two windows' worth. A
     * sensor that samples faster than the bundle says, or a replay faster than real time, reaches the cap sooner;
     * the cap only bounds memory (what passes it is still used, in order within the cap).
     *
     * @param size window size in readings
     * @param periodMs the sample period in ms (> 0)
     */
    public static int defaultMaxWaitingReadings(int size, double periodMs, long outOfOrdernessMs, long maxDriftMs) {
        if (!(periodMs > 0) || Double.isInfinite(periodMs)) {
            throw new IllegalArgumentException("sample period must be a positive number of ms, got " + periodMs);
        }
        double waiting = Math.ceil(2 * (Math.max(0, outOfOrdernessMs) + Math.max(0, maxDriftMs)) / periodMs);
        return (int) Math.min(1_000_000, Math.max(2L * size, (long) waiting));
    }
}
