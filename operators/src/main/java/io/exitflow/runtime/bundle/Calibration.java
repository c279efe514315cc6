package io.exitflow.runtime.bundle;

import java.util.List;

/** calibration.json: validation-split scores and classes per stage, for the budget solver. */
public record Calibration(String split, int[] labels, List<StageOutputs> stages, double[] costUsPerEvent) {

    /** One stage's validation outputs, one entry per validation sample. */
    public record StageOutputs(float[] score, int[] pred) {}
}
