package io.exitflow.runtime.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.runtime.TestBundles;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.manifest.Fixtures;
import io.exitflow.runtime.onnx.OrtConfig;
import io.exitflow.schemas.Prediction;
import io.exitflow.schemas.ThresholdUpdate;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** Stage 0 alone emits survivors; a split operator for stages 1..2 answers them exactly as the cascade would. */
class SplitStageOperatorTest {
    private final Fixtures fx = Fixtures.read(TestBundles.tiny());

    private static KeyedTwoInputStreamOperatorTestHarness<String, InFlightEvent, ThresholdUpdate, Prediction> split(
            CascadeSettings s) throws Exception {
        var h = new KeyedTwoInputStreamOperatorTestHarness<>(
                new SplitStageOperator(ModelBundle.load(TestBundles.tiny()), s, OrtConfig.cpu()),
                (KeySelector<InFlightEvent, String>) e -> e.key,
                (KeySelector<ThresholdUpdate, String>) u -> u.getModelId(),
                Types.STRING);
        h.setProcessingTime(0);
        h.open();
        return h;
    }

    @Test
    void survivorsOfStageZeroAreAnsweredByTheNextStages() throws Exception {
        int n = fx.inputs().length;
        List<InFlightEvent> survivors = new ArrayList<>();
        List<Prediction> answers = new ArrayList<>();
        try (CascadeHarness first = new CascadeHarness(new CascadeSettings(0, 0, true, 8, 1000, 0, 0, 1000, true))) {
            for (int i = 0; i < n; i++) {
                first.send(TestBundles.request(fx, i));
            }
            first.h.prepareSnapshotPreBarrier(1);
            answers.addAll(first.take());
            first.h.getSideOutput(CascadeOperator.SURVIVORS).forEach(r -> survivors.add(r.getValue()));
        }
        long stage0 =
                java.util.Arrays.stream(fx.expectedExit()).filter(e -> e == 0).count();
        assertEquals(stage0, answers.size());
        assertEquals(n - stage0, survivors.size(), "every other event leaves stage 0 as a survivor");
        survivors.forEach(e -> assertEquals(1, e.nextStage));

        try (var rest = split(new CascadeSettings(1, 2, true, 4, 1000, 0, 0, 1000, true))) {
            for (InFlightEvent e : survivors) {
                rest.processElement1(new StreamRecord<>(e, e.eventTime));
            }
            assertTrue(rest.getSideOutput(CascadeOperator.SURVIVORS) == null, "the last stage leaves no survivors");
            rest.processWatermark2(new Watermark(9000)); // control watermarks neither advance nor hold back time
            assertTrue(rest.getOutput().stream().noneMatch(o -> o instanceof Watermark));
            rest.processWatermark1(new Watermark(5000));
            List<Object> out = new ArrayList<>(rest.getOutput());
            assertEquals(
                    new Watermark(5000), out.get(out.size() - 1), "waiting batches run before the watermark passes");
            answers.addAll(rest.extractOutputValues());
        }
        assertEquals(n, answers.size());
        for (Prediction p : answers) {
            int i = Integer.parseInt(p.getEventId().substring(1));
            assertEquals(fx.expectedExit()[i], p.getExitStage(), p.getEventId());
            assertEquals(fx.expectedClass()[i], p.getClassIndex(), p.getEventId());
            assertEquals(p.getExitStage() + 1, p.getStageLatencyMicros().size(), "latency of every stage it ran");
        }
    }

    @Test
    void aCudaRequestWithoutACudaBuildStillServesOnCpu() throws Exception {
        CascadeOperator op = new CascadeOperator(
                ModelBundle.load(TestBundles.tiny()),
                CascadeHarness.settings(4, 1000, 0, 0),
                new OrtConfig(OrtConfig.Device.CUDA, OrtConfig.FROM_EXTERNAL_RESOURCE, 1));
        var h = new KeyedTwoInputStreamOperatorTestHarness<>(
                op,
                (KeySelector<io.exitflow.runtime.record.InferenceRequest, String>) r -> r.key,
                (KeySelector<ThresholdUpdate, String>) u -> u.getModelId(),
                Types.STRING);
        h.setProcessingTime(0);
        h.open();
        try {
            for (int i = 0; i < 4; i++) {
                var r = TestBundles.request(fx, i);
                h.processElement1(new StreamRecord<>(r, r.eventTime));
            }
            h.prepareSnapshotPreBarrier(1);
            assertEquals(4, h.extractOutputValues().size());
        } finally {
            h.close();
        }
    }
}
