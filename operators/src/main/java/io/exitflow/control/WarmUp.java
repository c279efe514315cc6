package io.exitflow.control;

import java.io.Serializable;

/**
 * The warm-up rule of {@link ControllerConfig.Builder#warmUp}: whether the controller may learn costs from an
 * interval yet. Counts the intervals with at least {@code minEventsPerInterval} arrivals since the start (or the
 * last {@link #restart()}) and keeps the per-event floor of the last {@code 2 x intervals} of them: stage 0's cost
 * per event plus, when the operators report their tasks' busy time, the time per event beyond the stages. Every
 * event pays that floor whatever the thresholds, so it moves with warm-up, not with the plan; it is also what decides
 * whether a budget is feasible at all. The floor is stable when the mean of the last {@code intervals} values is
 * within the tolerance of the mean of the {@code intervals} before them: means smooth out noise, and comparing two
 * windows catches a slow decay that looks flat within one.
 */
final class WarmUp implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int intervals;
    private final double tolerance;
    private final int maxIntervals;
    private final double[] recent;
    private int seen;
    private boolean done;

    WarmUp(ControllerConfig cfg) {
        this.intervals = cfg.warmupIntervals;
        this.tolerance = cfg.warmupTolerance;
        this.maxIntervals = cfg.warmupMaxIntervals;
        this.recent = new double[Math.max(1, 2 * intervals)];
        this.done = intervals == 0;
    }

    /** Starts the warm-up again: the stage tasks were restarted (a restore), so they run cold again. */
    void restart() {
        seen = 0;
        done = intervals == 0;
    }

    /**
     * Takes one interval into account.
     *
     * @param enough whether it had at least {@code minEventsPerInterval} arrivals
     * @return true when costs may be learned from this interval (warm-up over; the interval that shows the floor is
     *     stable is the first one)
     */
    boolean observe(ControlMeasurement m, boolean enough) {
        if (done) return enough;
        if (!enough) return false;
        double floor = m.stageCost(0);
        double staged = m.costPerEvent();
        if (m.taskBusyNanos() >= 0 && Double.isFinite(staged))
            floor += Math.max(0, (double) m.taskBusyNanos() / m.arrivals() - staged);
        recent[seen % recent.length] = floor;
        seen++;
        done = seen >= maxIntervals || (seen >= intervals && stable());
        return done;
    }

    /** Whether the controller is still warming up (learns no costs yet). */
    boolean warming() {
        return !done;
    }

    /** Intervals of enough events seen since the (re)start. */
    int seen() {
        return seen;
    }

    /** Needs {@code 2 x intervals} values seen: compares the mean of the newest half with the older half's. */
    private boolean stable() {
        if (seen < recent.length) return false;
        double older = 0, newer = 0;
        for (int i = 0; i < intervals; i++) {
            older += recent[(seen + i) % recent.length]; // the ring's oldest half starts at the next write position
            newer += recent[(seen + intervals + i) % recent.length];
        }
        if (!Double.isFinite(older) || !Double.isFinite(newer)) return false;
        return Math.abs(newer - older) <= tolerance * older;
    }
}
