package io.exitflow.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.control.sim.RateProfile;
import io.exitflow.control.sim.SimulatedPlant;
import java.util.List;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;

/** The controller against the deterministic simulated plant: rate steps x2 and x0.5, difficulty drift, floors. */
class ThresholdControllerTest {
    private static final double BAND = 0.05;

    @Test
    void rateStepsSettleWithinTheBudgetBandWithoutOscillation() {
        Budget budget = Budget.builder().targetRate(5_000).build();
        RateProfile rate = RateProfile.constant(ClosedLoop.BASE_RATE)
                .thenAt(40, 2 * ClosedLoop.BASE_RATE)
                .thenAt(80, ClosedLoop.BASE_RATE);
        ClosedLoop loop = ClosedLoop.standard(budget, rate, 0, 0, 0).run(120);

        for (int[] seg : new int[][] {{40, 80}, {80, 120}}) {
            // settled: never again more than 2 bands off; on average within the band (the solver picks thresholds
            // on a sample and the overhead is learned from noisy busy time, so single intervals can land outside)
            int settle = loop.settleIntervals(seg[0], seg[1], 2 * BAND);
            assertTrue(settle >= 0 && settle <= 8, "segment " + seg[0] + ": settled after " + settle + " intervals");
            int settled = seg[0] + settle;
            assertTrue(loop.meanAbsBudgetError(settled, seg[1]) <= BAND, "mean budget error after settling");
            assertTrue(loop.settleIntervals(seg[0], seg[1], BAND) <= 20, "within the band most of the time");
            assertTrue(loop.reversals(settled, seg[1], 0.04) <= 1, "cost oscillates after settling at " + settled);
            assertTrue(loop.publishedBetween(settled + 5, seg[1]) <= 4, "too many updates after settling");
            for (int i = seg[1] - 10; i < seg[1]; i++) {
                assertEquals(0, loop.truths.get(i).backlog(), "backlog at " + i);
                assertEquals(
                        loop.truths.get(i).inputRate(), loop.truths.get(i).throughput(), 1.0, "throughput at " + i);
            }
        }
        // x2 makes early exits necessary; x0.5 lets the plan go deeper again
        double[] before = loop.traces.get(39).thresholds(),
                during = loop.traces.get(79).thresholds();
        assertTrue(mean(during) < mean(before) - 0.1, "thresholds should fall when the rate doubles");
        assertTrue(
                loop.truths.get(119).accuracy() > loop.truths.get(79).accuracy() + 0.05, "accuracy recovers at x0.5");
        // the unseen per-event overhead is learned from the overload at start and at the step
        assertEquals(ClosedLoop.OVERHEAD, loop.controller.overheadNanos(), 0.1 * ClosedLoop.OVERHEAD);
        PublishRuleTest.assertUpdatesChangeThresholds(loop.updates);
    }

    /**
     * A job that keeps up only by eating its headroom: the overhead outside the stages never shows as an overload, so
     * without the tasks' busy time the controller plans as if there were none and spends the headroom; with it, the
     * plan holds the target utilisation.
     */
    private static ClosedLoop neverSaturated(boolean taskBusyVisible) {
        double[] cheap = {0.3, 0.3, 0.3, 0.0}; // starts cheap, so even the first interval is no overload
        SimulatedPlant plant = SimulatedPlant.builder()
                .population(SyntheticData.calibration(4000, 4, 5, 11))
                .stageCostNanos(ClosedLoop.STAGE_COST)
                .overheadNanos(ClosedLoop.OVERHEAD)
                .workers(ClosedLoop.WORKERS)
                .rate(RateProfile.constant(30_000))
                .seed(3)
                .initialThresholds(cheap)
                .taskBusyVisible(taskBusyVisible)
                .build();
        ControllerConfig cfg = ClosedLoop.LEARN_FROM_START;
        ThresholdController c = new ThresholdController(
                "synthetic",
                "test",
                Budget.builder().targetRate(30_000).build(),
                cfg,
                SyntheticData.calibration(2000, 4, 5, 12),
                new double[] {20_000, 20_000, 20_000, 20_000},
                cheap);
        return new ClosedLoop(plant, c, cfg.targetUtilisation()).run(40);
    }

    @Test
    void theTasksBusyTimeShowsTheOverheadBeforeAnyOverload() {
        ClosedLoop hidden = neverSaturated(false), visible = neverSaturated(true);
        for (ClosedLoop loop : List.of(hidden, visible)) {
            for (int i = 0; i < 40; i++) assertEquals(0, loop.truths.get(i).backlog(), "the plant keeps up at " + i);
        }
        // What the controller allows per event, against what the plant can afford at the target utilisation. The
        // synthetic accuracy curve is flat up there, so the plans need not spend it all: the allowance is the test.
        for (int i = 5; i < 40; i++) {
            double ideal = visible.idealCost(i);
            assertEquals(1.0, visible.traces.get(i).allowedCost() / ideal, 0.02, "allowance with busy time at " + i);
            assertTrue(visible.truths.get(i).costPerEvent() <= ideal * (1 + BAND), "spent within budget at " + i);
            assertTrue(
                    hidden.traces.get(i).allowedCost() / hidden.idealCost(i) > 1.1,
                    "without busy time the headroom looks free at " + i + ": "
                            + hidden.traces.get(i).allowedCost());
        }
        assertEquals(ClosedLoop.OVERHEAD, visible.controller.overheadNanos(), 0.05 * ClosedLoop.OVERHEAD);
        assertEquals(0, hidden.controller.overheadNanos(), "no overload, so nothing to learn the overhead from");
        assertEquals(
                ClosedLoop.OVERHEAD,
                visible.updates.get(visible.updates.size() - 1).getMeasurement().get("task_overhead_ns"),
                0.05 * ClosedLoop.OVERHEAD);
    }

    /**
     * Issue 14's start-up panic: a job that can serve its budget starts cold. For its first 15 s the stage tasks spend
     * up to 30 times the steady 8 us per event beyond the stages (JIT compilation, first runs), and its first two
     * intervals carry few events. The budget plans for 35,000 ev/s while 5,000 arrive, so the job keeps up throughout;
     * only an overhead learned from the transient makes the budget look infeasible.
     */
    private static ClosedLoop coldStart(ControllerConfig cfg) {
        SimulatedPlant plant = SimulatedPlant.builder()
                .population(SyntheticData.calibration(4000, 4, 5, 11))
                .stageCostNanos(ClosedLoop.STAGE_COST)
                .overheadNanos(ClosedLoop.OVERHEAD)
                .workers(ClosedLoop.WORKERS)
                .rate(RateProfile.constant(60).thenAt(2, 5_000))
                .seed(3)
                .taskBusyVisible(true)
                .warmUp(15, 30)
                .build();
        ThresholdController c = new ThresholdController(
                "synthetic",
                "test",
                Budget.builder().targetRate(ClosedLoop.BASE_RATE).build(),
                cfg,
                SyntheticData.calibration(2000, 4, 5, 12),
                new double[] {20_000, 20_000, 20_000, 20_000},
                BudgetSolver.fullDepthThresholds(4));
        return new ClosedLoop(plant, c, cfg.targetUtilisation()).run(60);
    }

    @Test
    void aColdStartWithAWarmUpTransientNeitherAlertsNorCuts() {
        ClosedLoop loop = coldStart(ControllerConfig.defaults());
        double steadyAccuracy = loop.truths.get(59).accuracy();
        int firstLearned = -1;
        for (int i = 0; i < 60; i++) {
            ControlTrace t = loop.traces.get(i);
            assertFalse(t.alert(), "alert at " + i + ": " + t.reason());
            assertEquals(0, loop.truths.get(i).backlog(), "the job keeps up at " + i);
            assertTrue(
                    loop.truths.get(i).accuracy() >= steadyAccuracy - 0.01,
                    "thresholds cut at " + i + ": accuracy "
                            + loop.truths.get(i).accuracy() + " vs " + steadyAccuracy);
            if (firstLearned < 0 && !t.warmingUp()) firstLearned = i;
        }
        // nothing learned while the transient lasted (until 15 s), then the true overhead within the 30-interval cap
        assertTrue(firstLearned > 15 && firstLearned <= 2 + 30, "warm-up ended at interval " + firstLearned);
        assertTrue(
                loop.traces.get(5).reason().contains("warming up"),
                loop.traces.get(5).reason());
        assertEquals(ClosedLoop.OVERHEAD, loop.controller.overheadNanos(), 0.05 * ClosedLoop.OVERHEAD);
        double ideal = loop.utilisation * ClosedLoop.WORKERS * 1e9 / ClosedLoop.BASE_RATE - ClosedLoop.OVERHEAD;
        assertEquals(1.0, loop.traces.get(59).allowedCost() / ideal, 0.02, "then planned at the budget's allowance");

        // The same start learning from its first intervals: the incident (every event out at stage 0, an alert).
        ClosedLoop panicked = coldStart(ClosedLoop.LEARN_FROM_START);
        long alerts = panicked.traces.stream().filter(ControlTrace::alert).count();
        assertTrue(alerts >= 5, "without the warm-up rule the transient looks like an infeasible budget: " + alerts);
        assertTrue(
                panicked.traces.stream()
                        .anyMatch(t -> t.plannedCost() == panicked.controller.stageCosts()[0]
                                || t.plannedCost() <= ClosedLoop.STAGE_COST[0] * 1.01),
                "without the warm-up rule every event leaves at stage 0 for a while");
        assertTrue(
                panicked.truths.stream()
                                .mapToDouble(SimulatedPlant.Truth::accuracy)
                                .min()
                                .orElseThrow()
                        < steadyAccuracy - 0.2,
                "the cut costs accuracy");
    }

    /** A measurement of one 1 s interval at 10,000 ev/s whose stage tasks spend {@code overheadNanos} per event beyond the stages. */
    private static ControlMeasurement withOverhead(int i, long version, long overheadNanos) {
        long rate = 10_000;
        long[] reached = {rate, rate / 2, rate / 4, rate / 8};
        long[] busy = new long[4];
        long stages = 0;
        for (int k = 0; k < 4; k++) {
            busy[k] = reached[k] * (long) ClosedLoop.STAGE_COST[k];
            stages += busy[k];
        }
        return new ControlMeasurement(
                1_000L * (i + 1), 1, rate, reached, busy, 0, -1, 1, version, List.of(), stages + overheadNanos * rate);
    }

    @Test
    void anInfeasibleBudgetKeepsWarningWhileItLastsAtALimitedRate() {
        // One worker at 10,000 ev/s allows 85 us per event; 100 us beyond the stages leave nothing for them (20 s),
        // then 1 us: the budget holds again.
        ControllerConfig cfg = ControllerConfig.builder()
                .warmUp(0, 0, 0)
                .alertRepeatMillis(5_000)
                .build();
        ThresholdController c = new ThresholdController(
                "synthetic",
                "test",
                Budget.builder().targetRate(10_000).build(),
                cfg,
                SyntheticData.calibration(2000, 4, 5, 12),
                ClosedLoop.STAGE_COST.clone(),
                BudgetSolver.fullDepthThresholds(4));
        List<ControlTrace> traces = new java.util.ArrayList<>();
        try (LogCapture log = new LogCapture(ThresholdController.class)) {
            for (int i = 0; i < 40; i++)
                traces.add(c.onInterval(withOverhead(i, c.version(), i < 20 ? 100_000 : 1_000))
                        .trace());
            int alerting = 0;
            while (alerting < traces.size() && traces.get(alerting).alert()) alerting++;
            assertTrue(alerting >= 20, "the alert lasts while the budget is infeasible: " + alerting + " intervals");
            for (int i = alerting; i < 40; i++) assertFalse(traces.get(i).alert(), "alert again at " + i);
            assertTrue(alerting < 25, "and clears once the overhead has gone: " + alerting);
            // warned when it started and every 5 s while it lasted, each line with how long it has lasted
            List<String> warnings = log.lines(Level.WARN, "budget alert for");
            assertEquals((alerting + 4) / 5, warnings.size(), String.join("\n", warnings));
            for (int w = 0; w < warnings.size(); w++) {
                assertTrue(
                        warnings.get(w).contains("budget alert for " + 5 * w + " s (" + (5 * w + 1) + " intervals)"),
                        warnings.get(w));
                assertTrue(
                        warnings.get(w).contains("budget cannot hold even with every event leaving at stage 0"),
                        warnings.get(w));
            }
            assertEquals(
                    1,
                    log.lines(Level.INFO, "budget alert cleared after " + alerting + " s")
                            .size());
        }
    }

    @Test
    void difficultyDriftIsFollowedAndTheModelCorrectionFadesAgain() {
        Budget budget = Budget.builder().targetRate(5_000).build();
        ClosedLoop loop = ClosedLoop.standard(budget, RateProfile.constant(ClosedLoop.BASE_RATE), 30, 70, 3)
                .run(110);
        int settle = loop.settleIntervals(30, 110, 2 * BAND);
        assertEquals(0, settle, "the cost should stay within two bands throughout the drift");
        assertTrue(loop.meanAbsBudgetError(30, 110) <= BAND, "mean budget error during and after the drift");
        for (int i = 10; i < 110; i++) {
            assertTrue(loop.truths.get(i).backlog() <= ClosedLoop.BASE_RATE * 0.25, "fell behind at " + i);
        }
        assertTrue(
                loop.truths.get(109).accuracy() < loop.truths.get(29).accuracy() - 0.05,
                "the drift makes events harder");
        double[] before = loop.traces.get(29).thresholds(),
                after = loop.traces.get(109).thresholds();
        assertTrue(maxDiff(before, after) > 0.05, "thresholds should move with the drift");
        double correction =
                loop.updates.get(loop.updates.size() - 1).getMeasurement().get("model_correction");
        assertEquals(1.0, correction, 0.1, "the model correction fades once the samples caught up");
        PublishRuleTest.assertUpdatesChangeThresholds(loop.updates); // measured-cost mode: no same-threshold versions
    }

    @Test
    void costFractionBudgetHoldsWhateverTheRate() {
        Budget budget = Budget.builder().costFraction(0.5).build();
        RateProfile rate = RateProfile.constant(10_000).thenAt(30, 20_000);
        ClosedLoop loop = ClosedLoop.standard(budget, rate, 0, 0, 0).run(60);
        double full = 0;
        for (double c : ClosedLoop.STAGE_COST) full += c;
        for (int i = 10; i < 60; i++) {
            double fraction = loop.truths.get(i).costPerEvent() / full;
            assertEquals(0.5, fraction, 0.5 * BAND, "cost fraction at " + i);
        }
    }

    @Test
    void accuracyFloorWinsOverTheBudgetAndRaisesAnAlert() {
        Budget budget = Budget.builder().targetRate(5_000).maxAccuracyLoss(0.02).build();
        RateProfile rate = RateProfile.constant(ClosedLoop.BASE_RATE).thenAt(20, 2 * ClosedLoop.BASE_RATE);
        ClosedLoop loop = ClosedLoop.standard(budget, rate, 0, 0, 0).run(40);
        for (int i = 25; i < 40; i++) {
            ControlTrace t = loop.traces.get(i);
            assertTrue(t.alert(), "alert expected at " + i);
            assertTrue(
                    t.estAccuracy() >= t.fullAccuracy() - 0.02 - 1e-9, "floor broken at " + i + ": " + t.estAccuracy());
            assertTrue(t.reason().contains("accuracy floor"), t.reason());
        }
        assertTrue(
                loop.truths.get(39).backlog() > loop.truths.get(30).backlog(),
                "with the floor winning, the job falls behind");
        assertFalse(loop.traces.get(15).alert(), "no alert while both hold");
    }

    @Test
    void budgetBeyondStageZeroAlertsAndExitsEverythingFirst() {
        Budget budget = Budget.builder().targetRate(200_000).build();
        ClosedLoop loop = ClosedLoop.standard(budget, RateProfile.constant(150_000), 0, 0, 0)
                .run(10);
        ControlTrace last = loop.traces.get(9);
        assertTrue(last.alert());
        assertEquals(loop.controller.stageCosts()[0], last.plannedCost(), 1e-6, "everything should leave at stage 0");
    }

    @Test
    void fixedStageCostsPlanFromTheRateAloneWhateverTheBusyTime() {
        // The same rate step twice, once with busy times four times the other's (a slower or busier machine):
        // with fixed stage costs the updates are the same, and the step up makes the thresholds cheaper.
        List<ThresholdUpdateView> quick = fixedCostsUnderRateStep(1);
        List<ThresholdUpdateView> slow = fixedCostsUnderRateStep(4);
        assertEquals(quick, slow, "busy time must not steer a controller with fixed stage costs");
        ThresholdUpdateView base = quick.stream()
                .filter(u -> u.interval() < 10)
                .reduce((a, b) -> b)
                .orElseThrow();
        ThresholdUpdateView up = quick.stream()
                .filter(u -> u.interval() >= 10)
                .reduce((a, b) -> b)
                .orElseThrow();
        assertTrue(up.expectedCost() < 0.8 * base.expectedCost(), "cheaper at twice the rate: " + base + " -> " + up);
        assertTrue(up.allowedCost() < 0.6 * base.allowedCost(), "allowed cost halves: " + base + " -> " + up);
    }

    /** What {@link #fixedStageCostsPlanFromTheRateAloneWhateverTheBusyTime} compares of one update. */
    private record ThresholdUpdateView(int interval, List<Float> thresholds, double expectedCost, double allowedCost) {}

    private static List<ThresholdUpdateView> fixedCostsUnderRateStep(long busyFactor) {
        double[] seedCost = {20_000, 20_000, 20_000, 20_000};
        ControllerConfig cfg = ControllerConfig.builder()
                .fixedStageCosts(true)
                .targetUtilisation(0.5)
                .build();
        ThresholdController c = new ThresholdController(
                "synthetic",
                "test",
                Budget.builder().targetRate(1).build(),
                cfg,
                SyntheticData.calibration(2000, 4, 5, 12),
                seedCost,
                BudgetSolver.fullDepthThresholds(4));
        List<ThresholdUpdateView> out = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            long rate = i < 10 ? 10_000 : 20_000; // events/s, one worker: allowed 50 us, then 25 us
            long[] reached = {rate, rate / 2, rate / 4, rate / 8};
            long[] busy = new long[4];
            for (int k = 0; k < 4; k++) busy[k] = reached[k] * 15_000 * busyFactor;
            ControlMeasurement m = new ControlMeasurement(
                    1_000L * (i + 1), 1, rate, reached, busy, 0, -1, 1, c.version(), List.of(), -1);
            int interval = i;
            c.onInterval(m)
                    .update()
                    .ifPresent(u -> out.add(new ThresholdUpdateView(
                            interval,
                            u.getThresholds(),
                            u.getMeasurement().get("expected_cost_ns"),
                            u.getMeasurement().get("allowed_cost_ns"))));
        }
        assertEquals(
                List.of(seedCost[0], seedCost[1], seedCost[2], seedCost[3]),
                java.util.Arrays.stream(c.stageCosts()).boxed().toList(),
                "stage costs are not learned");
        return out;
    }

    @Test
    void sameMeasurementsGiveTheSameUpdates() {
        Budget budget = Budget.builder().targetRate(5_000).build();
        RateProfile rate = RateProfile.constant(ClosedLoop.BASE_RATE).thenAt(15, 2 * ClosedLoop.BASE_RATE);
        List<String> a = ClosedLoop.standard(budget, rate, 10, 30, 2).run(30).updates.stream()
                .map(Object::toString)
                .toList();
        List<String> b = ClosedLoop.standard(budget, rate, 10, 30, 2).run(30).updates.stream()
                .map(Object::toString)
                .toList();
        assertTrue(a.size() >= 3);
        assertEquals(a, b);
    }

    @Test
    void everyUpdateCarriesItsReasonAndMeasurement() {
        Budget budget = Budget.builder().targetRate(5_000).build();
        ClosedLoop loop = ClosedLoop.standard(budget, RateProfile.constant(ClosedLoop.BASE_RATE), 0, 0, 0)
                .run(5);
        long previous = 0;
        for (var u : loop.updates) {
            assertTrue(u.getUpdateVersion() > previous);
            previous = u.getUpdateVersion();
            assertFalse(u.getReason().isBlank());
            for (String key : List.of(
                    "input_rate",
                    "throughput",
                    "backlog",
                    "cost_per_event_ns",
                    "allowed_cost_ns",
                    "expected_accuracy",
                    "stage_cost_ns_0")) {
                assertTrue(u.getMeasurement().containsKey(key), "missing " + key);
            }
            assertEquals(4, u.getThresholds().size());
        }
    }

    @Test
    void measurementOfAnotherModelShapeIsRejected() {
        Budget budget = Budget.builder().targetRate(5_000).build();
        ClosedLoop loop = ClosedLoop.standard(budget, RateProfile.constant(1000), 0, 0, 0);
        ControlMeasurement wrong =
                new ControlMeasurement(1000, 1, 100, new long[3], new long[3], 0, -1, 1, 0, List.of(), -1);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> loop.controller.onInterval(wrong));
        assertTrue(e.getMessage().contains("3 stages"), e.getMessage());
        // a sample of the wrong shape is dropped, the rest of the measurement is used
        ControlMeasurement badSample = new ControlMeasurement(
                1000,
                1,
                100,
                new long[] {100, 50, 20, 10},
                new long[] {1_000_000, 1_000_000, 400_000, 200_000},
                0,
                -1,
                1,
                0,
                List.of(new ControlMeasurement.Sample(new float[] {0.5f}, new int[] {1}, null)),
                -1);
        int held = loop.controller.samples().size();
        loop.controller.onInterval(badSample);
        assertEquals(held, loop.controller.samples().size());
        assertEquals(
                10_000, loop.controller.stageCosts()[0], 1e-6 + 0.7 * 10_000, "stage cost learned from the interval");
    }

    private static double mean(double[] t) {
        double s = 0;
        for (int i = 0; i < t.length - 1; i++) s += t[i];
        return s / (t.length - 1);
    }

    private static double maxDiff(double[] a, double[] b) {
        double d = 0;
        for (int i = 0; i < a.length - 1; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }
}
