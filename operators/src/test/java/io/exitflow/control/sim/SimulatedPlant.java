package io.exitflow.control.sim;

import io.exitflow.control.CalibrationSet;
import io.exitflow.control.ControlMeasurement;
import io.exitflow.schemas.ThresholdUpdate;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A deterministic stand-in for a streaming early-exit job, for testing and benchmarking the controller.
 *
 * <p>Fluid queue model, one step per control interval: events arrive at the {@link RateProfile}'s rate into a
 * source backlog (the Kafka lag); {@code workers} workers serve them, each event costing the stage times of the
 * stages it reaches plus a fixed overhead the controller does not see in busy time. Which stage an event leaves at
 * follows the exit rule on a population of real (or synthetic) calibration events, re-weighted towards hard events
 * as the difficulty drifts (hardness = 1 - stage-0 score). Measurements come back as {@link ControlMeasurement}s with
 * a sampled share of events run through every stage, exactly what the stage operators report; threshold updates
 * take effect from the next interval. A warm-up transient ({@link Builder#warmUp}) makes the overhead larger at the
 * start, as JIT compilation and first runs do in a job that was just (re)started.
 */
public final class SimulatedPlant {
    private final CalibrationSet population;
    private final double[] stageCost;
    private final double overhead;
    private final int workers;
    private final RateProfile rate;
    private final double driftStart, driftEnd, driftStrength;
    private final double warmUpSeconds, warmUpSlowdown;
    private final double sampleShare;
    private final double costNoise;
    private final boolean labelsKnown;
    private final boolean taskBusyVisible;
    private final double dt;
    private final SplittableRandom random;

    private final double[] hardness;
    private double[] weights;
    private double[] cumulative;
    private double appliedDrift = Double.NaN;

    private double[] thresholds;
    private long version;
    private double[] pending;
    private long pendingVersion;
    private double time;
    private double backlog;
    private double arrivalCarry, sampleCarry;
    private Truth lastTruth;

    private SimulatedPlant(Builder b) {
        population = b.population;
        stageCost = b.stageCost.clone();
        overhead = b.overhead;
        workers = b.workers;
        rate = b.rate;
        driftStart = b.driftStart;
        driftEnd = b.driftEnd;
        driftStrength = b.driftStrength;
        warmUpSeconds = b.warmUpSeconds;
        warmUpSlowdown = b.warmUpSlowdown;
        sampleShare = b.sampleShare;
        costNoise = b.costNoise;
        labelsKnown = b.labelsKnown;
        taskBusyVisible = b.taskBusyVisible;
        dt = b.intervalSeconds;
        random = new SplittableRandom(b.seed);
        thresholds = b.initialThresholds.clone();
        int n = population.size();
        hardness = new double[n];
        for (int i = 0; i < n; i++) hardness[i] = 1.0 - population.score(i, 0);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Thresholds take effect at the start of the next interval. */
    public void apply(ThresholdUpdate u) {
        if (u.getUpdateVersion() <= Math.max(version, pendingVersion)) return; // the operators reject stale updates
        double[] t = new double[u.getThresholds().size()];
        for (int i = 0; i < t.length; i++) t[i] = u.getThresholds().get(i);
        pending = t;
        pendingVersion = u.getUpdateVersion();
    }

    /** Runs one interval and returns what the operators would report for it. */
    public ControlMeasurement step() {
        if (pending != null) {
            thresholds = pending;
            version = pendingVersion;
            pending = null;
        }
        int k = stageCost.length;
        reweight(driftAt(time));
        double[] reach = new double[k];
        double[] acc = new double[1];
        exitProfile(thresholds, reach, acc);
        double trueCost = 0;
        for (int s = 0; s < k; s++) trueCost += reach[s] * stageCost[s];

        double lambda = rate.rateAt(time);
        double arrivingExact = lambda * dt + arrivalCarry;
        long arriving = (long) Math.floor(arrivingExact);
        arrivalCarry = arrivingExact - arriving;
        double overheadNow = overhead * warmUpFactor(time);
        double capacityEvents = workers * 1e9 * dt / (trueCost + overheadNow);
        double served = Math.min(backlog + arriving, capacityEvents);
        long servedEvents = (long) Math.floor(served);
        backlog = backlog + arriving - servedEvents;

        long[] stageArrivals = new long[k];
        long[] busy = new long[k];
        for (int s = 0; s < k; s++) {
            stageArrivals[s] = Math.round(servedEvents * reach[s]);
            double noise = 1 + costNoise * random.nextGaussian();
            busy[s] = Math.round(stageArrivals[s] * stageCost[s] * Math.max(0.5, noise));
        }
        double samplesExact = servedEvents * sampleShare + sampleCarry;
        int nSamples = (int) Math.floor(samplesExact);
        sampleCarry = samplesExact - nSamples;
        List<ControlMeasurement.Sample> samples = new ArrayList<>(nSamples);
        for (int j = 0; j < nSamples; j++) samples.add(draw());

        time += dt;
        long endMillis = Math.round(time * 1000);
        lastTruth = new Truth(
                time, lambda, servedEvents / dt, (long) backlog, trueCost, acc[0], thresholds.clone(), version);
        // the plant's whole backlog waits in the source: the Kafka lag a probe would report
        long stageBusy = 0;
        for (long b : busy) stageBusy += b;
        long taskBusy = taskBusyVisible ? stageBusy + Math.round(overheadNow * servedEvents) : -1;
        return new ControlMeasurement(
                endMillis,
                dt,
                servedEvents,
                stageArrivals,
                busy,
                (long) backlog,
                (long) backlog,
                workers,
                version,
                samples,
                taskBusy);
    }

    /** What really happened in the last interval (the controller does not see this). */
    public Truth truth() {
        return lastTruth;
    }

    /** Seconds simulated so far. */
    public double time() {
        return time;
    }

    /** Stage time per event of the true population now, with {@code t} as thresholds, and its accuracy. */
    public double[] costAndAccuracy(double[] t) {
        reweight(driftAt(time));
        double[] reach = new double[stageCost.length];
        double[] acc = new double[1];
        exitProfile(t, reach, acc);
        double c = 0;
        for (int s = 0; s < reach.length; s++) c += reach[s] * stageCost[s];
        return new double[] {c, acc[0]};
    }

    /** {@code n} events drawn from the population as it is now (for an offline optimum on the true distribution). */
    public CalibrationSet currentPopulation(int n, long seed) {
        reweight(driftAt(time));
        SplittableRandom r = new SplittableRandom(seed);
        CalibrationSet out = new CalibrationSet(population.stages(), n);
        for (int j = 0; j < n; j++) out.addFrom(population, pick(r.nextDouble()));
        return out;
    }

    public double[] stageCosts() {
        return stageCost.clone();
    }

    public double overheadNanos() {
        return overhead;
    }

    public int workers() {
        return workers;
    }

    /** Ground truth of one interval. */
    public record Truth(
            double timeSeconds,
            double inputRate,
            double throughput,
            long backlog,
            double costPerEvent,
            double accuracy,
            double[] thresholds,
            long version) {}

    /** Multiplier on the overhead at time {@code t}: the slowdown at 0, falling linearly to 1 at the warm-up's end. */
    private double warmUpFactor(double t) {
        return t >= warmUpSeconds ? 1 : 1 + (warmUpSlowdown - 1) * (1 - t / warmUpSeconds);
    }

    private double driftAt(double t) {
        if (driftStrength == 0 || t <= driftStart) return 0;
        if (t >= driftEnd) return 1;
        return (t - driftStart) / (driftEnd - driftStart);
    }

    private void reweight(double drift) {
        if (drift == appliedDrift) return;
        int n = population.size();
        double mean = 0;
        for (double h : hardness) mean += h;
        mean /= n;
        weights = new double[n];
        cumulative = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            weights[i] = Math.exp(driftStrength * drift * (hardness[i] - mean));
            sum += weights[i];
            cumulative[i] = sum;
        }
        for (int i = 0; i < n; i++) {
            weights[i] /= sum;
            cumulative[i] /= sum;
        }
        appliedDrift = drift;
    }

    private void exitProfile(double[] t, double[] reach, double[] acc) {
        int k = reach.length, last = k - 1;
        double ok = 0;
        for (int i = 0; i < population.size(); i++) {
            int s = 0;
            while (s < last && population.score(i, s) < t[s]) s++;
            for (int j = 0; j <= s; j++) reach[j] += weights[i];
            if (population.correct(i, s)) ok += weights[i];
        }
        acc[0] = ok;
    }

    private int pick(double u) {
        int lo = 0, hi = cumulative.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cumulative[mid] < u) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private ControlMeasurement.Sample draw() {
        int i = pick(random.nextDouble());
        int k = population.stages();
        float[] sc = new float[k];
        int[] cl = new int[k];
        for (int s = 0; s < k; s++) {
            sc[s] = population.score(i, s);
            cl[s] = population.predicted(i, s);
        }
        return new ControlMeasurement.Sample(sc, cl, labelsKnown ? population.target(i) : null);
    }

    /** Builder; population, stage costs, workers and rate are required. */
    public static final class Builder {
        private CalibrationSet population;
        private double[] stageCost;
        private double overhead;
        private int workers;
        private RateProfile rate;
        private double driftStart, driftEnd, driftStrength;
        private double warmUpSeconds, warmUpSlowdown = 1;
        private double sampleShare = 0.02;
        private double costNoise = 0.02;
        private boolean labelsKnown;
        private boolean taskBusyVisible;
        private double intervalSeconds = 1.0;
        private long seed = 1;
        private double[] initialThresholds;

        private Builder() {}

        /** The true events (targets = labels); the plant draws from them. */
        public Builder population(CalibrationSet p) {
            this.population = p;
            return this;
        }

        /** True stage time per event, ns. */
        public Builder stageCostNanos(double... c) {
            this.stageCost = c.clone();
            return this;
        }

        /** Time per event outside the stages, ns (not in busy time). */
        public Builder overheadNanos(double o) {
            this.overhead = o;
            return this;
        }

        public Builder workers(int w) {
            this.workers = w;
            return this;
        }

        public Builder rate(RateProfile r) {
            this.rate = r;
            return this;
        }

        /** Difficulty drifts linearly from none at {@code fromSecond} to full at {@code toSecond}. */
        public Builder drift(double fromSecond, double toSecond, double strength) {
            if (!(toSecond > fromSecond)) throw new IllegalArgumentException("drift must end after it starts");
            this.driftStart = fromSecond;
            this.driftEnd = toSecond;
            this.driftStrength = strength;
            return this;
        }

        /**
         * A warm-up transient: the per-event overhead is {@code slowdown} times its steady value at the start and
         * falls linearly to it at {@code seconds} (default none). It shows in the task busy time when that is
         * visible, and in the capacity.
         */
        public Builder warmUp(double seconds, double slowdown) {
            if (!(seconds > 0) || !(slowdown >= 1)) {
                throw new IllegalArgumentException(
                        "warm-up needs seconds > 0 and slowdown >= 1, got " + seconds + ", " + slowdown);
            }
            this.warmUpSeconds = seconds;
            this.warmUpSlowdown = slowdown;
            return this;
        }

        /** Share of events run through every stage and reported as samples. */
        public Builder sampleShare(double s) {
            this.sampleShare = s;
            return this;
        }

        /** Relative standard deviation of measured stage time. */
        public Builder costNoise(double c) {
            this.costNoise = c;
            return this;
        }

        /** Whether samples carry their label (a label topic is configured). */
        public Builder labelsKnown(boolean l) {
            this.labelsKnown = l;
            return this;
        }
        /**
         * Whether measurements carry the workers' busy time (stages plus overhead), as stage operators report their
         * tasks' busy time; default false: the overhead is hidden, as in a job whose per-event cost lies in other tasks.
         */
        public Builder taskBusyVisible(boolean v) {
            this.taskBusyVisible = v;
            return this;
        }

        public Builder intervalSeconds(double s) {
            this.intervalSeconds = s;
            return this;
        }

        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        public Builder initialThresholds(double... t) {
            this.initialThresholds = t.clone();
            return this;
        }

        public SimulatedPlant build() {
            if (population == null || population.size() == 0)
                throw new IllegalArgumentException("population is required");
            if (stageCost == null || stageCost.length != population.stages()) {
                throw new IllegalArgumentException(
                        "stageCostNanos needs one cost per stage (" + population.stages() + ")");
            }
            if (workers < 1) throw new IllegalArgumentException("workers must be >= 1");
            if (rate == null) throw new IllegalArgumentException("rate profile is required");
            if (initialThresholds == null) {
                initialThresholds = new double[population.stages()];
                java.util.Arrays.fill(initialThresholds, 0, population.stages() - 1, 1.0);
            }
            return new SimulatedPlant(this);
        }
    }
}
