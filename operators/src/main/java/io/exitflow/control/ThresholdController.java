package io.exitflow.control;

import io.exitflow.schemas.ThresholdUpdate;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.io.Serializable;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.annotation.Internal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The feedback loop's brain: once per control interval it turns a {@link ControlMeasurement} into exit thresholds
 * that hold the {@link Budget}. Deterministic: the same measurements give the same updates (audit and replay).
 *
 * <p>Per interval:
 * <ol>
 *   <li><b>Learn</b>: sampled full-depth events enter the {@link CalibrationSet}; per-stage cost per event is a
 *       moving average of busy time / arrivals; the input rate is throughput plus backlog growth, smoothed. Costs
 *       (stage costs, overhead, model correction) are learned only from intervals of at least
 *       {@link ControllerConfig.Builder#minEventsPerInterval} events after the warm-up
 *       ({@link ControllerConfig.Builder#warmUp}).</li>
 *   <li><b>Feed-forward</b> (rate budget): allowed cost per event = utilisation x workers x 1 s / planned rate -
 *       per-event overhead, planned rate = max(target rate, input rate) + excess backlog / drain time (the
 *       proportional backlog term). Cost budget: fraction x full-depth cost.</li>
 *   <li><b>Capacity model</b>: time per event outside the stages (deserialisation, batching, contention) is learned
 *       from intervals that started and ended with a backlog (then throughput is the capacity), and bounded from
 *       above when the job kept up.</li>
 *   <li><b>Rate limit</b> on the commanded cost: fast down (keep up), slower up (no overshoot).</li>
 *   <li><b>Model correction</b> (busy-time feedback): the smoothed log ratio of measured to expected cost of the
 *       thresholds in force divides the solver's target (difficulty drift before the samples catch up). Clamped,
 *       frozen while the command is saturated or the accuracy floor binds (anti-windup), fed only by intervals run
 *       entirely on the newest thresholds, and it fades when the bias does (an estimate, not an unbounded sum).</li>
 *   <li><b>Solve</b> with {@link BudgetSolver}; if the accuracy floor fails, the floor wins: the cheapest plan that
 *       meets it, with an alert. The alert (also: the budget cannot hold even at stage 0) is logged when it starts,
 *       again at most every {@link ControllerConfig.Builder#alertRepeatMillis} while it lasts, and when it
 *       clears.</li>
 *   <li><b>Hysteresis</b>: publish only when the measured cost of the thresholds in force is over the allowed cost
 *       by more than the deadband, when they miss the accuracy floor, or when the solver's plan beats them on the samples: more accurate by
 *       {@link ControllerConfig.Builder#minAccuracyGain} within budget, or cheaper by more than the deadband at
 *       equal or better accuracy (the deadband suppresses churn, not improvements). Unused budget is taken up only
 *       where it buys that much accuracy. Within the deadband the solver
 *       runs every {@link ControllerConfig.Builder#resolveEveryIntervals} intervals to find such plans. An update
 *       always changes the thresholds: the same ones are never republished under a new version.</li>
 * </ol>
 * Costs are in nanoseconds of stage time per event. With {@link ControllerConfig.Builder#fixedStageCosts} the costs
 * stay the seed's: no cost learning, no capacity model, no model correction; hysteresis on expected cost.
 */
@Internal
public final class ThresholdController implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ThresholdController.class);

    private final String modelId;
    private final String modelVersion;
    private final Budget budget;
    private final ControllerConfig cfg;
    private final BudgetSolver solver;
    private CalibrationSet samples;
    private final double[] stageCost;

    private double rateEstimate = Double.NaN;
    private long previousBacklog = -1;
    /** Smoothed per-event time of the stage tasks outside the stages, from their busy time; NaN until measured. */
    private double taskOverhead = Double.NaN;
    /** Per-event time outside the stages learned from the capacity (overloaded intervals, bounded when keeping up). */
    private double capacityOverhead;
    /** What the plan takes for the per-event overhead: the capacity estimate, floored by the tasks' busy time. */
    private double overhead;

    private boolean overheadSeen;
    /** Null in states written before the warm-up rule (then made on first use). */
    private WarmUp warmUp;

    private boolean alerting;
    private long alertSinceMillis, lastAlertLogMillis, alertIntervals;
    private double correction; // log of the factor applied to the command before solving
    private double command = Double.NaN;
    private double inForceMeasured = Double.NaN; // measured cost per event of the thresholds in force, smoothed
    private boolean floorBinding;
    private int intervalsSinceSolve;
    private double[] thresholds;
    private long version;
    private long rejectedSamples;

    /**
     * @param samples calibration samples to start from (copied; see {@link CalibrationFile})
     * @param initialStageCost per-stage cost per event in ns until measured (calibration or manifest costs)
     * @param initialThresholds the thresholds the operators start with (the bundle's defaults)
     */
    public ThresholdController(
            String modelId,
            String modelVersion,
            Budget budget,
            ControllerConfig cfg,
            CalibrationSet samples,
            double[] initialStageCost,
            double[] initialThresholds) {
        int k = samples.stages();
        if (initialStageCost.length != k || initialThresholds.length != k) {
            throw new IllegalArgumentException("model has " + k + " stages but " + initialStageCost.length
                    + " initial costs and " + initialThresholds.length + " thresholds were given");
        }
        for (double c : initialStageCost) {
            if (!(c > 0) || Double.isInfinite(c)) {
                throw new IllegalArgumentException(
                        "initial stage costs must be positive ns/event: " + Arrays.toString(initialStageCost));
            }
        }
        if (samples.size() == 0)
            throw new IllegalArgumentException("the controller needs calibration samples to start from");
        this.modelId = modelId;
        this.modelVersion = modelVersion;
        this.budget = budget;
        this.cfg = cfg;
        this.solver = new BudgetSolver(cfg.solverGridLevels, 4);
        CalibrationSet own = new CalibrationSet(k, cfg.reservoirCapacity);
        for (int i = 0; i < samples.size(); i++) own.addFrom(samples, i);
        this.samples = own;
        this.stageCost = initialStageCost.clone();
        this.thresholds = initialThresholds.clone();
    }

    /** Decides one interval: the seven steps of the class comment, in the order their inputs allow. */
    public ControlDecision onInterval(ControlMeasurement m) {
        requireStages(m);
        Learned learned = learn(m);
        Command command = command(m, learned);
        ExitPlan inForce = solver.evaluate(samples, stageCost, thresholds);
        double target = correct(m, learned, command, inForce);
        Choice choice = choose(inForce, command, target);
        boolean alert = floorBinding || (command.tooTight() && budget.kind() == Budget.Kind.RATE);
        String reason = reason(m, learned, command, target, inForce, choice);
        Optional<ThresholdUpdate> update = choice.publish()
                ? Optional.of(publish(m, reason, choice, command, target, learned.measuredCost()))
                : Optional.empty();
        ExitPlan nowInForce = choice.publish() ? choice.plan() : inForce;
        logAlert(alert, m.endMillis(), reason);
        ControlTrace trace = new ControlTrace(
                m.endMillis(),
                rateEstimate,
                m.throughput(),
                m.backlog(),
                m.sourceLag(),
                learned.measuredCost(),
                command.cost(),
                nowInForce.expectedCost(),
                command.full(),
                nowInForce.expectedAccuracy(),
                choice.fullAccuracy(),
                thresholds.clone(),
                version,
                choice.publish(),
                alert,
                warmingUp(),
                reason);
        return new ControlDecision(update, trace);
    }

    /**
     * What an interval taught (step 1, learn, and step 3, the capacity model): whether it may teach costs, the
     * workers' capacity (ns of work per s), the rate to plan for, the backlog the plan may leave and the measured
     * stage time per event.
     */
    private record Learned(boolean enough, double capacity, double planRate, double allowance, double measuredCost) {}

    /**
     * The cost per event commanded this interval (step 2, feed-forward, then step 4, the rate limit), clamped to
     * [{@code cheapest}, {@code full}]; {@code tooTight} when the budget allows less than stage 0 alone.
     */
    private record Command(double feedForward, double cost, boolean tooTight, double cheapest, double full) {}

    /**
     * How the thresholds in force stand against the accuracy floor, in measured cost: full-depth accuracy on the
     * samples, the floor (-1: none), the factor from the samples' cost to the measured one, the cost in force.
     */
    private record Standing(
            double fullAccuracy, double minAccuracy, double toMeasured, double inForceCost, boolean belowFloor) {}

    /** The plan chosen (step 6, solve) and whether it goes out (step 7, hysteresis), with what decided it. */
    private record Choice(ExitPlan plan, boolean publish, double inForceCost, double goal, double fullAccuracy) {}

    private void requireStages(ControlMeasurement m) {
        int k = samples.stages();
        if (m.stageArrivals().length != k) {
            throw new IllegalArgumentException(
                    "measurement has " + m.stageArrivals().length + " stages, model " + modelId + " has " + k);
        }
    }

    /**
     * Step 1 and 3: samples, stage costs (after the warm-up, from intervals of enough events), the input rate
     * (throughput plus backlog growth, smoothed) and the per-event overhead.
     */
    private Learned learn(ControlMeasurement m) {
        learnSamples(m);
        // costs are learned only from intervals of enough events after the warm-up (see ControllerConfig.warmUp)
        boolean enough = warmUp().observe(m, m.arrivals() >= cfg.minEventsPerInterval);
        if (enough && !cfg.fixedStageCosts) learnStageCosts(m);
        learnRate(m);
        double capacity = (cfg.workers > 0 ? cfg.workers : Math.max(1, m.workers())) * 1e9; // ns of work per s
        double planRate =
                budget.kind() == Budget.Kind.RATE ? Math.max(budget.targetRate(), rateEstimate) : rateEstimate;
        double allowance = cfg.backlogAllowanceSeconds * Math.max(planRate, 1);
        double measuredCost = m.costPerEvent();
        if (!cfg.fixedStageCosts) learnOverhead(m, allowance, capacity, measuredCost, enough);
        return new Learned(enough, capacity, planRate, allowance, measuredCost);
    }

    /** The input rate: throughput plus the backlog's growth since the last interval, smoothed. */
    private void learnRate(ControlMeasurement m) {
        double growth = previousBacklog < 0 ? 0 : (m.backlog() - previousBacklog) / m.seconds();
        double inputRate = Math.max(0, m.throughput() + growth);
        rateEstimate =
                Double.isNaN(rateEstimate) ? inputRate : rateEstimate + cfg.rateSmoothing * (inputRate - rateEstimate);
    }

    /**
     * Step 2 and 4: the cost per event the budget allows (rate budget: utilisation x capacity / planned rate, the
     * backlog beyond the allowance drained over the drain time, less the overhead; cost budget: a fraction of full
     * depth), rate-limited against the last command (fast down, slower up) and clamped to what the stages can do.
     */
    private Command command(ControlMeasurement m, Learned learned) {
        double full = 0;
        for (double c : stageCost) full += c;
        double cheapest = stageCost[0];
        double feedForward;
        if (budget.kind() == Budget.Kind.RATE) {
            double excess = Math.max(0, m.backlog() - learned.allowance());
            double effectiveRate = learned.planRate() + excess / cfg.drainSeconds;
            feedForward = cfg.targetUtilisation * learned.capacity() / effectiveRate - overhead;
        } else {
            feedForward = budget.costFraction() * full;
        }
        double cmd = Double.isNaN(command)
                ? feedForward
                : Math.min(
                        Math.max(feedForward, command * (1 - cfg.maxCostDecrease)),
                        command * (1 + cfg.maxCostIncrease));
        boolean tooTight = cmd < cheapest;
        cmd = Math.min(Math.max(cmd, cheapest), full);
        command = cmd;
        return new Command(feedForward, cmd, tooTight, cheapest, full);
    }

    /**
     * Step 5: feeds the model correction from the measured cost of the thresholds in force, and returns the
     * solver's target: the command divided by the model's bias, within [stage 0, full depth].
     */
    private double correct(ControlMeasurement m, Learned learned, Command c, ExitPlan inForce) {
        // with fixed stage costs nothing measured feeds the cost model (inForceMeasured stays unset)
        if (!c.tooTight() && !cfg.fixedStageCosts) {
            integrate(m, inForce, learned.measuredCost(), learned.enough(), c.cost(), c.cheapest(), c.full());
        }
        // nothing is cheaper than leaving at stage 0: a correction must not lift a command that is already too tight
        return c.tooTight()
                ? c.cheapest()
                : Math.min(Math.max(c.cost() * Math.exp(correction), c.cheapest()), c.full());
    }

    /** Step 6 and 7: solves when a trigger may fire, and decides whether the plan goes out. */
    private Choice choose(ExitPlan inForce, Command c, double target) {
        Standing standing = standing(inForce);
        boolean periodic = ++intervalsSinceSolve >= cfg.resolveEveryIntervals;
        boolean mayMove = version == 0
                || standing.belowFloor()
                || periodic
                || (!floorBinding && Math.abs(standing.inForceCost() - c.cost()) > cfg.costDeadband * c.cost());
        // solving is the expensive part: only when a trigger may fire
        ExitPlan plan = mayMove ? solve(target, standing.minAccuracy()) : inForce;
        double goal = floorBinding ? plan.expectedCost() * standing.toMeasured() : c.cost();
        boolean publish = mayMove && publishes(plan, inForce, standing, goal);
        return new Choice(plan, publish, standing.inForceCost(), goal, standing.fullAccuracy());
    }

    /**
     * The thresholds in force against the accuracy floor, their cost in measured terms where there is a measurement:
     * the samples' estimate of a fixed plan wanders by a few percent as they turn over, busy time does not (the
     * correction converts between the two).
     */
    private Standing standing(ExitPlan inForce) {
        double fullAccuracy = BudgetSolver.fullDepthAccuracy(samples);
        double minAccuracy = budget.maxAccuracyLoss().isPresent()
                ? fullAccuracy - budget.maxAccuracyLoss().getAsDouble()
                : -1;
        double toMeasured = Math.exp(-correction);
        double inForceCost = Double.isNaN(inForceMeasured) ? inForce.expectedCost() * toMeasured : inForceMeasured;
        boolean belowFloor = inForce.expectedAccuracy() < minAccuracy - 1e-9;
        return new Standing(fullAccuracy, minAccuracy, toMeasured, inForceCost, belowFloor);
    }

    /** Step 6: the solver's plan for the target; if it misses the accuracy floor, the cheapest plan that meets it. */
    private ExitPlan solve(double target, double minAccuracy) {
        intervalsSinceSolve = 0;
        ExitPlan plan = solver.solve(samples, stageCost, target, thresholds);
        floorBinding = plan.expectedAccuracy() < minAccuracy - 1e-9;
        return floorBinding ? solver.cheapestWithAccuracy(samples, stageCost, minAccuracy, thresholds) : plan;
    }

    /**
     * Step 7, hysteresis: the first plan always goes out; later ones only with new thresholds, and only when the
     * thresholds in force are over budget by more than the deadband, miss the floor, or the plan improves on them.
     */
    private boolean publishes(ExitPlan plan, ExitPlan inForce, Standing standing, double goal) {
        boolean overBudget = standing.inForceCost() > goal * (1 + cfg.costDeadband);
        boolean improves = improves(plan, inForce, goal, standing.toMeasured());
        // a new version always carries new thresholds: republishing the ones in force is churn, never a fix
        boolean changed = !samePublished(plan.thresholds(), thresholds);
        // budget left unused is no reason on its own: spending it must buy minAccuracyGain (see improves), or
        // a plan that spends it for nothing and one that saves it for nothing would take turns
        return version == 0 || (changed && (overBudget || improves || standing.belowFloor()));
    }

    /** The update's reason: why (cause, warm-up), what was measured and planned. */
    private String reason(
            ControlMeasurement m, Learned learned, Command c, double target, ExitPlan inForce, Choice choice) {
        String why = cause(
                        version == 0,
                        floorBinding,
                        c.tooTight(),
                        choice.inForceCost(),
                        choice.goal(),
                        m.backlog() > learned.allowance())
                + (warmingUp()
                        ? String.format(
                                Locale.ROOT,
                                " (warming up: costs not learned yet, %d of %d intervals of %d+ events)",
                                warmUp.seen(),
                                cfg.warmupIntervals,
                                cfg.minEventsPerInterval)
                        : "");
        return String.format(
                Locale.ROOT,
                "%s: input %.0f ev/s (plan %.0f), throughput %.0f ev/s, backlog %d (source lag %s); allowed %.0f ns/event "
                        + "(feed-forward %.0f, overhead %.0f, model correction x%.3f) -> target %.0f; "
                        + "thresholds in force cost %.0f ns (samples expect %.0f), acc %.4f; new plan %.0f ns, acc %.4f (full %.4f)",
                why,
                rateEstimate,
                learned.planRate(),
                m.throughput(),
                m.backlog(),
                m.sourceLag() < 0 ? "unknown" : Long.toString(m.sourceLag()),
                c.cost(),
                c.feedForward(),
                overhead,
                Math.exp(correction),
                target,
                choice.inForceCost(),
                inForce.expectedCost(),
                inForce.expectedAccuracy(),
                choice.plan().expectedCost(),
                choice.plan().expectedAccuracy(),
                choice.fullAccuracy());
    }

    /** Puts the chosen plan in force under a new version and returns its update. */
    private ThresholdUpdate publish(
            ControlMeasurement m, String reason, Choice choice, Command c, double target, double measuredCost) {
        version = Math.max(version + 1, m.endMillis());
        thresholds = choice.plan().thresholds();
        inForceMeasured = Double.NaN;
        ThresholdUpdate update =
                toUpdate(m, reason, choice.plan(), c.cost(), target, choice.fullAccuracy(), measuredCost);
        LOG.info("model {} thresholds v{} {}: {}", modelId, version, Arrays.toString(thresholds), reason);
        return update;
    }

    /**
     * Whether {@code plan} beats the thresholds in force on the samples by enough to be worth an update although the
     * cost in force is within the deadband: more accurate by at least the margin and within budget (or no costlier
     * than the plan in force), or cheaper by more than the deadband at equal or better accuracy. Both compare the two
     * plans on the same samples, so the samples' cost bias cancels; each publish strictly improves one of accuracy or
     * cost without giving up the other, so on a fixed sample set the rule cannot oscillate.
     */
    private boolean improves(ExitPlan plan, ExitPlan inForce, double goal, double toMeasured) {
        double gain = plan.expectedAccuracy() - inForce.expectedAccuracy();
        boolean withinBudget = plan.expectedCost() * toMeasured <= goal * (1 + cfg.costDeadband);
        boolean moreAccurate =
                gain >= cfg.minAccuracyGain && (withinBudget || plan.expectedCost() <= inForce.expectedCost());
        boolean cheaper = gain >= 0 && plan.expectedCost() < inForce.expectedCost() * (1 - cfg.costDeadband);
        return moreAccurate || cheaper;
    }

    /** Whether two threshold vectors would go out as the same update (thresholds are published as floats). */
    private static boolean samePublished(double[] a, double[] b) {
        for (int s = 0; s < a.length; s++) if ((float) a[s] != (float) b[s]) return false;
        return true;
    }

    /**
     * Keeps the alert in the log while it lasts: a warning when it starts and again at most every
     * {@link ControllerConfig.Builder#alertRepeatMillis} (with how long it has lasted), one line when it clears.
     */
    private void logAlert(boolean alert, long nowMillis, String reason) {
        if (alert) {
            if (!alerting) {
                alerting = true;
                alertSinceMillis = nowMillis;
                alertIntervals = 0;
            }
            alertIntervals++;
            if (alertIntervals == 1 || nowMillis - lastAlertLogMillis >= cfg.alertRepeatMillis) {
                lastAlertLogMillis = nowMillis;
                LOG.warn(
                        "model {}: budget alert for {} s ({} intervals): {}",
                        modelId,
                        (nowMillis - alertSinceMillis) / 1000,
                        alertIntervals,
                        reason);
            }
        } else if (alerting) {
            alerting = false;
            LOG.info(
                    "model {}: budget alert cleared after {} s ({} intervals)",
                    modelId,
                    (nowMillis - alertSinceMillis) / 1000,
                    alertIntervals);
        }
    }

    private static String cause(
            boolean first, boolean floor, boolean tooTight, double inForceCost, double goal, boolean backlog) {
        if (floor) return "ALERT accuracy floor wins over the budget";
        if (tooTight) return "ALERT budget cannot hold even with every event leaving at stage 0";
        if (first) return "initial plan";
        if (backlog) return "draining backlog";
        return inForceCost > goal ? "cost above budget" : "cost below budget";
    }

    private void learnSamples(ControlMeasurement m) {
        int k = samples.stages();
        for (ControlMeasurement.Sample s : m.samples()) {
            if (s.scores().length != k || s.classes().length != k) {
                rejectedSamples++;
                LOG.warn(
                        "model {}: dropped a sample with {} scores / {} classes (model has {} stages); {} dropped so far",
                        modelId,
                        s.scores().length,
                        s.classes().length,
                        k,
                        rejectedSamples);
                continue;
            }
            samples.add(s.scores(), s.classes(), s.label());
        }
    }

    private void learnStageCosts(ControlMeasurement m) {
        for (int s = 0; s < stageCost.length; s++) {
            if (m.stageArrivals()[s] < Math.max(1, cfg.minEventsPerInterval / 4)) continue;
            double c = m.stageCost(s);
            stageCost[s] += cfg.costSmoothing * (c - stageCost[s]);
        }
    }

    /**
     * Time per event outside the stages. When events waited at both ends of the interval (or piled up by more than
     * the allowance from the start) the workers never ran dry, so throughput was the capacity: overhead = capacity / throughput - stage time. When the backlog ended
     * empty the job kept up, so capacity >= throughput bounds it from above. When the operators report their tasks'
     * busy time, the part outside the stages is a floor under the estimate in every interval.
     */
    private void learnOverhead(
            ControlMeasurement m, double allowance, double capacity, double measuredCost, boolean enough) {
        // backlogged at both ends, or grown by more than the allowance from an empty start: no idle time in between
        boolean saturated = m.backlog() > allowance
                && (previousBacklog > allowance || m.backlog() - Math.max(0, previousBacklog) > allowance);
        if (enough && Double.isFinite(measuredCost)) {
            double perEvent = Math.max(0, capacity / m.throughput() - measuredCost);
            if (saturated) {
                capacityOverhead = overheadSeen ? capacityOverhead + 0.5 * (perEvent - capacityOverhead) : perEvent;
                overheadSeen = true;
            } else if (m.backlog() <= allowance) capacityOverhead = Math.min(capacityOverhead, perEvent);
        }
        // The stage tasks' own busy time beyond the stages is overhead measured directly, overload or not: a floor
        // under the estimate, so a job that keeps up only by eating its headroom is planned with its true cost. The
        // floor is applied afresh each interval (not ratcheted into the estimate), so a transient fades with it.
        if (enough && Double.isFinite(measuredCost) && m.taskBusyNanos() >= 0) {
            double direct = Math.max(0, (double) m.taskBusyNanos() / m.arrivals() - measuredCost);
            taskOverhead =
                    Double.isNaN(taskOverhead) ? direct : taskOverhead + cfg.costSmoothing * (direct - taskOverhead);
        }
        overhead = Double.isNaN(taskOverhead) ? capacityOverhead : Math.max(capacityOverhead, taskOverhead);
        previousBacklog = m.backlog();
    }

    private void integrate(
            ControlMeasurement m,
            ExitPlan inForce,
            double measuredCost,
            boolean enough,
            double cmd,
            double cheapest,
            double full) {
        if (!enough || !Double.isFinite(measuredCost) || m.minThresholdVersion() < version || version == 0) {
            return; // not a measurement of the thresholds in force
        }
        inForceMeasured =
                Double.isNaN(inForceMeasured) ? measuredCost : inForceMeasured + 0.5 * (measuredCost - inForceMeasured);
        if (floorBinding) return;
        // the correction is a smoothed estimate of the model's bias, not an unbounded sum: when the samples catch up
        // with a drift the bias goes, and so does the correction
        double bias = Math.log(measuredCost / inForce.expectedCost());
        double target = cmd * Math.exp(correction);
        if ((target <= cheapest && bias > 0) || (target >= full && bias < 0)) return; // saturated: anti-windup
        correction += cfg.integralGain * (-bias - correction);
        correction = Math.max(-cfg.integralLimit, Math.min(cfg.integralLimit, correction));
    }

    private ThresholdUpdate toUpdate(
            ControlMeasurement m,
            String reason,
            ExitPlan plan,
            double cmd,
            double target,
            double fullAccuracy,
            double measuredCost) {
        Map<String, Double> meas = new LinkedHashMap<>();
        meas.put("interval_end_ms", (double) m.endMillis());
        meas.put("interval_s", m.seconds());
        meas.put("input_rate", rateEstimate);
        meas.put("throughput", m.throughput());
        meas.put("backlog", (double) m.backlog());
        if (m.sourceLag() >= 0) meas.put("source_lag", (double) m.sourceLag());
        meas.put("workers", (double) m.workers());
        meas.put("busy_fraction", m.busyFraction());
        meas.put("cost_per_event_ns", measuredCost);
        meas.put("allowed_cost_ns", cmd);
        meas.put("solver_target_ns", target);
        meas.put("overhead_ns", overhead);
        if (!Double.isNaN(taskOverhead)) meas.put("task_overhead_ns", taskOverhead);
        meas.put("model_correction", Math.exp(correction));
        for (int s = 0; s < stageCost.length; s++) meas.put("stage_cost_ns_" + s, stageCost[s]);
        meas.put("expected_cost_ns", plan.expectedCost());
        meas.put("expected_accuracy", plan.expectedAccuracy());
        meas.put("full_accuracy", fullAccuracy);
        meas.put("samples_held", (double) samples.size());
        meas.put("samples_seen", (double) samples.added());
        meas.put("labelled_share", samples.labelledShare());
        meas.values().removeIf(v -> !Double.isFinite(v)); // Avro doubles may be NaN, but audits read them as missing
        float[] t = new float[thresholds.length];
        for (int s = 0; s < t.length; s++) t[s] = (float) thresholds[s];
        java.util.List<Float> tl = new java.util.ArrayList<>(t.length);
        for (float f : t) tl.add(f);
        return ThresholdUpdate.newBuilder()
                .setModelId(modelId)
                .setModelVersion(modelVersion)
                .setUpdateVersion(version)
                .setThresholds(tl)
                .setReason(reason)
                .setTimestampMillis(m.endMillis())
                .setMeasurement(meas)
                .build();
    }

    /**
     * Writes what the controller has learned, field by field (the checkpoint's format
     * {@code ThresholdControllerFunction.STATE_FORMAT}): samples, stage costs, rate, overhead, alert, model correction,
     * command, thresholds in force and their version. Not its identity (the caller writes model id, version and stage
     * count first), nor its settings (budget, tuning: the restoring job's own apply), nor the warm-up (a restore starts
     * it again).
     */
    public void writeState(DataOutput out) throws IOException {
        samples.writeState(out);
        writeDoubles(out, stageCost);
        out.writeDouble(rateEstimate);
        out.writeLong(previousBacklog);
        out.writeDouble(taskOverhead);
        out.writeDouble(capacityOverhead);
        out.writeDouble(overhead);
        out.writeBoolean(overheadSeen);
        out.writeBoolean(alerting);
        out.writeLong(alertSinceMillis);
        out.writeLong(lastAlertLogMillis);
        out.writeLong(alertIntervals);
        out.writeDouble(correction);
        out.writeDouble(command);
        out.writeDouble(inForceMeasured);
        out.writeBoolean(floorBinding);
        out.writeInt(intervalsSinceSolve);
        writeDoubles(out, thresholds);
        out.writeLong(version);
        out.writeLong(rejectedSamples);
    }

    /**
     * Reads into this controller (made from the restoring job's seed, budget and tuning) what {@link #writeState}
     * wrote for the same model; then starts the warm-up again.
     *
     * @throws IOException when the state's stage count is not this model's
     */
    public void readState(DataInput in) throws IOException {
        int k = samples.stages();
        CalibrationSet read = CalibrationSet.readState(in);
        if (read.stages() != k)
            throw new IOException("controller state has " + read.stages() + " stages, model has " + k);
        CalibrationSet own = new CalibrationSet(k, cfg.reservoirCapacity); // this job's capacity, oldest first
        for (int i = 0; i < read.size(); i++) own.addFrom(read, i);
        samples = read.capacity() == cfg.reservoirCapacity ? read : own;
        double[] costs = readDoubles(in, k);
        System.arraycopy(costs, 0, stageCost, 0, k);
        rateEstimate = in.readDouble();
        previousBacklog = in.readLong();
        taskOverhead = in.readDouble();
        capacityOverhead = in.readDouble();
        overhead = in.readDouble();
        overheadSeen = in.readBoolean();
        alerting = in.readBoolean();
        alertSinceMillis = in.readLong();
        lastAlertLogMillis = in.readLong();
        alertIntervals = in.readLong();
        correction = in.readDouble();
        command = in.readDouble();
        inForceMeasured = in.readDouble();
        floorBinding = in.readBoolean();
        intervalsSinceSolve = in.readInt();
        thresholds = readDoubles(in, k);
        version = in.readLong();
        rejectedSamples = in.readLong();
        restartWarmUp();
    }

    private static void writeDoubles(DataOutput out, double[] v) throws IOException {
        out.writeInt(v.length);
        for (double d : v) out.writeDouble(d);
    }

    private static double[] readDoubles(DataInput in, int expected) throws IOException {
        int n = in.readInt();
        if (n != expected)
            throw new IOException("controller state has " + n + " values per stage, model has " + expected);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = in.readDouble();
        return v;
    }

    private WarmUp warmUp() {
        if (warmUp == null) warmUp = new WarmUp(cfg);
        return warmUp;
    }

    /**
     * The stage tasks were restarted (the job was restored): their first intervals are a warm-up again, and costs are
     * learned only after it (see {@link ControllerConfig.Builder#warmUp}).
     */
    public void restartWarmUp() {
        warmUp().restart();
    }

    /** Whether the controller is still warming up: it learns no costs from the intervals yet. */
    public boolean warmingUp() {
        return warmUp().warming() && !cfg.fixedStageCosts;
    }

    /** The model version this controller plans for (its samples and costs belong to it). */
    public String modelVersion() {
        return modelVersion;
    }

    /** Stages of the model. */
    public int stages() {
        return samples.stages();
    }

    /** Thresholds in force (as last published, or the initial ones). */
    public double[] thresholds() {
        return thresholds.clone();
    }

    public long version() {
        return version;
    }

    /** Current per-stage cost estimates, ns per event. */
    public double[] stageCosts() {
        return stageCost.clone();
    }

    /** Learned time per event outside the stages, ns. */
    public double overheadNanos() {
        return overhead;
    }

    /** A copy of the samples the solver currently uses. */
    public CalibrationSet samples() {
        return samples.copy();
    }

    public String modelId() {
        return modelId;
    }
}
