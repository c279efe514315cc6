package io.exitflow.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.runtime.bundle.InputNormaliser;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.exit.ScoreRule;
import io.exitflow.runtime.exit.Thresholds;
import io.exitflow.runtime.manifest.Fixtures;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.runtime.onnx.SharedSessions;
import io.exitflow.runtime.onnx.StageOutputs;
import io.exitflow.runtime.onnx.StageRunner;
import io.exitflow.runtime.operator.BatchingCascade;
import io.exitflow.runtime.operator.CascadeObserver;
import io.exitflow.runtime.operator.CascadeSettings;
import io.exitflow.runtime.operator.InFlightEvent;
import io.exitflow.runtime.record.InferenceRequest;
import io.exitflow.schemas.Prediction;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Java runtime against the toolkit's fixtures.json of every bundle we have (the tiny test bundle, and
 * models/&lt;id&gt;/ once the toolkit has exported them): per-stage logits, scores and carried vectors within the
 * fixture tolerance, and the same exits and classes through the batching cascade.
 */
class ParityTest {
    static List<Path> bundles() {
        return TestBundles.withFixtures();
    }

    private static List<StageRunner> runners(ModelBundle b, int batch) {
        Manifest m = b.manifest();
        List<StageRunner> rs = new ArrayList<>();
        for (int k = 0; k < m.numStages(); k++) {
            rs.add(new StageRunner(
                    SharedSessions.acquire(b.stageFile(k), Optional.empty(), 1),
                    m,
                    k,
                    ScoreRule.of(m.exit().score()),
                    batch));
        }
        return rs;
    }

    @ParameterizedTest
    @MethodSource("bundles")
    void everyStageReproducesTheFixtureOutputs(Path dir) throws Exception {
        ModelBundle b = ModelBundle.load(dir);
        Fixtures fx = b.fixtures();
        Manifest m = b.manifest();
        int n = fx.inputs().length;
        InputNormaliser norm = new InputNormaliser(m);
        List<StageRunner> rs = runners(b, n);
        try {
            float[][] state = new float[n][];
            float[][] carry = new float[n][];
            for (int i = 0; i < n; i++) {
                state[i] = norm.normalise(fx.inputs()[i]);
            }
            for (int k = 0; k < m.numStages(); k++) {
                for (int i = 0; i < n; i++) {
                    rs.get(k).put(i, state[i], carry[i]);
                }
                StageOutputs out = rs.get(k).run(n);
                Fixtures.StageExpectation want = fx.stages().get(k);
                for (int i = 0; i < n; i++) {
                    String at = dir.getFileName() + " stage " + k + " input " + i;
                    assertClose(want.logits()[i], out.logits(i), fx.tolerance(), at + " logits");
                    assertEquals(want.score()[i], out.score(i), fx.tolerance(), at + " score");
                    if (want.carry() != null) {
                        assertClose(want.carry()[i], out.carry(i), fx.tolerance(), at + " carry");
                    }
                    state[i] = out.state(i);
                    carry[i] = out.carry(i);
                }
            }
        } finally {
            rs.forEach(StageRunner::close);
        }
    }

    @ParameterizedTest
    @MethodSource("bundles")
    void theCascadeTakesTheFixtureExitsAndClasses(Path dir) throws Exception {
        ModelBundle b = ModelBundle.load(dir);
        Fixtures fx = b.fixtures();
        Manifest m = b.manifest();
        int n = fx.inputs().length;
        int batch = 7; // odd size: full batches and a part-full remainder at every stage
        List<StageRunner> rs = runners(b, batch);
        Map<String, Prediction> answers = new HashMap<>();
        try {
            BatchingCascade cascade = new BatchingCascade(
                    m,
                    new CascadeSettings(0, m.numStages() - 1, true, batch, 10, 0, 0, 1000, true),
                    rs,
                    new Thresholds(m.modelId(), m.modelVersion(), 1, fx.thresholds()),
                    new BatchingCascade.Sink() {
                        @Override
                        public void prediction(Prediction p, long eventTime) {
                            answers.put(p.getEventId(), p);
                        }

                        @Override
                        public void survivor(InFlightEvent e) {
                            throw new AssertionError("the cascade answers every event itself");
                        }
                    },
                    CascadeObserver.NONE);
            InputNormaliser norm = new InputNormaliser(m);
            for (int i = 0; i < n; i++) {
                InferenceRequest r = TestBundles.request(fx, i);
                cascade.admit(InFlightEvent.start(r, norm.normalise(r.input), m.numStages(), false), 0);
            }
            cascade.flushAll(0);
        } finally {
            rs.forEach(StageRunner::close);
        }
        assertEquals(n, answers.size());
        int borderline = 0;
        for (int i = 0; i < n; i++) {
            Prediction p = answers.get("e" + i);
            if (FixtureCheck.assertMatches(
                    fx, fx.thresholds(), i, p, dir.getFileName().toString())) {
                borderline++;
            } else {
                assertEquals(m.classes().get(fx.expectedClass()[i]), p.getPredictedClass());
            }
        }
        assertTrue(borderline <= n / 10, "too many borderline exits: " + borderline);
    }

    private static void assertClose(float[] want, float[] got, double tol, String what) {
        assertEquals(want.length, got.length, what + " length");
        for (int j = 0; j < want.length; j++) {
            assertEquals(want[j], got[j], tol * Math.max(1.0, Math.abs(want[j])), what + "[" + j + "]");
        }
    }
}
