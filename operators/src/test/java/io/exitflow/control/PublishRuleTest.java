package io.exitflow.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.schemas.ThresholdUpdate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The hysteresis suppresses churn, not improvements: when drift in the sampled events makes a strictly better plan
 * possible at a cost inside the deadband, it is published; identical thresholds never go out under a new version.
 *
 * <p>The drift keeps every sample's exit scores and changes only which stage-0 answers are right, so the cost of any
 * threshold vector (exit shares x stage costs) stays exactly where it was: no cost trigger can fire, only the
 * accuracy of the plans moves.
 */
class PublishRuleTest {
    private static final double[] STAGE_COST = {10_000, 25_000, 25_000, 25_000};
    private static final int SAMPLES = 2000;
    private static final int PER_INTERVAL = 200;

    @Test
    void strictlyBetterPlanWithinTheDeadbandIsPublished() {
        CalibrationSet calibration = SyntheticData.calibration(SAMPLES, 4, 5, 12);
        ThresholdController c = controller(calibration);
        List<ControlMeasurement.Sample> drifted = stageZeroWrongEvery(calibration, 4);

        List<ThresholdUpdate> updates = new ArrayList<>();
        List<ControlTrace> traces = new ArrayList<>();
        int intervals = SAMPLES / PER_INTERVAL + 2 * 10; // replace every sample, then two periodic solves
        for (int i = 0; i < intervals; i++) {
            List<ControlMeasurement.Sample> batch =
                    i < SAMPLES / PER_INTERVAL ? drifted.subList(i * PER_INTERVAL, (i + 1) * PER_INTERVAL) : List.of();
            ControlDecision d = c.onInterval(measurement(i, c.version(), batch));
            d.update().ifPresent(updates::add);
            traces.add(d.trace());
        }
        assertFalse(updates.isEmpty(), "an initial plan is published");
        ThresholdUpdate initial = updates.get(0);
        double[] initialT = toArray(initial.getThresholds());
        double budgetCost = 0.5 * Arrays.stream(STAGE_COST).sum();

        // after the drift the initial thresholds cost exactly what they did, inside the deadband of the budget...
        CalibrationSet now = c.samples();
        BudgetSolver solver = new BudgetSolver();
        ExitPlan stale = solver.evaluate(now, STAGE_COST, initialT);
        assertEquals(
                initial.getMeasurement().get("expected_cost_ns"),
                stale.expectedCost(),
                1e-6,
                "the drift must not move the cost of a fixed plan");
        assertTrue(
                Math.abs(stale.expectedCost() - budgetCost) <= 0.04 * budgetCost,
                "the plan in force should sit inside the deadband: " + stale);
        // ...and a strictly better one exists within the budget
        ExitPlan best = solver.solve(now, STAGE_COST, budgetCost, initialT);
        double gain = best.expectedAccuracy() - stale.expectedAccuracy();
        // a modest gain, the kind a wide accuracy margin on top of a cost-only deadband hid
        assertTrue(gain > 0.005 && gain < 0.05, "the drift should open a modestly better plan, gain " + gain);

        assertTrue(
                updates.size() >= 2,
                "the better plan must be published; traces: "
                        + traces.get(traces.size() - 1).reason());
        ThresholdUpdate last = updates.get(updates.size() - 1);
        double[] lastT = toArray(last.getThresholds());
        ExitPlan published = solver.evaluate(now, STAGE_COST, lastT);
        assertTrue(
                published.expectedAccuracy() > stale.expectedAccuracy() + 0.005,
                "published " + published + " vs stale " + stale);
        assertTrue(published.expectedCost() <= budgetCost * 1.04, "published plan within budget: " + published);
        assertUpdatesChangeThresholds(updates);
    }

    @Test
    void withoutDriftNothingIsRepublished() {
        CalibrationSet calibration = SyntheticData.calibration(SAMPLES, 4, 5, 12);
        ThresholdController c = controller(calibration);
        List<ControlMeasurement.Sample> same = stageZeroWrongEvery(calibration, Integer.MAX_VALUE);
        List<ThresholdUpdate> updates = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            List<ControlMeasurement.Sample> batch =
                    i < SAMPLES / PER_INTERVAL ? same.subList(i * PER_INTERVAL, (i + 1) * PER_INTERVAL) : List.of();
            c.onInterval(measurement(i, c.version(), batch)).update().ifPresent(updates::add);
        }
        assertEquals(1, updates.size(), "only the initial plan; the same samples give no better plan: " + updates);
    }

    /** Every update moves at least one threshold: a new version always means new thresholds. */
    static void assertUpdatesChangeThresholds(List<ThresholdUpdate> updates) {
        for (int i = 1; i < updates.size(); i++) {
            assertFalse(
                    updates.get(i).getThresholds().equals(updates.get(i - 1).getThresholds()),
                    "v" + updates.get(i).getUpdateVersion() + " republishes the thresholds of v"
                            + updates.get(i - 1).getUpdateVersion() + ": "
                            + updates.get(i).getThresholds());
        }
    }

    private static ThresholdController controller(CalibrationSet calibration) {
        // fixed stage costs and a cost-fraction budget: the allowed cost is constant, so only the samples can move
        ControllerConfig cfg = ControllerConfig.builder()
                .fixedStageCosts(true)
                .reservoirCapacity(SAMPLES)
                .build();
        return new ThresholdController(
                "synthetic",
                "test",
                Budget.builder().costFraction(0.5).build(),
                cfg,
                calibration,
                STAGE_COST,
                BudgetSolver.fullDepthThresholds(4));
    }

    /** The same events (same scores, same labels), with stage 0 now wrong on every {@code every}-th of them. */
    private static List<ControlMeasurement.Sample> stageZeroWrongEvery(CalibrationSet set, int every) {
        List<ControlMeasurement.Sample> out = new ArrayList<>();
        for (int i = 0; i < set.size(); i++) {
            float[] sc = new float[set.stages()];
            int[] cl = new int[set.stages()];
            for (int k = 0; k < sc.length; k++) {
                sc[k] = set.score(i, k);
                cl[k] = set.predicted(i, k);
            }
            if (i % every == 0) cl[0] = (set.target(i) + 1) % 5;
            out.add(new ControlMeasurement.Sample(sc, cl, set.target(i)));
        }
        return out;
    }

    private static ControlMeasurement measurement(int i, long version, List<ControlMeasurement.Sample> samples) {
        long rate = 10_000;
        long[] reached = {rate, rate / 2, rate / 4, rate / 8};
        long[] busy = new long[4];
        for (int k = 0; k < 4; k++) busy[k] = reached[k] * (long) STAGE_COST[k];
        return new ControlMeasurement(1_000L * (i + 1), 1, rate, reached, busy, 0, -1, 1, version, samples, -1);
    }

    private static double[] toArray(List<Float> t) {
        double[] out = new double[t.size()];
        for (int i = 0; i < out.length; i++) out[i] = t.get(i);
        return out;
    }
}
