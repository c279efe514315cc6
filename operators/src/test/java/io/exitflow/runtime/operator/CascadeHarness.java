package io.exitflow.runtime.operator;

import io.exitflow.runtime.TestBundles;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.onnx.OrtConfig;
import io.exitflow.runtime.record.InferenceRequest;
import io.exitflow.schemas.Prediction;
import io.exitflow.schemas.StageStats;
import io.exitflow.schemas.ThresholdUpdate;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;

/** A cascade operator on the tiny bundle inside Flink's keyed two-input operator test harness. */
final class CascadeHarness implements AutoCloseable {
    final CascadeOperator operator;
    final KeyedTwoInputStreamOperatorTestHarness<String, InferenceRequest, ThresholdUpdate, Prediction> h;

    CascadeHarness(CascadeSettings settings) throws Exception {
        this(settings, null);
    }

    CascadeHarness(CascadeSettings settings, OperatorSubtaskState restoreFrom) throws Exception {
        this(TestBundles.tiny().toString(), settings, restoreFrom);
    }

    /** A cascade on the bundle at {@code bundlePath}, restored from {@code restoreFrom} when it is not null. */
    CascadeHarness(String bundlePath, CascadeSettings settings, OperatorSubtaskState restoreFrom) throws Exception {
        operator = new CascadeOperator(ModelBundle.load(Path.of(bundlePath)), settings, OrtConfig.cpu());
        h = new KeyedTwoInputStreamOperatorTestHarness<>(
                operator,
                (KeySelector<InferenceRequest, String>) r -> r.key,
                (KeySelector<ThresholdUpdate, String>) u -> u.getModelId(),
                Types.STRING);
        h.setProcessingTime(0);
        if (restoreFrom != null) {
            h.initializeState(restoreFrom);
        }
        h.open();
    }

    /** Cascade over all 3 stages of the tiny bundle. */
    static CascadeSettings settings(int maxBatch, long maxWaitMs, double sampleRate, int maxSamples) {
        return new CascadeSettings(0, 2, true, maxBatch, maxWaitMs, sampleRate, maxSamples, 1000, true);
    }

    void send(InferenceRequest r) throws Exception {
        h.processElement1(new StreamRecord<>(r, r.eventTime));
    }

    void control(ThresholdUpdate u) throws Exception {
        h.processElement2(new StreamRecord<>(u, 0L));
    }

    /** Predictions emitted so far, removed from the harness output. */
    List<Prediction> take() {
        List<Prediction> out = new ArrayList<>(h.extractOutputValues());
        h.getOutput().clear();
        return out;
    }

    List<StageStats> stats() {
        List<StageStats> out = new ArrayList<>();
        var q = h.getSideOutput(EarlyExitOperator.STAGE_STATS);
        if (q != null) {
            q.forEach(r -> out.add(r.getValue()));
        }
        return out;
    }

    static ThresholdUpdate update(String model, String version, long updateVersion, List<Float> thresholds) {
        return ThresholdUpdate.newBuilder()
                .setModelId(model)
                .setModelVersion(version)
                .setUpdateVersion(updateVersion)
                .setThresholds(thresholds)
                .setReason("test")
                .setTimestampMillis(0L)
                .build();
    }

    @Override
    public void close() throws Exception {
        h.close();
    }
}
