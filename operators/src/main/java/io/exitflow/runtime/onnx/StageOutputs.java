package io.exitflow.runtime.onnx;

import java.nio.FloatBuffer;
import org.apache.flink.annotation.Internal;

/**
 * The outputs of one batch through one stage, valid for rows {@code [0, size)} until the runner's next call. State
 * and carry stay in the direct buffers ONNX Runtime wrote them to; logits and scores are copied to small arrays for
 * the exit math. Scores are already the exit scores of the manifest's rule.
 */
@Internal
public final class StageOutputs {
    final FloatBuffer state;
    final FloatBuffer carry;
    final float[] logits;
    final float[] scores;
    final int stateSize;
    final int carryDim;
    final int numClasses;
    int size;

    StageOutputs(FloatBuffer state, FloatBuffer carry, int maxBatch, int stateSize, int carryDim, int numClasses) {
        this.state = state;
        this.carry = carry;
        this.logits = new float[maxBatch * numClasses];
        this.scores = new float[maxBatch];
        this.stateSize = stateSize;
        this.carryDim = carryDim;
        this.numClasses = numClasses;
    }

    /** Rows in this batch. */
    public int size() {
        return size;
    }

    /** Exit score of a row. */
    public float score(int row) {
        return scores[row];
    }

    /** Copy of a row's next state (null on the last stage). */
    public float[] state(int row) {
        if (state == null) {
            return null;
        }
        float[] s = new float[stateSize];
        state.get(row * stateSize, s);
        return s;
    }

    /** Copy of a row's carried vector. */
    public float[] carry(int row) {
        float[] c = new float[carryDim];
        carry.get(row * carryDim, c);
        return c;
    }

    /** Copy of a row's logits. */
    public float[] logits(int row) {
        return java.util.Arrays.copyOfRange(logits, row * numClasses, (row + 1) * numClasses);
    }

    /** Row-major logits (read only; rows {@code [0, size)}). */
    public float[] logitsArray() {
        return logits;
    }

    public int numClasses() {
        return numClasses;
    }
}
