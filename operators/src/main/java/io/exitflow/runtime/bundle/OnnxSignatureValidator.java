package io.exitflow.runtime.bundle;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.exitflow.runtime.manifest.BundleException;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.runtime.onnx.Ort;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Opens each stage's ONNX file and checks its input and output names, types and shapes against the manifest,
 * so a graph exported under a different contract fails at load, not on the first batch.
 */
final class OnnxSignatureValidator {
    private final Path dir;
    private final Manifest manifest;

    OnnxSignatureValidator(Path dir, Manifest manifest) {
        this.dir = dir;
        this.manifest = manifest;
    }

    void validate() {
        for (Manifest.Stage stage : manifest.stages()) {
            validateStage(stage, "stage " + stage.index());
        }
        if (manifest.fullGraph() != null) {
            validateStage(manifest.fullGraph().asStage(manifest), "the full graph");
        }
    }

    private void validateStage(Manifest.Stage stage, String what) {
        Path file = dir.resolve(stage.file());
        if (!Files.isRegularFile(file)) {
            throw new BundleException(file, "ONNX file of " + what + " is missing");
        }
        OrtEnvironment env = Ort.environment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
                OrtSession session = env.createSession(file.toString(), opts)) {
            Map<String, long[]> inputs = expectedInputs(stage);
            Map<String, long[]> outputs = expectedOutputs(stage);
            check(file, "input", inputs, session.getInputInfo());
            check(file, "output", outputs, session.getOutputInfo());
        } catch (OrtException e) {
            throw new BundleException(file, "ONNX Runtime cannot load " + what + ": " + e.getMessage(), e);
        }
    }

    private Map<String, long[]> expectedInputs(Manifest.Stage stage) {
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put(stage.input("state"), withBatch(stage.stateInShape()));
        m.put(stage.input("carry"), new long[] {-1, manifest.carryDim()});
        return m;
    }

    private Map<String, long[]> expectedOutputs(Manifest.Stage stage) {
        Map<String, long[]> m = new LinkedHashMap<>();
        if (stage.output("state") != null) {
            m.put(stage.output("state"), withBatch(stage.stateOutShape()));
        }
        m.put(stage.output("carry"), new long[] {-1, manifest.carryDim()});
        m.put(stage.output("logits"), new long[] {-1, manifest.numClasses()});
        m.put(stage.output("score"), new long[] {-1});
        return m;
    }

    private static long[] withBatch(List<Integer> shape) {
        long[] s = new long[shape.size() + 1];
        s[0] = -1;
        for (int i = 0; i < shape.size(); i++) {
            s[i + 1] = shape.get(i);
        }
        return s;
    }

    private static void check(Path file, String kind, Map<String, long[]> expected, Map<String, NodeInfo> actual) {
        Set<String> missing = new TreeSet<>(expected.keySet());
        missing.removeAll(actual.keySet());
        Set<String> extra = new TreeSet<>(actual.keySet());
        extra.removeAll(expected.keySet());
        if (!missing.isEmpty() || !extra.isEmpty()) {
            throw new BundleException(
                    file,
                    kind + " names do not match the manifest: missing " + missing + ", unexpected " + extra
                            + " (graph has " + actual.keySet() + ")");
        }
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            if (!(actual.get(e.getKey()).getInfo() instanceof TensorInfo info) || info.type != OnnxJavaType.FLOAT) {
                wrong.add(e.getKey() + " is not a float32 tensor");
                continue;
            }
            if (!shapeMatches(e.getValue(), info.getShape())) {
                wrong.add(e.getKey() + " has shape " + Arrays.toString(info.getShape()) + ", manifest says "
                        + Arrays.toString(e.getValue()) + " (-1 = dynamic batch)");
            }
        }
        if (!wrong.isEmpty()) {
            throw new BundleException(file, kind + " tensors do not match the manifest: " + String.join("; ", wrong));
        }
    }

    /** Same rank; the batch axis is free; other axes must agree wherever the graph fixes them. */
    private static boolean shapeMatches(long[] expected, long[] actual) {
        if (expected.length != actual.length) {
            return false;
        }
        for (int i = 1; i < expected.length; i++) {
            if (actual[i] > 0 && actual[i] != expected[i]) {
                return false;
            }
        }
        return actual[0] <= 0 || actual[0] == -1;
    }
}
