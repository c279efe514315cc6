package io.exitflow.runtime.manifest;

import java.nio.file.Path;
import java.util.List;
import org.apache.flink.annotation.PublicEvolving;

/** calibration.json: validation-split scores and classes per stage, for the budget solver. */
@PublicEvolving
public record Calibration(String split, int[] labels, List<StageOutputs> stages, double[] costUsPerEvent) {

    /** One stage's validation outputs, one entry per validation sample. */
    public record StageOutputs(float[] score, int[] pred) {}

    /**
     * Reads calibration.json, checking it covers {@code numStages} stages with one score and class per label.
     *
     * @throws BundleException naming the file and what is missing
     */
    public static Calibration read(Path file, int numStages) {
        Calibration c = Json.read(file, Calibration.class);
        if (c.stages() == null || c.stages().size() != numStages) {
            throw new BundleException(
                    file, "has " + (c.stages() == null ? 0 : c.stages().size()) + " stages, manifest has " + numStages);
        }
        int n = c.labels() == null ? 0 : c.labels().length;
        for (int k = 0; k < c.stages().size(); k++) {
            StageOutputs s = c.stages().get(k);
            if (s.score() == null || s.pred() == null || s.score().length != n || s.pred().length != n) {
                throw new BundleException(
                        file, "stages[" + k + "] must have " + n + " scores and preds (one per label)");
            }
        }
        return c;
    }
}
