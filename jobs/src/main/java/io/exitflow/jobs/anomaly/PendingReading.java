package io.exitflow.jobs.anomaly;

/** A reading held by {@link WindowAssembler} until the watermark passes its time (a Flink POJO). */
public class PendingReading {
    /** One value per channel. */
    public float[] values;
    /** Ground-truth label, or null. */
    public String label;

    /** For Flink's POJO serializer. */
    public PendingReading() {}

    PendingReading(float[] values, String label) {
        this.values = values;
        this.label = label;
    }
}
