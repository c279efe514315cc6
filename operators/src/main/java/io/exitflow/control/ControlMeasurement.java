package io.exitflow.control;

import java.io.Serializable;
import java.util.List;
import org.apache.flink.annotation.Internal;

/**
 * What the controller learns about one control interval, summed over the subtasks of the stage operators
 * (built from {@code StageStats} by {@link StageStatsWindow}, or by the {@link io.exitflow.control.sim.SimulatedPlant}).
 *
 * @param endMillis end of the interval (processing time)
 * @param seconds interval length, as the stage-0 subtasks covered it (their stats intervals need not line up):
 *     {@code arrivals / seconds} is the sum of their rates
 * @param arrivals events that entered stage 0 during the interval (the job's throughput)
 * @param stageArrivals per stage, events that reached it
 * @param busyNanos per stage, time spent running it (ONNX Runtime), summed over subtasks
 * @param backlog events waiting at the end of the interval: the operators' batches plus, when a
 *     {@link io.exitflow.control.flink.SourceLagProbe} is configured, the source's lag
 * @param sourceLag the part of {@code backlog} that is the source's lag (input events written and not yet read),
 *     or -1 when unknown (no probe, or it has no estimate yet)
 * @param workers parallel subtasks sharing the work (capacity = workers seconds of work per second)
 * @param minThresholdVersion the oldest threshold version any subtask reported during the interval
 * @param samples events that ran every stage (score and class per stage, label when known)
 * @param taskBusyNanos time the stage operators' tasks were busy (stages, record handling, chained operators), summed
 *     over subtasks, or -1 when unknown: beyond {@code busyNanos}, it shows the per-event overhead the capacity must
 *     also cover, without waiting for an overload
 */
@Internal
public record ControlMeasurement(
        long endMillis,
        double seconds,
        long arrivals,
        long[] stageArrivals,
        long[] busyNanos,
        long backlog,
        long sourceLag,
        int workers,
        long minThresholdVersion,
        List<Sample> samples,
        long taskBusyNanos)
        implements Serializable {

    /** One event that ran every stage. */
    public record Sample(float[] scores, int[] classes, Integer label) implements Serializable {}

    public ControlMeasurement {
        if (!(seconds > 0)) throw new IllegalArgumentException("interval must be > 0 s, got " + seconds);
        if (stageArrivals.length != busyNanos.length) {
            throw new IllegalArgumentException("stageArrivals and busyNanos differ in length");
        }
        if (sourceLag > backlog) {
            throw new IllegalArgumentException(
                    "source lag " + sourceLag + " exceeds the backlog " + backlog + " it is part of");
        }
        samples = List.copyOf(samples);
    }

    /** Events per second entering stage 0. */
    public double throughput() {
        return arrivals / seconds;
    }

    /** Measured cost per event that entered (sum of busy time over all stages / arrivals), or NaN when idle. */
    public double costPerEvent() {
        long busy = 0;
        for (long b : busyNanos) busy += b;
        return arrivals == 0 ? Double.NaN : (double) busy / arrivals;
    }

    /** Measured cost per event that reached stage k, or NaN when none did. */
    public double stageCost(int k) {
        return stageArrivals[k] == 0 ? Double.NaN : (double) busyNanos[k] / stageArrivals[k];
    }

    /** Share of the workers' time spent in the stages. */
    public double busyFraction() {
        long busy = 0;
        for (long b : busyNanos) busy += b;
        return workers == 0 ? 0 : busy / (workers * seconds * 1e9);
    }
}
