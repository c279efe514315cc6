package io.exitflow.runtime.bundle;

import java.util.List;
import java.util.Map;

/**
 * manifest.json of a model bundle (docs/bundle-contract.md, format 1), as read; {@link ManifestValidator} checks it.
 */
public record Manifest(
        int formatVersion,
        String modelId,
        String modelVersion,
        String task,
        List<String> classes,
        Input input,
        int carryDim,
        List<Stage> stages,
        Exit exit) {

    /** Per-event input: shape without batch, layout, normalisation. */
    public record Input(List<Integer> shape, String layout, float[] mean, float[] std, Window window) {}

    /** Sliding-window cut of the sensor task (informational for the runtime). */
    public record Window(int size, int slide, long samplePeriodMs) {}

    /** One stage: its ONNX file, tensor names, per-event state shapes and measured cost. */
    public record Stage(
            int index,
            String file,
            Map<String, String> inputs,
            Map<String, String> outputs,
            List<Integer> stateInShape,
            List<Integer> stateOutShape,
            long flops,
            Map<String, Double> costUsPerEvent) {

        /** Output tensor name for a role (state, carry, logits, score), or null when the stage has none. */
        public String output(String role) {
            return outputs == null ? null : outputs.get(role);
        }

        /** Input tensor name for a role (state, carry). */
        public String input(String role) {
            return inputs == null ? null : inputs.get(role);
        }
    }

    /** Exit rule: where scores come from and the default thresholds. */
    public record Exit(String combine, String score, String rule, float[] thresholds) {}

    /** Number of stages. */
    public int numStages() {
        return stages.size();
    }

    /** Number of classes. */
    public int numClasses() {
        return classes.size();
    }
}
