package io.exitflow.control;

import java.io.Serializable;
import org.apache.flink.annotation.PublicEvolving;

/**
 * Tuning of the {@link ThresholdController}. The defaults settle a 2x rate step in a few intervals without
 * overshoot on the simulated plant (see {@code ThresholdControllerTest}); most jobs need none of these.
 */
@PublicEvolving
public final class ControllerConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * Default share of the workers' time the stages may fill at the planned rate ({@link Builder#targetUtilisation};
     * the jobs' {@code --budget-utilisation}).
     */
    public static final double DEFAULT_TARGET_UTILISATION = 0.85;

    final double targetUtilisation;
    final double rateSmoothing;
    final double costSmoothing;
    final double backlogAllowanceSeconds;
    final double drainSeconds;
    final double maxCostIncrease;
    final double maxCostDecrease;
    final double costDeadband;
    final double minAccuracyGain;
    final int resolveEveryIntervals;
    final double integralGain;
    final double integralLimit;
    final int reservoirCapacity;
    final long minEventsPerInterval;
    final int warmupIntervals;
    final double warmupTolerance;
    final int warmupMaxIntervals;
    final long alertRepeatMillis;
    final int workers;
    final int solverGridLevels;
    final boolean fixedStageCosts;

    private ControllerConfig(Builder b) {
        targetUtilisation = b.targetUtilisation;
        rateSmoothing = b.rateSmoothing;
        costSmoothing = b.costSmoothing;
        backlogAllowanceSeconds = b.backlogAllowanceSeconds;
        drainSeconds = b.drainSeconds;
        maxCostIncrease = b.maxCostIncrease;
        maxCostDecrease = b.maxCostDecrease;
        costDeadband = b.costDeadband;
        minAccuracyGain = b.minAccuracyGain;
        resolveEveryIntervals = b.resolveEveryIntervals;
        integralGain = b.integralGain;
        integralLimit = b.integralLimit;
        reservoirCapacity = b.reservoirCapacity;
        minEventsPerInterval = b.minEventsPerInterval;
        warmupIntervals = b.warmupIntervals;
        warmupTolerance = b.warmupTolerance;
        warmupMaxIntervals = b.warmupMaxIntervals;
        alertRepeatMillis = b.alertRepeatMillis;
        workers = b.workers;
        solverGridLevels = b.solverGridLevels;
        fixedStageCosts = b.fixedStageCosts;
    }

    public static ControllerConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public int reservoirCapacity() {
        return reservoirCapacity;
    }

    public double targetUtilisation() {
        return targetUtilisation;
    }

    /** Parallel workers the controller plans for; 0: the number of stage-0 subtasks that report. */
    public int workers() {
        return workers;
    }

    /** Whether the controller plans with the seed's stage costs instead of learning them (see the builder). */
    public boolean fixedStageCosts() {
        return fixedStageCosts;
    }

    /** Builder with validated settings. */
    public static final class Builder {
        private double targetUtilisation = DEFAULT_TARGET_UTILISATION;
        private double rateSmoothing = 0.7;
        private double costSmoothing = 0.3;
        private double backlogAllowanceSeconds = 0.25;
        private double drainSeconds = 5.0;
        private double maxCostIncrease = 0.25;
        private double maxCostDecrease = 0.6;
        private double costDeadband = 0.04;
        private double minAccuracyGain = 0.005;
        private int resolveEveryIntervals = 10;
        private double integralGain = 0.2;
        private double integralLimit = 0.7;
        private int reservoirCapacity = 4000;
        private long minEventsPerInterval = 100;
        private int warmupIntervals = 5;
        private double warmupTolerance = 0.2;
        private int warmupMaxIntervals = 30;
        private long alertRepeatMillis = 30_000;
        private int workers = 0;
        private int solverGridLevels = 16;
        private boolean fixedStageCosts;

        private Builder() {}

        /**
         * Share of the workers' time the stages may fill at the planned rate (headroom for bursts and what the
         * model misses). Far below 1 when the rest of the job (decoding, windowing, sinks) takes most of the
         * workers' time, or the stages may use only a slice of shared cores.
         */
        public Builder targetUtilisation(double u) {
            this.targetUtilisation = in(u, 1e-6, 1.0, "targetUtilisation");
            return this;
        }

        /** Weight of the newest input-rate measurement in its moving average, in (0, 1]. */
        public Builder rateSmoothing(double a) {
            this.rateSmoothing = in(a, 1e-3, 1.0, "rateSmoothing");
            return this;
        }

        /** Weight of the newest per-stage cost measurement in its moving average, in (0, 1]. */
        public Builder costSmoothing(double a) {
            this.costSmoothing = in(a, 1e-3, 1.0, "costSmoothing");
            return this;
        }

        /** Backlog (in seconds of input) that counts as normal: batching and fetch buffers hold some; above it, workers count as saturated. */
        public Builder backlogAllowanceSeconds(double s) {
            this.backlogAllowanceSeconds = in(s, 0, 3600, "backlogAllowanceSeconds");
            return this;
        }

        /** Backlog above the allowance is planned to drain within this many seconds (proportional term). */
        public Builder drainSeconds(double s) {
            this.drainSeconds = in(s, 0.1, 3600, "drainSeconds");
            return this;
        }

        /** Rate limits on the commanded cost per event: largest relative rise and fall per interval. */
        public Builder maxCostChange(double increase, double decrease) {
            this.maxCostIncrease = in(increase, 0.001, 10, "maxCostIncrease");
            this.maxCostDecrease = in(decrease, 0.001, 0.99, "maxCostDecrease");
            return this;
        }

        /** Hysteresis: thresholds in force are kept while their expected cost is within this share of the command. */
        public Builder costDeadband(double d) {
            this.costDeadband = in(d, 0, 0.5, "costDeadband");
            return this;
        }

        /**
         * Hysteresis: a plan within budget replaces the one in force, even when the cost in force is inside the
         * deadband, if it is expected to be this much more accurate on the samples (default half a point: small
         * enough that drift in the events' difficulty is followed, above the wobble of re-solving on samples that
         * turn over). A plan cheaper by more than the deadband at equal or better accuracy replaces it too.
         */
        public Builder minAccuracyGain(double g) {
            this.minAccuracyGain = in(g, 0, 1, "minAccuracyGain");
            return this;
        }

        /**
         * The solver runs when the cost in force is off the allowed cost by more than the deadband, and at least
         * every this many intervals (to pick up drift in the samples' accuracy).
         */
        public Builder resolveEveryIntervals(int n) {
            if (n < 1) throw new IllegalArgumentException("resolveEveryIntervals must be >= 1, got " + n);
            this.resolveEveryIntervals = n;
            return this;
        }

        /**
         * Correction of the solver's cost model by measured cost: weight of the newest measured/expected log ratio
         * in its moving average, and the clamp on its absolute value (anti-windup).
         */
        public Builder integral(double gain, double limit) {
            this.integralGain = in(gain, 0, 1, "integralGain");
            this.integralLimit = in(limit, 0, 3, "integralLimit");
            return this;
        }

        /** Samples kept for the solver (calibration data first, then the online sampled share). */
        public Builder reservoirCapacity(int n) {
            if (n < 50) throw new IllegalArgumentException("reservoirCapacity must be >= 50, got " + n);
            this.reservoirCapacity = n;
            return this;
        }

        /**
         * Intervals with fewer arrivals than this (default 100) teach nothing about costs: no stage costs, overhead
         * or model correction are learned from them, and they do not count towards the warm-up. Per-interval fixed
         * costs (timers, stats, checkpoints) spread over few events would read as a large per-event overhead.
         */
        public Builder minEventsPerInterval(long n) {
            if (n < 1) throw new IllegalArgumentException("minEventsPerInterval must be >= 1, got " + n);
            this.minEventsPerInterval = n;
            return this;
        }

        /**
         * Warm-up: after a start or a restore, the stage tasks run slow for a while (JIT compilation, first ONNX
         * Runtime runs, cold caches), and costs measured then would make the budget look infeasible. The controller
         * learns no costs (stage costs, per-event overhead, model correction) from intervals of at least
         * {@link #minEventsPerInterval} events until the per-event floor (stage 0's cost per event plus the stage
         * tasks' time per event beyond the stages) has settled: its mean over the last {@code intervals} such
         * intervals is within {@code tolerance} of its mean over the {@code intervals} before them (so at least
         * {@code 2 x intervals} intervals), or {@code maxIntervals} such intervals have passed whatever the floor
         * does (a machine too noisy to settle). Meanwhile it plans with the costs it had (the seed's on a cold start)
         * and follows the input rate, backlog and samples as usual. Defaults: 5, 0.2, 30 (20 s to 1 min at the
         * default 2 s interval); {@code intervals} 0 turns the warm-up off.
         */
        public Builder warmUp(int intervals, double tolerance, int maxIntervals) {
            if (intervals < 0) throw new IllegalArgumentException("warm-up intervals must be >= 0, got " + intervals);
            if (maxIntervals < 2 * intervals) {
                throw new IllegalArgumentException(
                        "warm-up maxIntervals (" + maxIntervals + ") must be >= 2 x intervals (" + intervals + ")");
            }
            this.warmupIntervals = intervals;
            this.warmupTolerance = in(tolerance, 0, 10, "warmupTolerance");
            this.warmupMaxIntervals = maxIntervals;
            return this;
        }

        /**
         * While the budget alert lasts (the budget cannot hold even with every event leaving at stage 0, or the
         * accuracy floor wins over it), the controller logs a warning when it starts and again at most every this
         * many ms (default 30 s), and one line when it clears.
         */
        public Builder alertRepeatMillis(long ms) {
            if (ms < 1) throw new IllegalArgumentException("alertRepeatMillis must be >= 1, got " + ms);
            this.alertRepeatMillis = ms;
            return this;
        }

        /** Parallel workers to plan for; 0 (default) takes the number of subtasks that report. */
        public Builder workers(int n) {
            if (n < 0) throw new IllegalArgumentException("workers must be >= 0, got " + n);
            this.workers = n;
            return this;
        }

        /** Quantile levels per stage searched by the solver's refinement. */
        public Builder solverGridLevels(int n) {
            if (n < 2 || n > 256) throw new IllegalArgumentException("solverGridLevels must be in [2, 256], got " + n);
            this.solverGridLevels = n;
            return this;
        }

        /**
         * Plan with the seed's per-stage costs (the bundle's calibration.json) and never learn from busy time: no
         * cost learning, no model correction, no overhead learning, and the hysteresis compares the plans' expected
         * costs. Plans then follow only the input rate, the budget and the samples, the same on any machine; the
         * budget is in the bundle's cost units, not this machine's. For machines whose busy time is too noisy to
         * steer by: shared or oversubscribed cores, or low duty, where a stage call's wall time depends on how
         * often it runs (default false: learn).
         */
        public Builder fixedStageCosts(boolean fixed) {
            this.fixedStageCosts = fixed;
            return this;
        }

        public ControllerConfig build() {
            return new ControllerConfig(this);
        }

        private static double in(double v, double lo, double hi, String name) {
            if (!(v >= lo && v <= hi))
                throw new IllegalArgumentException(name + " must be in [" + lo + ", " + hi + "], got " + v);
            return v;
        }
    }
}
