package io.exitflow.runtime.bundle;

import io.exitflow.runtime.manifest.Manifest;
import java.util.Optional;
import org.apache.flink.annotation.Internal;

/**
 * Turns a raw event input into stage 0's {@code state_in}: {@code (x - mean) / std} per channel (windows,
 * channels-first) or per feature, exactly as docs/bundle-contract.md and the toolkit do.
 */
@Internal
public final class InputNormaliser {
    private final float[] mean;
    private final float[] std;

    public InputNormaliser(Manifest manifest) {
        Manifest.Input in = manifest.input();
        int size = in.shape().stream().reduce(1, (a, b) -> a * b);
        int perChannel = size / in.shape().get(0); // 1 for feature vectors, T for [C, T] windows
        this.mean = new float[size];
        this.std = new float[size];
        for (int i = 0; i < size; i++) {
            mean[i] = in.mean()[i / perChannel];
            std[i] = in.std()[i / perChannel];
        }
    }

    /** Values per event. */
    public int inputSize() {
        return mean.length;
    }

    /** Why {@code raw} cannot be served (null, wrong length, NaN or infinite values), or empty when it can. */
    public Optional<String> problem(float[] raw) {
        if (raw == null) {
            return Optional.of("input is missing");
        }
        if (raw.length != mean.length) {
            return Optional.of("input has " + raw.length + " values, the model expects " + mean.length);
        }
        for (int i = 0; i < raw.length; i++) {
            if (!Float.isFinite(raw[i])) {
                return Optional.of("input value " + i + " is " + raw[i]);
            }
        }
        return Optional.empty();
    }

    /** A new normalised copy of {@code raw} (which {@link #problem} accepted). */
    public float[] normalise(float[] raw) {
        float[] x = new float[raw.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = (raw[i] - mean[i]) / std[i];
        }
        return x;
    }
}
