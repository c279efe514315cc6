package io.exitflow.jobs.anomaly;

import java.io.Serializable;

/**
 * How {@link WindowAssembler} cuts a sensor's readings into windows.
 *
 * @param size readings per window (manifest {@code input.window.size})
 * @param slide readings between window starts (manifest {@code input.window.slide})
 * @param channels values per reading (manifest {@code input.shape[0]})
 * @param maxGapMillis a step in event time larger than this between consecutive readings of one sensor is a
 *     gap: the window restarts there, so no window spans missing data
 * @param allowedLatenessMillis how far behind the watermark a reading may arrive and still be used (if it is
 *     still newer than the sensor's newest used reading); later ones go to the dead-letter topic
 */
public record WindowSpec(int size, int slide, int channels, long maxGapMillis, long allowedLatenessMillis)
        implements Serializable {

    public WindowSpec {
        if (size <= 0 || slide <= 0 || channels <= 0) {
            throw new IllegalArgumentException("window size, slide and channels must be positive, got size=" + size
                    + " slide=" + slide + " channels=" + channels);
        }
        if (maxGapMillis <= 0) {
            throw new IllegalArgumentException("maxGapMillis must be positive, got " + maxGapMillis);
        }
        if (allowedLatenessMillis < 0) {
            throw new IllegalArgumentException("allowedLatenessMillis must be >= 0, got " + allowedLatenessMillis);
        }
    }
}
