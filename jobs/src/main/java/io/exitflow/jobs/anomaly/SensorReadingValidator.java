package io.exitflow.jobs.anomaly;

import io.exitflow.jobs.common.RecordValidator;
import io.exitflow.schemas.SensorReading;
import java.util.List;

/**
 * A reading is usable when it names its sensor, has one finite value per model input channel, and its event time
 * is neither implausibly far in the future (one such reading would drag the watermark ahead and make every later
 * reading late) nor implausibly far in the past (a sensor whose clock reset to 1970 would hold the watermark back
 * for every other sensor).
 */
public final class SensorReadingValidator implements RecordValidator<SensorReading> {
    private static final long serialVersionUID = 1L;

    private final int channels;
    private final long maxFutureMillis;
    private final long maxPastMillis;

    /** @param channels values per reading (the model's input channels, manifest {@code input.shape[0]}) */
    public SensorReadingValidator(int channels) {
        this(channels, Long.MAX_VALUE, Long.MAX_VALUE);
    }

    /**
     * @param channels values per reading (the model's input channels, manifest {@code input.shape[0]})
     * @param maxFutureMillis how far ahead of this machine's clock an event time may be
     * @param maxPastMillis how far behind this machine's clock an event time may be
     * @throws IllegalArgumentException when channels is not positive or a bound is negative
     */
    public SensorReadingValidator(int channels, long maxFutureMillis, long maxPastMillis) {
        if (channels <= 0) {
            throw new IllegalArgumentException("channels must be positive, got " + channels);
        }
        if (maxFutureMillis < 0) {
            throw new IllegalArgumentException("maxFutureMillis must be >= 0, got " + maxFutureMillis);
        }
        if (maxPastMillis < 0) {
            throw new IllegalArgumentException("maxPastMillis must be >= 0, got " + maxPastMillis);
        }
        this.channels = channels;
        this.maxFutureMillis = maxFutureMillis;
        this.maxPastMillis = maxPastMillis;
    }

    @Override
    public String problem(SensorReading r) {
        if (r.getSensorId() == null || r.getSensorId().isEmpty()) {
            return "empty sensorId";
        }
        if (r.getEventTime() == null) {
            return "no eventTime";
        }
        long now = System.currentTimeMillis();
        long time = r.getEventTime().toEpochMilli();
        // now and the bounds are >= 0, so neither side overflows: now - bound >= Long.MIN_VALUE + 1, and the
        // future test subtracts only when time > now.
        if (time > now && time - now > maxFutureMillis) {
            return "eventTime " + r.getEventTime() + " is more than " + maxFutureMillis + " ms in the future";
        }
        if (time < now - maxPastMillis) {
            return "eventTime " + r.getEventTime() + " is more than " + maxPastMillis + " ms in the past";
        }
        List<Float> values = r.getValues();
        if (values == null || values.size() != channels) {
            return "expected " + channels + " values, got " + (values == null ? 0 : values.size());
        }
        for (int c = 0; c < channels; c++) {
            Float v = values.get(c);
            if (v == null || !Float.isFinite(v)) {
                return "value " + c + " is " + v;
            }
        }
        return null;
    }
}
