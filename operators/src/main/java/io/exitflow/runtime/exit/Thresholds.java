package io.exitflow.runtime.exit;

import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.schemas.ThresholdUpdate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.annotation.Internal;

/**
 * The exit thresholds in force for one model: immutable and versioned, so an update replaces the whole set at once
 * (never half-applied). Version 0 is the bundle's defaults.
 */
@Internal
public final class Thresholds {
    private final String modelId;
    private final String modelVersion;
    private final long version;
    private final float[] values;

    public Thresholds(String modelId, String modelVersion, long version, float[] values) {
        this.modelId = modelId;
        this.modelVersion = modelVersion;
        this.version = version;
        this.values = values.clone();
    }

    /** The bundle's default thresholds, version 0. */
    public static Thresholds defaults(Manifest manifest) {
        return new Thresholds(
                manifest.modelId(), manifest.modelVersion(), 0L, manifest.exit().thresholds());
    }

    /** Thresholds of an update that {@link ThresholdUpdateValidator} accepted. */
    public static Thresholds of(ThresholdUpdate update) {
        float[] v = new float[update.getThresholds().size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = update.getThresholds().get(i);
        }
        return new Thresholds(update.getModelId(), update.getModelVersion(), update.getUpdateVersion(), v);
    }

    /** As a control message, for checkpointing (the Avro serializer, not Kryo) and for logs. */
    public ThresholdUpdate toUpdate(String reason) {
        List<Float> v = new ArrayList<>(values.length);
        for (float f : values) {
            v.add(f);
        }
        return ThresholdUpdate.newBuilder()
                .setModelId(modelId)
                .setModelVersion(modelVersion)
                .setUpdateVersion(version)
                .setThresholds(v)
                .setReason(reason)
                .setTimestampMillis(0L)
                .build();
    }

    /** Threshold of stage {@code k}. */
    public float get(int k) {
        return values[k];
    }

    /** True when an event with {@code score} leaves at stage {@code k} of {@code numStages}. */
    public boolean exits(int k, int numStages, float score) {
        return k == numStages - 1 || score >= values[k];
    }

    public long version() {
        return version;
    }

    public String modelId() {
        return modelId;
    }

    public int size() {
        return values.length;
    }

    public float[] values() {
        return values.clone();
    }

    @Override
    public String toString() {
        return modelId + "@" + modelVersion + " v" + version + " " + Arrays.toString(values);
    }
}
