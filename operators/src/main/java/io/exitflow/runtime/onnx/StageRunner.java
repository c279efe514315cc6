package io.exitflow.runtime.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.exitflow.runtime.bundle.Manifest;
import io.exitflow.runtime.exit.ScoreRule;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs one batch through one stage: rows are written into direct, native-order input buffers (ORT reads them
 * without a copy), the stage runs once, and outputs land in reused arrays. One runner per operator instance (not
 * thread-safe); the session behind it is shared.
 */
public final class StageRunner implements AutoCloseable {
    private final SessionLease lease;
    private final Manifest.Stage spec;
    private final ScoreRule scoreRule;
    private final int maxBatch;
    private final int stateInSize;
    private final int carryDim;
    private final long[] stateShape;
    private final FloatBuffer stateIn;
    private final FloatBuffer carryIn;
    private final Set<String> outputNames;
    private final StageOutputs out;

    public StageRunner(SessionLease lease, Manifest manifest, int stageIndex, ScoreRule scoreRule, int maxBatch) {
        this.lease = lease;
        this.spec = manifest.stages().get(stageIndex);
        this.scoreRule = scoreRule;
        this.maxBatch = maxBatch;
        this.carryDim = manifest.carryDim();
        this.stateInSize = product(spec.stateInShape());
        int stateOutSize = spec.output("state") == null ? 0 : product(spec.stateOutShape());
        this.stateShape = new long[spec.stateInShape().size() + 1];
        for (int i = 0; i < spec.stateInShape().size(); i++) {
            stateShape[i + 1] = spec.stateInShape().get(i);
        }
        this.stateIn = directFloats(maxBatch * stateInSize);
        this.carryIn = directFloats(maxBatch * carryDim);
        this.outputNames = new LinkedHashSet<>();
        if (stateOutSize > 0) {
            outputNames.add(spec.output("state"));
        }
        outputNames.add(spec.output("carry"));
        outputNames.add(spec.output("logits"));
        if (scoreRule == ScoreRule.MODEL) {
            outputNames.add(spec.output("score"));
        }
        this.out = new StageOutputs(maxBatch, stateOutSize, carryDim, manifest.numClasses());
    }

    /** Floats per event in this stage's {@code state_in}. */
    public int stateInSize() {
        return stateInSize;
    }

    public int maxBatch() {
        return maxBatch;
    }

    /** Writes row {@code row} of the next batch; {@code carry} null means zeros (stage 0). */
    public void put(int row, float[] state, float[] carry) {
        if (state.length != stateInSize) {
            throw new IllegalArgumentException("stage " + spec.index() + " expects " + stateInSize
                    + " state values per event, got " + state.length);
        }
        stateIn.put(row * stateInSize, state);
        if (carry == null) {
            for (int i = row * carryDim; i < (row + 1) * carryDim; i++) {
                carryIn.put(i, 0f);
            }
        } else {
            carryIn.put(row * carryDim, carry);
        }
    }

    /** Runs rows {@code [0, n)} written by {@link #put}; the result is valid until the next call. */
    public StageOutputs run(int n) throws OrtException {
        if (n < 1 || n > maxBatch) {
            throw new IllegalArgumentException("batch size " + n + " outside [1, " + maxBatch + "]");
        }
        OrtSession session = lease.session();
        stateIn.limit(n * stateInSize).position(0);
        carryIn.limit(n * carryDim).position(0);
        stateShape[0] = n;
        try (OnnxTensor state = OnnxTensor.createTensor(Ort.environment(), stateIn, stateShape);
             OnnxTensor carry = OnnxTensor.createTensor(Ort.environment(), carryIn, new long[] {n, carryDim});
             OrtSession.Result result = session.run(
                     Map.of(spec.input("state"), state, spec.input("carry"), carry), outputNames)) {
            out.size = n;
            if (out.state != null) {
                read(result, spec.output("state"), out.state, n * out.stateSize);
            }
            read(result, spec.output("carry"), out.carry, n * carryDim);
            read(result, spec.output("logits"), out.logits, n * out.numClasses);
            if (scoreRule == ScoreRule.MODEL) {
                read(result, spec.output("score"), out.scores, n);
            } else {
                for (int i = 0; i < n; i++) {
                    out.scores[i] = scoreRule.fromLogits(out.logits, i * out.numClasses, out.numClasses);
                }
            }
            return out;
        } finally {
            stateIn.clear();
            carryIn.clear();
        }
    }

    private static void read(OrtSession.Result result, String name, float[] into, int count) throws OrtException {
        OnnxTensor t = (OnnxTensor) result.get(name).orElseThrow(() -> new IllegalStateException("no output " + name));
        t.getFloatBuffer().get(into, 0, count);
    }

    private static FloatBuffer directFloats(int n) {
        return ByteBuffer.allocateDirect(n * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    static int product(List<Integer> shape) {
        int p = 1;
        for (int d : shape) {
            p *= d;
        }
        return p;
    }

    /** Releases this runner's reference to the shared session. */
    @Override
    public void close() {
        lease.close();
    }
}
