package io.exitflow.jobs.anomaly;

import io.exitflow.jobs.common.RecordValidator;
import io.exitflow.schemas.SensorReading;
import java.util.List;

/** A reading is usable when it names its sensor and has one finite value per model input channel. */
public final class SensorReadingValidator implements RecordValidator<SensorReading> {
    private static final long serialVersionUID = 1L;

    private final int channels;

    /** @param channels values per reading (the model's input channels, manifest {@code input.shape[0]}) */
    public SensorReadingValidator(int channels) {
        if (channels <= 0) {
            throw new IllegalArgumentException("channels must be positive, got " + channels);
        }
        this.channels = channels;
    }

    @Override
    public String problem(SensorReading r) {
        if (r.getSensorId() == null || r.getSensorId().isEmpty()) {
            return "empty sensorId";
        }
        if (r.getEventTime() == null) {
            return "no eventTime";
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
