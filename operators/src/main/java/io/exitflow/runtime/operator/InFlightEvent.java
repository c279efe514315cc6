package io.exitflow.runtime.operator;

import io.exitflow.runtime.record.InferenceRequest;
import org.apache.flink.annotation.Internal;

/**
 * An event between stages: what the prediction must carry, the next stage's input state and carried vector, and
 * per-stage bookkeeping. A Flink POJO of primitive arrays, so it travels between split stage operators and into
 * checkpoints with Flink's POJO serializer (no Kryo).
 */
@Internal
public class InFlightEvent {
    public String eventId;
    public String key;
    public long eventTime;
    public String label;
    /** The stage this event waits for. */
    public int nextStage;
    /** Input of {@link #nextStage}: the normalised input before stage 0, then the previous stage's state_out. */
    public float[] state;
    /** Carried vector from the previous stage; null before stage 0 (zeros). */
    public float[] carry;
    /** Stages run so far; the first {@code stagesRun} entries of the per-stage arrays are filled. */
    public int stagesRun;
    /** Per stage run: microseconds from arrival at that stage's batch to its result. */
    public long[] stageLatencyMicros;
    /** Whether this event runs every stage for the controller's samples. */
    public boolean sampled;
    /** Sampled events: per stage exit score and class. */
    public float[] sampleScores;

    public int[] sampleClasses;
    /** Stage it exited at, or -1 while it has not (a sampled event continues after its exit). */
    public int exitStage = -1;

    public int exitClass;
    public float exitProbability;
    public long thresholdVersion;
    /** When the event joined its current stage's batch (local to one operator, never serialised). */
    public transient long arrivalNanos;

    /** For Flink's POJO serializer. */
    public InFlightEvent() {}

    /** A request about to enter stage 0 with its already normalised input. */
    public static InFlightEvent start(InferenceRequest r, float[] normalisedInput, int numStages, boolean sampled) {
        InFlightEvent e = new InFlightEvent();
        e.eventId = r.eventId;
        e.key = r.key;
        e.eventTime = r.eventTime;
        e.label = r.label;
        e.nextStage = 0;
        e.state = normalisedInput;
        e.stageLatencyMicros = new long[numStages];
        e.sampled = sampled;
        if (sampled) {
            e.sampleScores = new float[numStages];
            e.sampleClasses = new int[numStages];
        }
        return e;
    }

    @Override
    public String toString() {
        return "InFlightEvent{" + eventId + ", key=" + key + ", next=" + nextStage + ", exit=" + exitStage + "}";
    }
}
