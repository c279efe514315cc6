package io.exitflow.runtime.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.exitflow.runtime.TestBundles;
import io.exitflow.runtime.manifest.BundleException;
import io.exitflow.runtime.manifest.Manifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading the tiny bundle, and every kind of broken bundle failing at load with the file and the fix named. */
class ModelBundleTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void loadsAValidBundle() {
        ModelBundle b = ModelBundle.load(TestBundles.tiny());
        assertEquals("tiny-mlp", b.manifest().modelId());
        assertEquals(3, b.manifest().numStages());
        assertEquals(3, b.manifest().carryDim());
        assertEquals(3, b.calibration().stages().size());
        assertEquals(
                b.calibration().labels().length, b.calibration().stages().get(0).score().length);
        assertTrue(Files.isRegularFile(b.stageFile(2)));
    }

    private Path corrupted(Consumer<ObjectNode> edit) throws IOException {
        return corrupted("bundle", edit);
    }

    private Path corrupted(String name, Consumer<ObjectNode> edit) throws IOException {
        Path dir = TestBundles.copy(TestBundles.tiny(), tmp.resolve(name));
        ObjectNode m = (ObjectNode) JSON.readTree(dir.resolve("manifest.json").toFile());
        edit.accept(m);
        JSON.writeValue(dir.resolve("manifest.json").toFile(), m);
        return dir;
    }

    private static String failure(Path dir) {
        return assertThrows(BundleException.class, () -> ModelBundle.load(dir)).getMessage();
    }

    private static ObjectNode stage(ObjectNode m, int k) {
        return (ObjectNode) m.withArray("stages").get(k);
    }

    private static void assertMentions(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "message should mention '" + p + "': " + message);
        }
    }

    @Test
    void aMissingDirectoryOrManifestIsNamed() throws IOException {
        assertMentions(failure(tmp.resolve("nope")), "nope", "does not exist");
        Path dir = TestBundles.copy(TestBundles.tiny(), tmp.resolve("b"));
        Files.delete(dir.resolve("manifest.json"));
        assertMentions(failure(dir), "manifest.json", "missing");
    }

    @Test
    void malformedJsonIsNamed() throws IOException {
        Path dir = TestBundles.copy(TestBundles.tiny(), tmp.resolve("b"));
        Files.writeString(dir.resolve("manifest.json"), "{\"model_id\": ");
        assertMentions(failure(dir), "manifest.json", "not valid JSON");
    }

    @Test
    void thresholdsMustMatchTheStageCount() throws IOException {
        Path dir = corrupted(m -> ((ArrayNode) m.get("exit").get("thresholds")).remove(2));
        assertMentions(failure(dir), "manifest.json", "exit.thresholds", "one value per stage (3)", "got 2");
    }

    @Test
    void thresholdsMustBeInRange() throws IOException {
        Path dir = corrupted(m -> ((ArrayNode) m.get("exit").get("thresholds")).set(0, 1.5));
        assertMentions(failure(dir), "manifest.json", "[0, 1]", "1.5");
    }

    @Test
    void classesMustBeDistinct() throws IOException {
        Path dir = corrupted(m -> ((ArrayNode) m.get("classes")).set(1, "alpha"));
        assertMentions(failure(dir), "manifest.json", "duplicate", "alpha");
    }

    @Test
    void theClassCountMustMatchTheGraphsLogits() throws IOException {
        Path dir = corrupted(m -> ((ArrayNode) m.get("classes")).add("delta"));
        assertMentions(failure(dir), "stage0.onnx", "logits", "[-1, 4]");
    }

    @Test
    void aDroppedStageIsCaught() throws IOException {
        Path dir = corrupted(m -> {
            m.withArray("stages").remove(2);
            ((ArrayNode) m.get("exit").get("thresholds")).remove(2);
        });
        assertMentions(failure(dir), "manifest.json", "stages[1] is the last stage", "outputs.state must be null");
    }

    @Test
    void tensorNamesMustMatchTheGraph() throws IOException {
        Path dir = corrupted(m -> ((ObjectNode) stage(m, 1).get("outputs")).put("logits", "exit_logits"));
        assertMentions(failure(dir), "stage1.onnx", "output names", "missing [exit_logits]", "unexpected [logits]");
    }

    @Test
    void stateShapesMustMatchTheGraph() throws IOException {
        Path dir = corrupted(m -> {
            ((ArrayNode) stage(m, 0).get("state_out_shape")).set(0, 12);
            ((ArrayNode) stage(m, 1).get("state_in_shape")).set(0, 12);
        });
        assertMentions(failure(dir), "stage0.onnx", "state_out", "[-1, 16]", "[-1, 12]");
    }

    @Test
    void stateShapesMustChainFromStageToStage() throws IOException {
        Path dir = corrupted(m -> ((ArrayNode) stage(m, 2).get("state_in_shape")).set(0, 15));
        assertMentions(
                failure(dir), "manifest.json", "stages[2].state_in_shape [15]", "stages[1].state_out_shape [16]");
    }

    @Test
    void carryDimMustMatchTheGraph() throws IOException {
        Path dir = corrupted(m -> m.put("carry_dim", 4));
        assertMentions(failure(dir), "stage0.onnx", "carry_in", "[-1, 4]");
    }

    @Test
    void aMissingOrBrokenOnnxFileIsNamed() throws IOException {
        Path dir = TestBundles.copy(TestBundles.tiny(), tmp.resolve("b"));
        Files.delete(dir.resolve("stage1.onnx"));
        assertMentions(failure(dir), "stage1.onnx", "missing");
        Files.writeString(dir.resolve("stage1.onnx"), "not a model");
        assertMentions(failure(dir), "stage1.onnx", "ONNX Runtime cannot load stage 1");
    }

    @Test
    void normalisationMustCoverTheInput() throws IOException {
        Path dir = corrupted(m -> ((ArrayNode) m.get("input").get("std")).remove(0));
        assertMentions(failure(dir), "manifest.json", "input.std must have 8 values");
        Path zero = corrupted("second", m -> ((ArrayNode) m.get("input").get("std")).set(0, 0.0));
        assertMentions(failure(zero), "manifest.json", "positive");
    }

    @Test
    void anUnknownScoreSourceOrFormatIsRejected() throws IOException {
        Path dir = corrupted(m -> ((ObjectNode) m.get("exit")).put("score", "confidence"));
        assertMentions(failure(dir), "manifest.json", "exit.score", "confidence");
        Path v3 = corrupted("second", m -> m.put("format_version", 3));
        assertMentions(failure(v3), "format_version is 3", "reads 1 or 2");
    }

    private Path sensorBundle(String name, Consumer<ObjectNode> edit) throws IOException {
        Path dir = TestBundles.copy(TestBundles.repoRoot().resolve("models/sensor-cnn"), tmp.resolve(name));
        ObjectNode m = (ObjectNode) JSON.readTree(dir.resolve("manifest.json").toFile());
        edit.accept(m);
        JSON.writeValue(dir.resolve("manifest.json").toFile(), m);
        return dir;
    }

    private static ObjectNode window(ObjectNode m) {
        return (ObjectNode) m.get("input").get("window");
    }

    @Test
    void aFormat1WindowReadsAsAWholeMillisecondPeriodWithoutMaxGap() throws IOException {
        Manifest.Window w =
                ModelBundle.load(sensorBundle("v1", m -> {})).manifest().input().window();
        assertEquals(10.0, w.samplePeriodMs());
        assertTrue(w.maxGapMillis().isEmpty());
    }

    @Test
    void aFormat2WindowMayHaveAFractionalPeriodAndAMaxGap() throws IOException {
        Path dir = sensorBundle("v2", m -> {
            m.put("format_version", 2);
            window(m).put("sample_period_ms", 31.25).put("max_gap_ms", 96.9);
        });
        Manifest.Window w = ModelBundle.load(dir).manifest().input().window();
        assertEquals(31.25, w.samplePeriodMs());
        assertEquals(96L, w.maxGapMillis().getAsLong()); // integer steps: longer than 96.9 exactly when longer than 96
    }

    @Test
    void aWindowMustMatchTheInputShape() throws IOException {
        Path dir = sensorBundle("size", m -> window(m).put("size", 64));
        assertMentions(failure(dir), "manifest.json", "input.window.size 64 must equal input.shape[1] 128");
        Path period = sensorBundle("period", m -> window(m).put("sample_period_ms", 0));
        assertMentions(failure(period), "input.window.sample_period_ms must be positive");
        Path gap = sensorBundle("gap", m -> window(m).put("max_gap_ms", 5.0));
        assertMentions(failure(gap), "input.window.max_gap_ms must be finite and at least sample_period_ms");
        Path slide = sensorBundle("slide", m -> window(m).put("slide", 0));
        assertMentions(failure(slide), "input.window.slide must be >= 1");
        Path none = sensorBundle("none", m -> ((ObjectNode) m.get("input")).remove("window"));
        assertMentions(failure(none), "task 'sensor-window' needs input.layout 'channels_first' and input.window");
    }

    @Test
    void calibrationMustCoverEveryStage() throws IOException {
        Path dir = TestBundles.copy(TestBundles.tiny(), tmp.resolve("b"));
        ObjectNode c =
                (ObjectNode) JSON.readTree(dir.resolve("calibration.json").toFile());
        c.withArray("stages").remove(0);
        JSON.writeValue(dir.resolve("calibration.json").toFile(), c);
        assertMentions(failure(dir), "calibration.json", "has 2 stages, manifest has 3");
    }

    @Test
    void normaliserScalesPerChannelForWindows() {
        Manifest m = new Manifest(
                1,
                "w",
                "v",
                "sensor-window",
                java.util.List.of("a", "b"),
                new Manifest.Input(
                        java.util.List.of(2, 3), "channels_first", new float[] {1f, 10f}, new float[] {2f, 5f}, null),
                1,
                java.util.List.of(),
                null,
                null);
        InputNormaliser n = new InputNormaliser(m);
        float[] x = n.normalise(new float[] {1f, 3f, 5f, 10f, 20f, 0f});
        assertEquals("[0.0, 1.0, 2.0, 0.0, 2.0, -2.0]", java.util.Arrays.toString(x));
        assertTrue(n.problem(new float[5]).orElseThrow().contains("expects 6"));
    }
}
