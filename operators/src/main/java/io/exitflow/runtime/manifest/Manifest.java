package io.exitflow.runtime.manifest;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.flink.annotation.PublicEvolving;

/**
 * manifest.json of a model bundle (docs/bundle-contract.md, formats 1 and 2), as read; {@link ManifestValidator} checks
 * it. Serializable, so a job ships the manifest it validated to its operators inside the bundle handle.
 * {@code fullGraph} is null for bundles exported before {@code full_graph}.
 */
@PublicEvolving
public record Manifest(
        int formatVersion,
        String modelId,
        String modelVersion,
        String task,
        List<String> classes,
        Input input,
        int carryDim,
        List<Stage> stages,
        Exit exit,
        FullGraph fullGraph)
        implements Serializable {

    /** Per-event input: shape without batch, layout, normalisation. */
    public record Input(List<Integer> shape, String layout, float[] mean, float[] std, Window window)
            implements Serializable {}

    /**
     * Sliding-window cut of the sensor task: what the toolkit cut the training data with, and the job's defaults.
     *
     * @param size readings per window (equals {@code input.shape[1]})
     * @param slide readings between window starts
     * @param samplePeriodMs time between readings in ms; a real number (format 2), a whole number in format 1
     * @param maxGapMs a step between readings longer than this restarted the window when the toolkit cut the
     *     training data (format 2); null in format 1 bundles
     */
    public record Window(int size, int slide, double samplePeriodMs, Double maxGapMs) implements Serializable {

        /**
         * The manifest's max gap as whole milliseconds for comparing integer event times: a step of {@code d} ms
         * (an integer) is longer than {@code maxGapMs} exactly when it is longer than its floor. Empty when the
         * manifest does not state one (format 1).
         */
        public OptionalLong maxGapMillis() {
            return maxGapMs == null ? OptionalLong.empty() : OptionalLong.of((long) Math.floor(maxGapMs));
        }
    }

    /** One stage: its ONNX file, tensor names, per-event state shapes and measured cost. */
    public record Stage(
            int index,
            String file,
            Map<String, String> inputs,
            Map<String, String> outputs,
            List<Integer> stateInShape,
            List<Integer> stateOutShape,
            long flops,
            Map<String, Double> costUsPerEvent)
            implements Serializable {

        /** Output tensor name for a role (state, carry, logits, score), or null when the stage has none. */
        public String output(String role) {
            return outputs == null ? null : outputs.get(role);
        }

        /** Input tensor name for a role (state, carry). */
        public String input(String role) {
            return inputs == null ? null : inputs.get(role);
        }
    }

    /**
     * Optional {@code full_graph}: the whole model as one ONNX graph, for the full-depth baselines (one call per batch
     * or per record instead of one per stage). Its signature is the last stage's with the model input as state:
     * {@code state_in [B, *input.shape], carry_in [B, carry_dim] -> carry_out [B, carry_dim], logits [B, classes],
     * score [B]}; its outputs equal the last stage's when the stages run one after another.
     *
     * @param file ONNX file, relative to the bundle
     * @param flops per event, counted on the graph (2 per multiply-add of its Conv/Gemm/MatMul nodes)
     * @param costUsPerEvent measured microseconds per event by batch size, as for stages
     */
    public record FullGraph(
            String file,
            Map<String, String> inputs,
            Map<String, String> outputs,
            long flops,
            Map<String, Double> costUsPerEvent)
            implements Serializable {

        /** The graph described as a last stage whose input is the model input, so a stage runner can run it. */
        public Stage asStage(Manifest m) {
            return new Stage(
                    m.numStages() - 1, file, inputs, outputs, m.input().shape(), List.of(), flops, costUsPerEvent);
        }
    }

    /** Exit rule: where scores come from and the default thresholds. */
    public record Exit(String combine, String score, String rule, float[] thresholds) implements Serializable {}

    /**
     * Reads manifest.json and checks it against the bundle contract (not the ONNX graphs: the bundle loader does that).
     *
     * @throws BundleException naming the file and the field to fix
     */
    public static Manifest read(Path file) {
        Manifest m = Json.read(file, Manifest.class);
        new ManifestValidator(file).validate(m);
        return m;
    }

    /** Number of stages. */
    public int numStages() {
        return stages.size();
    }

    /** Number of classes. */
    public int numClasses() {
        return classes.size();
    }
}
