package io.exitflow.runtime.record;

import java.util.Arrays;
import java.util.Objects;
import org.apache.flink.annotation.PublicEvolving;

/**
 * One event to classify, as it enters the first stage: the raw (un-normalised) model input plus what the
 * prediction must carry back out. Jobs build these from Kafka records (a feature vector, or a sensor window
 * flattened channels-first); the runtime normalises with the bundle's manifest.
 *
 * <p>A Flink POJO (public fields, no-arg constructor) so it serialises without Kryo.
 */
@PublicEvolving
public class InferenceRequest {
    /** Unique id of the event (or window), copied to the prediction. */
    public String eventId;
    /** Key the stream is partitioned by (the sensor id in the anomaly job). */
    public String key;
    /** Event time, epoch milliseconds. */
    public long eventTime;
    /** Raw model input, flattened in the manifest's input layout (channels-first for windows). */
    public float[] input;
    /** Ground-truth class name when known (simulator, replay), otherwise null. */
    public String label;

    /** For Flink's POJO serializer. */
    public InferenceRequest() {}

    public InferenceRequest(String eventId, String key, long eventTime, float[] input, String label) {
        this.eventId = eventId;
        this.key = key;
        this.eventTime = eventTime;
        this.input = input;
        this.label = label;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) return true;
        if (!(o instanceof InferenceRequest)) return false;
        InferenceRequest that = (InferenceRequest) o;
        return eventTime == that.eventTime
                && Objects.equals(eventId, that.eventId)
                && Objects.equals(key, that.key)
                && Arrays.equals(input, that.input)
                && Objects.equals(label, that.label);
    }

    @Override
    public int hashCode() {
        return Objects.hash(eventId, key, eventTime, Arrays.hashCode(input), label);
    }

    @Override
    public String toString() {
        return "InferenceRequest{" + eventId + ", key=" + key + ", t=" + eventTime + ", n="
                + (input == null ? 0 : input.length) + "}";
    }
}
