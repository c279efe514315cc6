package io.exitflow.runtime.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.runtime.TestBundles;
import io.exitflow.runtime.bundle.InputNormaliser;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.exit.ScoreRule;
import io.exitflow.runtime.exit.Softmax;
import io.exitflow.runtime.exit.Thresholds;
import io.exitflow.runtime.manifest.BundleException;
import io.exitflow.runtime.manifest.Fixtures;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.runtime.onnx.SharedSessions;
import io.exitflow.runtime.onnx.StageOutputs;
import io.exitflow.runtime.onnx.StageRunner;
import io.exitflow.runtime.record.InferenceRequest;
import io.exitflow.schemas.Prediction;
import io.exitflow.schemas.StageStats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole-model graph of a bundle ({@code full_graph}, models/sensor-cnn/full.onnx): it reproduces the last stage of
 * the toolkit's fixtures, FULL_DEPTH runs it once per batch, the staged full depth stays available, and a bundle
 * whose manifest names a missing graph fails at load.
 */
class FullGraphTest {
    private static final Path BUNDLE = TestBundles.repoRoot().resolve("models/sensor-cnn");

    private static StageRunner fullRunner(ModelBundle b, int batch) {
        Manifest m = b.manifest();
        return StageRunner.fullGraph(
                SharedSessions.acquire(b.fullGraphFile().orElseThrow(), Optional.empty(), 1),
                m,
                ScoreRule.of(m.exit().score()),
                batch);
    }

    @Test
    void theFullGraphReproducesTheLastStageOfEveryFixture() throws Exception {
        ModelBundle b = ModelBundle.load(BUNDLE);
        Manifest m = b.manifest();
        assertNotNull(m.fullGraph(), "models/sensor-cnn declares full_graph");
        Fixtures fx = b.fixtures();
        int n = fx.inputs().length;
        InputNormaliser norm = new InputNormaliser(m);
        Fixtures.StageExpectation last = fx.stages().get(m.numStages() - 1);
        try (StageRunner r = fullRunner(b, n)) {
            for (int i = 0; i < n; i++) {
                r.put(i, norm.normalise(fx.inputs()[i]), null);
            }
            StageOutputs out = r.run(n);
            for (int i = 0; i < n; i++) {
                float[] got = out.logits(i);
                for (int j = 0; j < got.length; j++) {
                    assertEquals(
                            last.logits()[i][j], got[j], fx.tolerance() * Math.max(1, Math.abs(got[j])), "input " + i);
                }
                assertEquals(last.score()[i], out.score(i), fx.tolerance(), "score of input " + i);
                assertEquals(out.state(i), null, "the full graph has no state output");
            }
        }
    }

    @Test
    void fullDepthRunsTheWholeModelInOneCallPerBatch() throws Exception {
        ModelBundle b = ModelBundle.load(BUNDLE);
        Manifest m = b.manifest();
        Fixtures fx = b.fixtures();
        int n = fx.inputs().length;
        int batch = 7;
        int k = m.numStages();
        CascadeSettings s = new CascadeSettings(0, k - 1, false, batch, 10, 0, 16, 1000, true);
        assertTrue(s.runsFullGraph(m));
        Recorder rec = new Recorder();
        BatchingCascade cascade;
        try (StageRunner r = fullRunner(b, batch)) {
            cascade = new BatchingCascade(m, s, List.of(r), Thresholds.defaults(m), rec, rec);
            InputNormaliser norm = new InputNormaliser(m);
            for (int i = 0; i < n; i++) {
                InferenceRequest req = TestBundles.request(fx, i);
                // every other event is sampled: it gets its full-depth class, but no per-stage sample
                cascade.admit(InFlightEvent.start(req, norm.normalise(req.input), k, i % 2 == 0), 0);
            }
            cascade.flushAll(0);
        }
        assertEquals((n + batch - 1) / batch, rec.batches.size(), "one ONNX call per batch");
        rec.batches.forEach(stage -> assertEquals(k - 1, stage, "the call is reported on the last stage"));
        assertEquals(n, rec.predictions.size());
        for (Prediction p : rec.predictions) {
            int i = Integer.parseInt(p.getEventId().substring(1));
            float[] logits = fx.stages().get(k - 1).logits()[i];
            assertEquals(Softmax.argmax(logits, 0, logits.length), p.getClassIndex(), p.toString());
            assertEquals(k - 1, p.getExitStage());
            assertEquals(k, p.getStagesRun());
            assertEquals(k, p.getStageLatencyMicros().size(), "one latency per stage run");
            for (int st = 0; st < k - 1; st++) {
                assertEquals(0L, p.getStageLatencyMicros().get(st), "the whole call is on the last stage");
            }
            if (i % 2 == 0) {
                assertEquals(p.getClassIndex(), p.getFullDepthClassIndex());
            } else {
                assertNull(p.getFullDepthClassIndex());
            }
        }
        StageStats stats = cascade.stats().emit(m.modelId(), "op", 0, 0, 1, 0, 0, 0, -1);
        assertTrue(
                stats.getSamples() == null || stats.getSamples().isEmpty(), "no per-stage samples from the full graph");
    }

    @Test
    void theStagedFullDepthStaysAvailable() throws Exception {
        ModelBundle b = ModelBundle.load(BUNDLE);
        Manifest m = b.manifest();
        int k = m.numStages();
        CascadeSettings staged = new CascadeSettings(0, k - 1, false, 8, 10, 0, 0, 1000, false);
        assertFalse(staged.runsFullGraph(m));
        assertFalse(
                new CascadeSettings(0, k - 1, true, 8, 10, 0, 0, 1000, true).runsFullGraph(m),
                "exits on: the cascade runs stages");
        try (StageRunner r = fullRunner(b, 8)) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> new BatchingCascade(
                            m, staged, List.of(r), Thresholds.defaults(m), new Recorder(), CascadeObserver.NONE));
            assertTrue(e.getMessage().contains("need " + k + " stage runners"), e.getMessage());
        }
    }

    @Test
    void aBundleWithoutAFullGraphStillLoadsAndRunsItsStages() {
        Manifest m = ModelBundle.load(TestBundles.tiny()).manifest();
        assertNull(m.fullGraph());
        assertFalse(new CascadeSettings(0, m.numStages() - 1, false, 8, 10, 0, 0, 1000, true).runsFullGraph(m));
    }

    @Test
    void aMissingFullGraphFileFailsAtLoadNamingIt(@TempDir Path tmp) throws Exception {
        Path copy = TestBundles.copy(BUNDLE, tmp.resolve("b"));
        Files.delete(copy.resolve("full.onnx"));
        BundleException e = assertThrows(BundleException.class, () -> ModelBundle.load(copy));
        assertTrue(e.getMessage().contains("full.onnx") && e.getMessage().contains("full graph"), e.getMessage());
    }

    @Test
    void aFullGraphWithAStateOutputIsRefused(@TempDir Path tmp) throws Exception {
        Path copy = TestBundles.copy(BUNDLE, tmp.resolve("b"));
        Path manifest = copy.resolve("manifest.json");
        String text = Files.readString(manifest);
        String fixed = text.replace(
                "\"outputs\": {\n      \"carry\": \"carry_out\",\n      \"logits\": \"logits\",\n"
                        + "      \"score\": \"score\"\n    },\n    \"flops\"",
                "\"outputs\": {\n      \"state\": \"x\", \"carry\": "
                        + "\"carry_out\",\n      \"logits\": \"logits\",\n      \"score\": \"score\"\n    },\n    \"flops\"");
        assertFalse(fixed.equals(text), "the test edits full_graph.outputs");
        Files.writeString(manifest, fixed);
        BundleException e = assertThrows(BundleException.class, () -> ModelBundle.load(copy));
        assertTrue(e.getMessage().contains("full_graph.outputs.state"), e.getMessage());
    }

    /** Sink and observer: predictions and the stage of every batch run. */
    private static final class Recorder implements BatchingCascade.Sink, CascadeObserver {
        final List<Prediction> predictions = new ArrayList<>();
        final List<Integer> batches = new ArrayList<>();

        @Override
        public void prediction(Prediction p, long eventTime) {
            predictions.add(p);
        }

        @Override
        public void survivor(InFlightEvent e) {
            throw new AssertionError("full depth answers every event");
        }

        @Override
        public void batchRun(int stage, int size, long nanos) {
            batches.add(stage);
        }

        @Override
        public void exited(int stage) {}

        @Override
        public void answered(long latencyMicros) {}
    }
}
