package io.exitflow.runtime.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.runtime.TestBundles;
import io.exitflow.runtime.manifest.Fixtures;
import io.exitflow.runtime.record.InferenceRequest;
import io.exitflow.runtime.record.RejectedRequest;
import io.exitflow.schemas.Prediction;
import io.exitflow.schemas.StageStats;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CascadeOperatorTest {
    private static Fixtures fx;
    private static final String MODEL = "tiny-mlp";
    private static final String VERSION = "test-1";

    @BeforeAll
    static void readFixtures() {
        fx = Fixtures.read(TestBundles.tiny());
    }

    private static int expectedExit(String eventId) {
        return fx.expectedExit()[Integer.parseInt(eventId.substring(1))];
    }

    private static void assertMatchesFixtures(List<Prediction> predictions) {
        for (Prediction p : predictions) {
            int i = Integer.parseInt(p.getEventId().substring(1));
            assertEquals(fx.expectedExit()[i], p.getExitStage(), "exit of " + p.getEventId());
            assertEquals(fx.expectedClass()[i], p.getClassIndex(), "class of " + p.getEventId());
            assertEquals(p.getExitStage() + 1, p.getStagesRun());
            assertEquals(p.getStagesRun(), p.getStageLatencyMicros().size());
        }
    }

    @Test
    void runsAStageWhenItsBatchIsFullAndAnswersExitsAtOnce() throws Exception {
        try (CascadeHarness c = new CascadeHarness(CascadeHarness.settings(4, 1_000_000, 0, 0))) {
            for (int i = 0; i < 3; i++) {
                c.send(TestBundles.request(fx, i));
            }
            assertTrue(c.take().isEmpty(), "no stage runs before its batch is full or its wait is over");
            assertEquals(3, c.operator.cascade.backlog());
            c.send(TestBundles.request(fx, 3));
            List<Prediction> out = c.take();
            long stage0Exits = java.util.stream.IntStream.range(0, 4)
                    .filter(i -> fx.expectedExit()[i] == 0)
                    .count();
            assertEquals(stage0Exits, out.size(), "stage-0 exits of the first batch are answered immediately");
            out.forEach(p -> assertEquals(0, p.getExitStage()));
            assertMatchesFixtures(out);
            assertEquals(4 - stage0Exits, c.operator.cascade.backlog(), "survivors wait in stage 1's batch");
        }
    }

    @Test
    void survivorsFillDeepBatchesAcrossKeysAndEveryEventIsAnswered() throws Exception {
        int n = fx.inputs().length;
        try (CascadeHarness c = new CascadeHarness(CascadeHarness.settings(8, 1_000_000, 0, 0))) {
            for (int i = 0; i < n; i++) {
                c.send(TestBundles.request(fx, i));
            }
            List<Prediction> out = c.take();
            assertTrue(c.operator.cascade.backlog() < 3 * 8, "every batch is bounded by the batch size");
            c.h.prepareSnapshotPreBarrier(1);
            out.addAll(c.take());
            assertEquals(n, out.size());
            assertEquals(
                    n, new HashSet<>(out.stream().map(Prediction::getEventId).toList()).size(), "no duplicates");
            assertMatchesFixtures(out);
            assertEquals(0, c.operator.cascade.backlog());
        }
    }

    @Test
    void aPartFullBatchRunsWhenItsOldestEventHasWaitedMaxWait() throws Exception {
        try (CascadeHarness c = new CascadeHarness(CascadeHarness.settings(64, 20, 0, 0))) {
            for (int i = 0; i < 10; i++) {
                c.send(TestBundles.request(fx, i));
            }
            c.h.setProcessingTime(19);
            assertTrue(c.take().isEmpty());
            c.h.setProcessingTime(20);
            List<Prediction> first = c.take();
            long stage0 = java.util.stream.IntStream.range(0, 10)
                    .filter(i -> fx.expectedExit()[i] == 0)
                    .count();
            assertEquals(stage0, first.size(), "stage 0 ran at its deadline; survivors now wait at stage 1");
            c.h.setProcessingTime(39);
            assertTrue(c.take().isEmpty(), "stage 1's batch started at t=20 and is due at t=40");
            c.h.setProcessingTime(40);
            c.h.setProcessingTime(60);
            List<Prediction> rest = c.take();
            assertEquals(10, first.size() + rest.size());
            assertMatchesFixtures(first);
            assertMatchesFixtures(rest);
        }
    }

    @Test
    void aValidThresholdUpdateAppliesToTheNextBatch() throws Exception {
        try (CascadeHarness c = new CascadeHarness(CascadeHarness.settings(4, 1_000_000, 0, 0))) {
            c.control(CascadeHarness.update(MODEL, VERSION, 3, List.of(0f, 0f, 0f)));
            assertEquals(3, c.operator.currentThresholds().version());
            for (int i = 0; i < 4; i++) {
                c.send(TestBundles.request(fx, i));
            }
            List<Prediction> out = c.take();
            assertEquals(4, out.size(), "threshold 0 lets every event leave at stage 0");
            for (Prediction p : out) {
                assertEquals(0, p.getExitStage());
                assertEquals(3L, p.getThresholdVersion());
            }
            assertEquals(0, c.operator.rejectedThresholdUpdates());
        }
    }

    @Test
    void invalidThresholdUpdatesAreRejectedWhole() throws Exception {
        try (CascadeHarness c = new CascadeHarness(CascadeHarness.settings(4, 1_000_000, 0, 0))) {
            c.control(CascadeHarness.update(MODEL, VERSION, 5, List.of(0.5f, 0.6f, 0f)));
            float[] before = c.operator.currentThresholds().values();
            c.control(CascadeHarness.update(MODEL, VERSION, 6, List.of(0.1f, 0.1f))); // wrong stage count
            c.control(CascadeHarness.update(MODEL, VERSION, 7, List.of(0.1f, 1.5f, 0f))); // out of range
            c.control(CascadeHarness.update(MODEL, VERSION, 8, List.of(0.1f, Float.NaN, 0f))); // not a number
            c.control(CascadeHarness.update("other-model", VERSION, 9, List.of(0.1f, 0.1f, 0f))); // unknown model
            c.control(CascadeHarness.update(MODEL, "old-build", 10, List.of(0.1f, 0.1f, 0f))); // other model version
            c.control(CascadeHarness.update(MODEL, VERSION, 5, List.of(0.1f, 0.1f, 0f))); // equal version
            c.control(CascadeHarness.update(MODEL, VERSION, 4, List.of(0.1f, 0.1f, 0f))); // older version
            assertEquals(7, c.operator.rejectedThresholdUpdates());
            assertEquals(5, c.operator.currentThresholds().version());
            assertEquals(
                    java.util.Arrays.toString(before),
                    java.util.Arrays.toString(c.operator.currentThresholds().values()));
        }
    }

    @Test
    void aSnapshotHoldsNoEventsInFlightAndThresholdsSurviveARestore() throws Exception {
        OperatorSubtaskState snapshot;
        Set<String> answered = new HashSet<>();
        try (CascadeHarness c = new CascadeHarness(CascadeHarness.settings(64, 1_000_000, 0, 0))) {
            c.control(CascadeHarness.update(MODEL, VERSION, 9, List.of(0.97f, 0.95f, 0f)));
            for (int i = 0; i < 5; i++) {
                c.send(TestBundles.request(fx, i));
            }
            assertTrue(c.take().isEmpty());
            c.h.prepareSnapshotPreBarrier(1); // what the task does before the barrier
            snapshot = c.h.snapshot(1, 1);
            c.take().forEach(p -> answered.add(p.getEventId()));
            assertEquals(5, answered.size(), "the batches ran before the barrier");
        }
        try (CascadeHarness restored = new CascadeHarness(CascadeHarness.settings(64, 1_000_000, 0, 0), snapshot)) {
            assertEquals(9, restored.operator.currentThresholds().version());
            assertEquals(0.97f, restored.operator.currentThresholds().get(0));
            restored.h.prepareSnapshotPreBarrier(2);
            assertTrue(restored.take().isEmpty(), "nothing is answered twice after a restore");
            restored.control(CascadeHarness.update(MODEL, VERSION, 9, List.of(0.1f, 0.1f, 0f)));
            assertEquals(1, restored.operator.rejectedThresholdUpdates(), "the restored version still orders updates");
        }
    }

    @Test
    void eventsStillWaitingInASnapshotAreAnsweredAfterRestore() throws Exception {
        OperatorSubtaskState snapshot;
        try (CascadeHarness c = new CascadeHarness(CascadeHarness.settings(64, 1_000_000, 0, 0))) {
            for (int i = 0; i < 5; i++) {
                c.send(TestBundles.request(fx, i));
            }
            snapshot = c.h.snapshot(1, 1); // no pre-barrier flush: the waiting events go into operator state
        }
        try (CascadeHarness restored = new CascadeHarness(CascadeHarness.settings(64, 1_000_000, 0, 0), snapshot)) {
            assertEquals(5, restored.operator.cascade.backlog());
            restored.h.prepareSnapshotPreBarrier(2);
            List<Prediction> out = restored.take();
            assertEquals(5, out.size());
            assertMatchesFixtures(out);
        }
    }

    @Test
    void sampledEventsRunEveryStageAndReportTheirExitAndTheFullDepthClass() throws Exception {
        int n = fx.inputs().length;
        try (CascadeHarness c = new CascadeHarness(CascadeHarness.settings(8, 1_000_000, 1.0, 5))) {
            for (int i = 0; i < n; i++) {
                c.send(TestBundles.request(fx, i));
            }
            c.h.prepareSnapshotPreBarrier(1);
            List<Prediction> out = c.take();
            assertEquals(n, out.size());
            for (Prediction p : out) {
                int i = Integer.parseInt(p.getEventId().substring(1));
                assertEquals(fx.expectedExit()[i], p.getExitStage(), "the exit taken is the one the rule chose");
                assertEquals(fx.expectedClass()[i], p.getClassIndex());
                assertEquals(3, p.getStagesRun());
                float[] last = fx.stages().get(2).logits()[i];
                assertEquals(io.exitflow.runtime.exit.Softmax.argmax(last, 0, last.length), p.getFullDepthClassIndex());
            }
            c.h.setProcessingTime(1000);
            List<StageStats> stats = c.stats();
            assertEquals(1, stats.size());
            StageStats s = stats.get(0);
            assertEquals(5, s.getSamples().size(), "samples are bounded per interval");
            assertEquals(3, s.getSamples().get(0).getScores().size());
            assertEquals(n, s.getArrivals());
            Map<Integer, Long> exits = new HashMap<>();
            for (int i = 0; i < n; i++) {
                exits.merge(fx.expectedExit()[i], 1L, Long::sum);
            }
            for (int k = 0; k < 3; k++) {
                assertEquals(exits.getOrDefault(k, 0L), s.getExits().get(k), "exits at stage " + k);
            }
            assertEquals(
                    List.of((long) n, (long) n, (long) n), s.getStageArrivals(), "sampled events reach every stage");
        }
    }

    @Test
    void unsampledPredictionsHaveNoFullDepthClass() throws Exception {
        try (CascadeHarness c = new CascadeHarness(CascadeHarness.settings(8, 1_000_000, 0, 5))) {
            for (int i = 0; i < 8; i++) {
                c.send(TestBundles.request(fx, i));
            }
            c.h.prepareSnapshotPreBarrier(1);
            List<Prediction> out = c.take();
            assertEquals(8, out.size());
            out.forEach(p -> assertNull(p.getFullDepthClassIndex()));
        }
    }

    @Test
    void aRequestWithTheWrongInputGoesToTheRejectedOutputAndTheRestIsServed() throws Exception {
        try (CascadeHarness c = new CascadeHarness(CascadeHarness.settings(2, 1_000_000, 0, 0))) {
            c.send(new InferenceRequest("bad", "k", 5L, new float[] {1f, 2f}, null));
            float[] withNaN = fx.inputs()[0].clone();
            withNaN[3] = Float.NaN;
            c.send(new InferenceRequest("nan", "k", 5L, withNaN, null));
            c.send(new InferenceRequest("zeros", "k", 5L, new float[8], null));
            c.send(new InferenceRequest("e1", "k", 5L, fx.inputs()[1].clone(), null));
            c.send(new InferenceRequest("e2", "k", 5L, fx.inputs()[2].clone(), null));
            var rejected = c.h.getSideOutput(io.exitflow.runtime.api.EarlyExit.REJECTED);
            assertEquals(2, rejected.size(), "wrong length and NaN are rejected; zeros are a valid input");
            RejectedRequest r = rejected.poll().getValue();
            assertEquals("bad", r.request.eventId);
            assertTrue(r.reason.contains("2 values") && r.reason.contains("expects 8"), r.reason);
            RejectedRequest nan = rejected.poll().getValue();
            assertTrue(nan.reason.contains("NaN"), nan.reason);
            c.h.prepareSnapshotPreBarrier(1);
            assertEquals(3, c.take().size());
        }
    }

    @Test
    void statsCountBatchesAndBusyTimePerStage() throws Exception {
        try (CascadeHarness c = new CascadeHarness(CascadeHarness.settings(4, 1_000_000, 0, 0))) {
            for (int i = 0; i < 8; i++) {
                c.send(TestBundles.request(fx, i));
            }
            c.h.setProcessingTime(1000);
            StageStats s = c.stats().get(0);
            assertEquals(8, s.getArrivals());
            assertEquals(2L, s.getBatches().get(0), "8 events in batches of 4");
            assertTrue(s.getBusyNanos().get(0) > 0);
            assertEquals(c.operator.cascade.backlog(), s.getBacklog());
            assertEquals(0L, s.getIntervalStartMillis());
            assertEquals(1000L, s.getIntervalEndMillis());
            assertNotNull(s.getOperatorName());
        }
    }
}
