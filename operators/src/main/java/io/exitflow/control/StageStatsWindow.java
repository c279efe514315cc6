package io.exitflow.control;

import io.exitflow.schemas.StageSample;
import io.exitflow.schemas.StageStats;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.annotation.Internal;

/**
 * Sums the {@link StageStats} of one model over one control interval (all operators, all subtasks, possibly several
 * stats intervals each) into one {@link ControlMeasurement}. Bounded: counters per stage, the last backlog per
 * subtask, and at most {@code maxSamples} samples (the rest are counted and dropped: they are a sample already).
 */
@Internal
public final class StageStatsWindow implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int stages;
    private final int maxSamples;
    private long arrivals;
    private final long[] stageArrivals;
    private final long[] busyNanos;
    private final Map<String, long[]> lastBacklog = new HashMap<>(); // operator#subtask -> {intervalEnd, backlog}
    private final Map<String, long[]> firstStage = new HashMap<>(); // operator#subtask -> {arrivals, ms covered}
    private final List<ControlMeasurement.Sample> samples = new ArrayList<>();
    private long start = Long.MAX_VALUE, end = Long.MIN_VALUE;
    private long minVersion = Long.MAX_VALUE;
    private long records, droppedSamples;
    private long taskBusyNanos; // summed over records; -1 once one record lacks it

    public StageStatsWindow(int stages, int maxSamples) {
        this.stages = stages;
        this.maxSamples = maxSamples;
        this.stageArrivals = new long[stages];
        this.busyNanos = new long[stages];
    }

    /**
     * Adds one record.
     *
     * @throws IllegalArgumentException when the record's stages do not fit the model (nothing is added then)
     */
    public void add(StageStats s) {
        int n = s.getStageArrivals().size();
        if (s.getFirstStage() < 0
                || s.getFirstStage() + n > stages
                || s.getBusyNanos().size() != n) {
            throw new IllegalArgumentException("StageStats from " + s.getOperatorName() + "#" + s.getSubtask()
                    + " covers stages " + s.getFirstStage() + ".." + (s.getFirstStage() + n - 1) + " with "
                    + s.getBusyNanos().size() + " busy values; model " + s.getModelId() + " has " + stages + " stages");
        }
        if (s.getIntervalEndMillis() <= s.getIntervalStartMillis()) {
            throw new IllegalArgumentException("StageStats interval is empty or reversed: " + s.getIntervalStartMillis()
                    + ".." + s.getIntervalEndMillis());
        }
        String who = s.getOperatorName() + "#" + s.getSubtask();
        if (s.getFirstStage() == 0) {
            arrivals += s.getArrivals();
            long[] own = firstStage.computeIfAbsent(who, k -> new long[2]);
            own[0] += s.getArrivals();
            own[1] += s.getIntervalEndMillis() - s.getIntervalStartMillis();
        }
        for (int j = 0; j < n; j++) {
            stageArrivals[s.getFirstStage() + j] += s.getStageArrivals().get(j);
            busyNanos[s.getFirstStage() + j] += s.getBusyNanos().get(j);
        }
        long[] last = lastBacklog.get(who);
        if (last == null || last[0] <= s.getIntervalEndMillis())
            lastBacklog.put(who, new long[] {s.getIntervalEndMillis(), s.getBacklog()});
        start = Math.min(start, s.getIntervalStartMillis());
        end = Math.max(end, s.getIntervalEndMillis());
        minVersion = Math.min(minVersion, s.getThresholdVersion());
        for (StageSample x : s.getSamples()) {
            if (samples.size() >= maxSamples) {
                droppedSamples++;
                continue;
            }
            float[] sc = new float[x.getScores().size()];
            for (int i = 0; i < sc.length; i++) sc[i] = x.getScores().get(i);
            int[] cl = new int[x.getClasses().size()];
            for (int i = 0; i < cl.length; i++) cl[i] = x.getClasses().get(i);
            samples.add(new ControlMeasurement.Sample(sc, cl, x.getLabel()));
        }
        if (taskBusyNanos >= 0) taskBusyNanos = s.getTaskBusyNanos() < 0 ? -1 : taskBusyNanos + s.getTaskBusyNanos();
        records++;
    }

    public boolean isEmpty() {
        return records == 0;
    }

    /** Writes what the window holds so far, field by field (the controller's checkpoint). */
    public void writeState(DataOutput out) throws IOException {
        out.writeInt(stages);
        out.writeLong(arrivals);
        for (int k = 0; k < stages; k++) {
            out.writeLong(stageArrivals[k]);
            out.writeLong(busyNanos[k]);
        }
        writeMap(out, lastBacklog);
        writeMap(out, firstStage);
        out.writeInt(samples.size());
        for (ControlMeasurement.Sample s : samples) {
            out.writeInt(s.scores().length);
            for (float v : s.scores()) out.writeFloat(v);
            out.writeInt(s.classes().length);
            for (int v : s.classes()) out.writeInt(v);
            out.writeBoolean(s.label() != null);
            if (s.label() != null) out.writeInt(s.label());
        }
        out.writeLong(start);
        out.writeLong(end);
        out.writeLong(minVersion);
        out.writeLong(records);
        out.writeLong(droppedSamples);
        out.writeLong(taskBusyNanos);
    }

    /**
     * Reads into this (empty) window what {@link #writeState} wrote.
     *
     * @throws IOException when the state is of another stage count
     */
    public void readState(DataInput in) throws IOException {
        int k = in.readInt();
        if (k != stages)
            throw new IOException("controller state has a window of " + k + " stages, model has " + stages);
        arrivals = in.readLong();
        for (int s = 0; s < stages; s++) {
            stageArrivals[s] = in.readLong();
            busyNanos[s] = in.readLong();
        }
        readMap(in, lastBacklog);
        readMap(in, firstStage);
        samples.clear();
        for (int n = in.readInt(); n > 0; n--) {
            float[] sc = new float[in.readInt()];
            for (int i = 0; i < sc.length; i++) sc[i] = in.readFloat();
            int[] cl = new int[in.readInt()];
            for (int i = 0; i < cl.length; i++) cl[i] = in.readInt();
            Integer label = in.readBoolean() ? in.readInt() : null;
            samples.add(new ControlMeasurement.Sample(sc, cl, label));
        }
        start = in.readLong();
        end = in.readLong();
        minVersion = in.readLong();
        records = in.readLong();
        droppedSamples = in.readLong();
        taskBusyNanos = in.readLong();
    }

    private static void writeMap(DataOutput out, Map<String, long[]> m) throws IOException {
        out.writeInt(m.size());
        for (Map.Entry<String, long[]> e : m.entrySet()) {
            out.writeUTF(e.getKey());
            out.writeLong(e.getValue()[0]);
            out.writeLong(e.getValue()[1]);
        }
    }

    private static void readMap(DataInput in, Map<String, long[]> m) throws IOException {
        m.clear();
        for (int n = in.readInt(); n > 0; n--) {
            m.put(in.readUTF(), new long[] {in.readLong(), in.readLong()});
        }
    }

    /** Samples dropped because the window held {@code maxSamples} already. */
    public long droppedSamples() {
        return droppedSamples;
    }

    /**
     * The interval as one measurement.
     *
     * @param sourceLag input events not yet read by the source, added to the operators' backlog; -1 when unknown
     */
    public ControlMeasurement toMeasurement(long sourceLag) {
        if (isEmpty()) throw new IllegalStateException("no StageStats in this window");
        long backlog = Math.max(0, sourceLag);
        for (long[] b : lastBacklog.values()) backlog += b[1];
        return new ControlMeasurement(
                end,
                seconds(),
                arrivals,
                stageArrivals.clone(),
                busyNanos.clone(),
                backlog,
                sourceLag,
                firstStage.size(),
                minVersion,
                samples,
                taskBusyNanos);
    }

    /**
     * The interval's length such that arrivals / length is the sum of the stage-0 subtasks' own rates. The subtasks'
     * stats intervals do not line up, and a record can come a window late, so the span from the earliest start to the
     * latest end is longer than what each subtask covered: dividing by it understates the rate (by a fifth for two
     * subtasks half an interval apart over two intervals).
     */
    private double seconds() {
        double rate = 0; // events per ms
        for (long[] own : firstStage.values()) rate += (double) own[0] / own[1];
        return arrivals > 0 && rate > 0 ? arrivals / rate / 1000.0 : (end - start) / 1000.0;
    }
}
