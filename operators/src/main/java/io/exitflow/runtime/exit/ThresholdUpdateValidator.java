package io.exitflow.runtime.exit;

import io.exitflow.schemas.ThresholdUpdate;
import java.util.List;
import java.util.Optional;
import org.apache.flink.annotation.Internal;

/** Decides whether a control message may replace the thresholds in force; an update is taken whole or not at all. */
@Internal
public final class ThresholdUpdateValidator {
    private ThresholdUpdateValidator() {}

    /** @return empty when {@code update} is valid against {@code current}, else why it is rejected */
    public static Optional<String> rejection(ThresholdUpdate update, Thresholds current, String servedModelVersion) {
        if (!current.modelId().equals(update.getModelId())) {
            return Optional.of(
                    "unknown model '" + update.getModelId() + "' (this operator serves '" + current.modelId() + "')");
        }
        if (!servedModelVersion.equals(update.getModelVersion())) {
            return Optional.of("model version '" + update.getModelVersion() + "' is not the served version '"
                    + servedModelVersion + "'");
        }
        if (update.getUpdateVersion() <= current.version()) {
            return Optional.of("update version " + update.getUpdateVersion()
                    + " is not newer than the version in force " + current.version());
        }
        List<Float> t = update.getThresholds();
        if (t == null || t.size() != current.size()) {
            return Optional.of(
                    "has " + (t == null ? 0 : t.size()) + " thresholds, the model has " + current.size() + " stages");
        }
        for (int k = 0; k < t.size(); k++) {
            Float v = t.get(k);
            if (v == null || !(v >= 0f && v <= 1f)) {
                return Optional.of("threshold of stage " + k + " is " + v + ", outside [0, 1]");
            }
        }
        return Optional.empty();
    }
}
