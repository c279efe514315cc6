package io.exitflow.runtime.operator;

import io.exitflow.schemas.StageSample;
import io.exitflow.schemas.StageStats;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Counters of one operator subtask over one stats interval; {@link #emit} turns them into a StageStats and resets. */
final class IntervalStats {
    private final int stageCount;
    private final int maxSamples;
    private long arrivals;
    private final long[] stageArrivals;
    private final long[] exits;
    private final long[] batches;
    private final long[] busyNanos;
    private List<StageSample> samples = new ArrayList<>();

    public IntervalStats(int stageCount, int maxSamples) {
        this.stageCount = stageCount;
        this.maxSamples = maxSamples;
        this.stageArrivals = new long[stageCount];
        this.exits = new long[stageCount];
        this.batches = new long[stageCount];
        this.busyNanos = new long[stageCount];
    }

    void arrival() {
        arrivals++;
    }

    void stageArrival(int local) {
        stageArrivals[local]++;
    }

    void exit(int local) {
        exits[local]++;
    }

    void batch(int local, long nanos) {
        batches[local]++;
        busyNanos[local] += nanos;
    }

    /** Keeps a sample unless this interval already has {@code maxSamples}. */
    void sample(StageSample s) {
        if (samples.size() < maxSamples) {
            samples.add(s);
        }
    }

    /** The interval's StageStats; counters start again from zero. */
    public StageStats emit(
            String modelId,
            String operatorName,
            int subtask,
            long start,
            long end,
            int firstStage,
            long backlog,
            long thresholdVersion,
            long taskBusyNanos) {
        StageStats s = new StageStats(
                modelId,
                operatorName,
                subtask,
                start,
                end,
                firstStage,
                arrivals,
                boxed(stageArrivals),
                boxed(exits),
                boxed(batches),
                boxed(busyNanos),
                backlog,
                thresholdVersion,
                taskBusyNanos,
                samples);
        arrivals = 0;
        Arrays.fill(stageArrivals, 0);
        Arrays.fill(exits, 0);
        Arrays.fill(batches, 0);
        Arrays.fill(busyNanos, 0);
        samples = new ArrayList<>();
        return s;
    }

    public int stageCount() {
        return stageCount;
    }

    private static List<Long> boxed(long[] v) {
        List<Long> l = new ArrayList<>(v.length);
        for (long x : v) {
            l.add(x);
        }
        return l;
    }
}
