package io.exitflow.jobs.classification;

import io.exitflow.jobs.common.RecordValidator;
import io.exitflow.schemas.FeatureEvent;
import java.util.List;

/** A feature event is usable when it has an id, a key, a time and exactly the model's number of finite features. */
public final class FeatureEventValidator implements RecordValidator<FeatureEvent> {
    private static final long serialVersionUID = 1L;

    private final int features;

    /** @param features features per event (manifest {@code input.shape[0]}) */
    public FeatureEventValidator(int features) {
        if (features <= 0) {
            throw new IllegalArgumentException("features must be positive, got " + features);
        }
        this.features = features;
    }

    @Override
    public String problem(FeatureEvent e) {
        if (e.getEventId() == null || e.getEventId().isEmpty()) {
            return "empty eventId";
        }
        if (e.getKey() == null) {
            return "no key";
        }
        if (e.getEventTime() == null) {
            return "no eventTime";
        }
        List<Float> values = e.getFeatures();
        if (values == null || values.size() != features) {
            return "expected " + features + " features, got " + (values == null ? 0 : values.size());
        }
        for (int i = 0; i < features; i++) {
            Float v = values.get(i);
            if (v == null || !Float.isFinite(v)) {
                return "feature " + i + " is " + v;
            }
        }
        return null;
    }
}
