package io.exitflow.runtime.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.exitflow.runtime.exit.ScoreRule;
import io.exitflow.runtime.manifest.Manifest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.annotation.Internal;

/**
 * Runs one batch through one stage: rows are written into direct, native-order input buffers (ORT reads them
 * without a copy), the stage runs once, and ORT writes its outputs straight into direct buffers of the runner (pinned
 * outputs: no output allocation and no copy out of ORT). One runner per operator instance (not thread-safe); the
 * session behind it is shared.
 */
@Internal
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
    private final int stateOutSize;
    private final int numClasses;
    private final long[] stateOutShape;
    private final FloatBuffer stateOut;
    private final FloatBuffer carryOut;
    private final FloatBuffer logitsOut;
    private final FloatBuffer scoreOut;
    private final StageOutputs out;

    public StageRunner(SessionLease lease, Manifest manifest, int stageIndex, ScoreRule scoreRule, int maxBatch) {
        this(lease, manifest, manifest.stages().get(stageIndex), scoreRule, maxBatch);
    }

    /**
     * Runs the bundle's whole model as one graph ({@link Manifest#fullGraph()}): input the normalised model input
     * ({@code input.shape} per event), outputs as the last stage's. One call per batch instead of one per stage.
     *
     * @throws IllegalArgumentException when the manifest declares no full graph
     */
    public static StageRunner fullGraph(SessionLease lease, Manifest manifest, ScoreRule scoreRule, int maxBatch) {
        if (manifest.fullGraph() == null) {
            throw new IllegalArgumentException("model " + manifest.modelId() + " has no full_graph in its manifest");
        }
        return new StageRunner(lease, manifest, manifest.fullGraph().asStage(manifest), scoreRule, maxBatch);
    }

    private StageRunner(SessionLease lease, Manifest manifest, Manifest.Stage spec, ScoreRule scoreRule, int maxBatch) {
        this.lease = lease;
        this.spec = spec;
        this.scoreRule = scoreRule;
        this.maxBatch = maxBatch;
        this.carryDim = manifest.carryDim();
        this.stateInSize = product(spec.stateInShape());
        this.stateOutSize = spec.output("state") == null ? 0 : product(spec.stateOutShape());
        this.numClasses = manifest.numClasses();
        this.stateShape = batchShape(spec.stateInShape());
        this.stateOutShape = stateOutSize > 0 ? batchShape(spec.stateOutShape()) : null;
        this.stateIn = directFloats(maxBatch * stateInSize);
        this.carryIn = directFloats(maxBatch * carryDim);
        this.stateOut = stateOutSize > 0 ? directFloats(maxBatch * stateOutSize) : null;
        this.carryOut = directFloats(maxBatch * carryDim);
        this.logitsOut = directFloats(maxBatch * numClasses);
        this.scoreOut = directFloats(maxBatch);
        this.out = new StageOutputs(stateOut, carryOut, maxBatch, stateOutSize, carryDim, numClasses);
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
        OrtEnvironment env = Ort.environment();
        stateShape[0] = n;
        Map<String, OnnxTensor> pinned = new HashMap<>(8);
        try (OnnxTensor state = OnnxTensor.createTensor(env, window(stateIn, n * stateInSize), stateShape);
                OnnxTensor carry =
                        OnnxTensor.createTensor(env, window(carryIn, n * carryDim), new long[] {n, carryDim})) {
            if (stateOut != null) {
                stateOutShape[0] = n;
                pinned.put(
                        spec.output("state"),
                        OnnxTensor.createTensor(env, window(stateOut, n * stateOutSize), stateOutShape));
            }
            pinned.put(
                    spec.output("carry"),
                    OnnxTensor.createTensor(env, window(carryOut, n * carryDim), new long[] {n, carryDim}));
            pinned.put(
                    spec.output("logits"),
                    OnnxTensor.createTensor(env, window(logitsOut, n * numClasses), new long[] {n, numClasses}));
            if (scoreRule == ScoreRule.MODEL) {
                pinned.put(spec.output("score"), OnnxTensor.createTensor(env, window(scoreOut, n), new long[] {n}));
            }
            // ORT writes every output into the pinned direct buffers; the result holds nothing else to read.
            session.run(Map.of(spec.input("state"), state, spec.input("carry"), carry), pinned)
                    .close();
            out.size = n;
            logitsOut.get(0, out.logits, 0, n * numClasses);
            if (scoreRule == ScoreRule.MODEL) {
                scoreOut.get(0, out.scores, 0, n);
            } else {
                for (int i = 0; i < n; i++) {
                    out.scores[i] = scoreRule.fromLogits(out.logits, i * numClasses, numClasses);
                }
            }
            return out;
        } finally {
            for (OnnxTensor t : pinned.values()) {
                t.close();
            }
        }
    }

    /** The first {@code count} floats of a buffer, as a tensor's backing store (position 0, limit count). */
    private static FloatBuffer window(FloatBuffer b, int count) {
        return b.duplicate().position(0).limit(count);
    }

    private static long[] batchShape(List<Integer> perEvent) {
        long[] shape = new long[perEvent.size() + 1];
        for (int i = 0; i < perEvent.size(); i++) {
            shape[i + 1] = perEvent.get(i);
        }
        return shape;
    }

    private static FloatBuffer directFloats(int n) {
        return ByteBuffer.allocateDirect(n * Float.BYTES)
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
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
