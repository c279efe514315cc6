package io.exitflow.runtime.operator;

import org.apache.flink.runtime.metrics.TimerGauge;
import org.apache.flink.runtime.metrics.groups.TaskIOMetricGroup;

/**
 * The busy time of the task an operator runs in, per stats interval: wall time minus the time the task waited for
 * input (idle) or for downstream buffers (back-pressured), from Flink's own task I/O timers (the ones behind the
 * {@code busyTimeMsPerSecond} metric). It covers everything the task thread does besides waiting: the stages, record
 * (de)serialisation and chained operators, which is what the controller's capacity model needs beyond ONNX time.
 * Millisecond resolution, as Flink measures it.
 */
final class TaskBusyTime {
    private final TimerGauge idle;
    private final TaskIOMetricGroup io;
    private long lastWall, lastIdle, lastBackPressured;

    private TaskBusyTime(TaskIOMetricGroup io) {
        this.io = io;
        this.idle = io.getIdleTimeMsPerSecond();
        this.lastWall = System.currentTimeMillis();
        this.lastIdle = idle.getAccumulatedCount();
        this.lastBackPressured = io.getAccumulatedBackPressuredTimeMs();
    }

    /** Reads the task's timers, or null when the task has none (then busy time is unknown). */
    static TaskBusyTime of(TaskIOMetricGroup io) {
        return io == null ? null : new TaskBusyTime(io);
    }

    /** Busy nanoseconds since the previous call (or since creation). */
    long sinceLast() {
        long wall = System.currentTimeMillis();
        long idleMs = idle.getAccumulatedCount();
        long bp = io.getAccumulatedBackPressuredTimeMs();
        long busy = (wall - lastWall) - (idleMs - lastIdle) - (bp - lastBackPressured);
        lastWall = wall;
        lastIdle = idleMs;
        lastBackPressured = bp;
        return Math.max(0, busy) * 1_000_000L;
    }
}
