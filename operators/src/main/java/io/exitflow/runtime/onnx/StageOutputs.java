package io.exitflow.runtime.onnx;

import java.util.Arrays;

/**
 * The outputs of one batch through one stage, row-major, valid for rows {@code [0, size)} until the runner's next
 * call. Scores are already the exit scores of the manifest's rule.
 */
public final class StageOutputs {
    final float[] state;
    final float[] carry;
    final float[] logits;
    final float[] scores;
    final int stateSize;
    final int carryDim;
    final int numClasses;
    int size;

    StageOutputs(int maxBatch, int stateSize, int carryDim, int numClasses) {
        this.state = stateSize > 0 ? new float[maxBatch * stateSize] : null;
        this.carry = new float[maxBatch * carryDim];
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
        return state == null ? null : Arrays.copyOfRange(state, row * stateSize, (row + 1) * stateSize);
    }

    /** Copy of a row's carried vector. */
    public float[] carry(int row) {
        return Arrays.copyOfRange(carry, row * carryDim, (row + 1) * carryDim);
    }

    /** Copy of a row's logits. */
    public float[] logits(int row) {
        return Arrays.copyOfRange(logits, row * numClasses, (row + 1) * numClasses);
    }

    /** Row-major logits (read only; rows {@code [0, size)}). */
    public float[] logitsArray() {
        return logits;
    }

    public int numClasses() {
        return numClasses;
    }
}
