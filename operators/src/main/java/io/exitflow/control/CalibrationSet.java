package io.exitflow.control;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.io.Serializable;
import java.util.Arrays;
import org.apache.flink.annotation.Internal;

/**
 * Events that ran every stage: per stage the exit score and predicted class, and the class the event should get
 * (its label when known, otherwise the full model's class, so agreement with the full model is measured without
 * labels). The budget solver estimates cost and accuracy of a threshold vector on these samples.
 *
 * <p>Bounded: it keeps the {@code capacity} most recent samples in a ring, so the bundle's calibration data seeds
 * it and the online sampled share of events (from {@code StageStats.samples}) replaces it oldest first. Recency on
 * purpose: when input difficulty drifts, old samples describe the wrong population.
 */
@Internal
public final class CalibrationSet implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int stages;
    private final int capacity;
    private final float[] scores; // [capacity * stages]
    private final int[] classes; // [capacity * stages]
    private final int[] targets; // [capacity]
    private final boolean[] labelled; // [capacity]
    private int size;
    private int next;
    private long added;

    /** Writes the set field by field (the controller's checkpoint, {@link ThresholdController#writeState}). */
    void writeState(DataOutput out) throws IOException {
        out.writeInt(stages);
        out.writeInt(capacity);
        out.writeInt(size);
        out.writeInt(next);
        out.writeLong(added);
        for (float v : scores) out.writeFloat(v);
        for (int v : classes) out.writeInt(v);
        for (int v : targets) out.writeInt(v);
        for (boolean v : labelled) out.writeBoolean(v);
    }

    /** Reads a set {@link #writeState} wrote. */
    static CalibrationSet readState(DataInput in) throws IOException {
        CalibrationSet c = new CalibrationSet(in.readInt(), in.readInt());
        c.size = in.readInt();
        c.next = in.readInt();
        c.added = in.readLong();
        for (int i = 0; i < c.scores.length; i++) c.scores[i] = in.readFloat();
        for (int i = 0; i < c.classes.length; i++) c.classes[i] = in.readInt();
        for (int i = 0; i < c.targets.length; i++) c.targets[i] = in.readInt();
        for (int i = 0; i < c.labelled.length; i++) c.labelled[i] = in.readBoolean();
        return c;
    }

    /** An empty set for a model with {@code stages} stages, keeping at most {@code capacity} samples. */
    public CalibrationSet(int stages, int capacity) {
        if (stages < 1) throw new IllegalArgumentException("stages must be >= 1, got " + stages);
        if (capacity < 1) throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        this.stages = stages;
        this.capacity = capacity;
        this.scores = new float[capacity * stages];
        this.classes = new int[capacity * stages];
        this.targets = new int[capacity];
        this.labelled = new boolean[capacity];
    }

    /**
     * Adds one sample, replacing the oldest when full.
     *
     * @param stageScores exit score per stage, each in [0, 1]
     * @param stageClasses predicted class per stage
     * @param label the true class, or null when unknown (then the last stage's class is the target)
     */
    public void add(float[] stageScores, int[] stageClasses, Integer label) {
        if (stageScores.length != stages || stageClasses.length != stages) {
            throw new IllegalArgumentException("sample has " + stageScores.length + " scores and " + stageClasses.length
                    + " classes, model has " + stages + " stages");
        }
        for (float s : stageScores) {
            if (!(s >= 0f && s <= 1f)) {
                throw new IllegalArgumentException("exit score out of [0,1]: " + Arrays.toString(stageScores));
            }
        }
        int slot = next;
        System.arraycopy(stageScores, 0, scores, slot * stages, stages);
        System.arraycopy(stageClasses, 0, classes, slot * stages, stages);
        targets[slot] = label != null ? label : stageClasses[stages - 1];
        labelled[slot] = label != null;
        next = (next + 1) % capacity;
        size = Math.min(size + 1, capacity);
        added++;
    }

    public int stages() {
        return stages;
    }

    public int capacity() {
        return capacity;
    }

    public int size() {
        return size;
    }

    /** Adds sample {@code i} of {@code other} (same number of stages), keeping its target. */
    public void addFrom(CalibrationSet other, int i) {
        if (other.stages != stages)
            throw new IllegalArgumentException("stage count differs: " + other.stages + " vs " + stages);
        float[] s = Arrays.copyOfRange(other.scores, i * stages, (i + 1) * stages);
        int[] c = Arrays.copyOfRange(other.classes, i * stages, (i + 1) * stages);
        add(s, c, other.targets[i]);
        labelled[(next + capacity - 1) % capacity] = other.labelled[i];
    }

    /** Samples added since creation (including those since replaced). */
    public long added() {
        return added;
    }

    /** Share of held samples whose target is a label rather than the full model's class. */
    public double labelledShare() {
        int n = 0;
        for (int i = 0; i < size; i++) if (labelled[i]) n++;
        return size == 0 ? 0 : (double) n / size;
    }

    /** Exit score of sample {@code i} at stage {@code k}. */
    public float score(int i, int k) {
        return scores[i * stages + k];
    }

    /** Class predicted by stage {@code k} for sample {@code i}. */
    public int predicted(int i, int k) {
        return classes[i * stages + k];
    }

    /** The class sample {@code i} should get: its label, or the full model's class when unlabelled. */
    public int target(int i) {
        return targets[i];
    }

    /** Whether stage {@code k}'s class equals sample {@code i}'s target. */
    public boolean correct(int i, int k) {
        return classes[i * stages + k] == targets[i];
    }

    /** A copy (the solver works on a snapshot while new samples keep arriving). */
    public CalibrationSet copy() {
        CalibrationSet c = new CalibrationSet(stages, capacity);
        System.arraycopy(scores, 0, c.scores, 0, scores.length);
        System.arraycopy(classes, 0, c.classes, 0, classes.length);
        System.arraycopy(targets, 0, c.targets, 0, targets.length);
        System.arraycopy(labelled, 0, c.labelled, 0, labelled.length);
        c.size = size;
        c.next = next;
        c.added = added;
        return c;
    }
}
