package io.exitflow.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BudgetSolverTest {
    private static final double[] COST = {10_000, 25_000, 25_000, 25_000};
    private final CalibrationSet set = SyntheticData.calibration(2000, 4, 5, 12);
    private final BudgetSolver solver = new BudgetSolver();

    @Test
    void evaluatesTheExitRuleExactly() {
        CalibrationSet tiny = new CalibrationSet(2, 10);
        tiny.add(new float[] {0.9f, 0.5f}, new int[] {1, 1}, 1); // exits at 0, right
        tiny.add(new float[] {0.2f, 0.9f}, new int[] {0, 1}, 1); // goes on, right at 1
        tiny.add(new float[] {0.6f, 0.9f}, new int[] {2, 1}, 1); // exits at 0 (0.6 >= 0.6), wrong
        ExitPlan p = solver.evaluate(tiny, new double[] {1, 3}, new double[] {0.6, 0});
        assertEquals((1 + 4 + 1) / 3.0, p.expectedCost(), 1e-12);
        assertEquals(2 / 3.0, p.expectedAccuracy(), 1e-12);
        assertArrayEquals(new double[] {2 / 3.0, 1 / 3.0}, p.exitShares(), 1e-12);
    }

    @Test
    void staysWithinTheTargetAndNearTheExhaustiveOptimum() {
        for (double target : new double[] {16_000, 25_000, 40_000, 55_000}) {
            ExitPlan p = solver.solve(set, COST, target, null);
            ExitPlan best = GridSearchOptimum.best(set, COST, target, 20);
            assertTrue(p.expectedCost() <= target, "over target " + target + ": " + p);
            assertTrue(
                    p.expectedAccuracy() >= best.expectedAccuracy() - 0.005,
                    "target " + target + ": solver " + p.expectedAccuracy() + " vs exhaustive "
                            + best.expectedAccuracy());
        }
    }

    @Test
    void moreBudgetNeverCostsAccuracy() {
        double previous = 0;
        for (double target = 12_000; target <= 85_000; target += 4_000) {
            double acc = solver.solve(set, COST, target, null).expectedAccuracy();
            assertTrue(acc >= previous - 0.003, "accuracy fell from " + previous + " to " + acc + " at " + target);
            previous = Math.max(previous, acc);
        }
    }

    @Test
    void extremesAreStageZeroAndFullDepth() {
        ExitPlan cheapest = solver.solve(set, COST, 1_000, null);
        assertEquals(COST[0], cheapest.expectedCost(), 1e-9);
        assertEquals(1.0, cheapest.exitShares()[0], 1e-12);
        ExitPlan rich = solver.solve(set, COST, 1e9, null);
        ExitPlan full = solver.evaluate(set, COST, BudgetSolver.fullDepthThresholds(4));
        assertTrue(rich.expectedAccuracy() >= full.expectedAccuracy() - 1e-12);
        assertEquals(BudgetSolver.fullDepthAccuracy(set), full.expectedAccuracy(), 1e-12);
    }

    @Test
    void cheapestPlanMeetingAnAccuracyFloor() {
        double floor = BudgetSolver.fullDepthAccuracy(set) - 0.01;
        ExitPlan p = solver.cheapestWithAccuracy(set, COST, floor, null);
        assertTrue(p.expectedAccuracy() >= floor);
        assertTrue(p.expectedCost() < 85_000, "should be cheaper than full depth: " + p);
        ExitPlan cheaper = solver.solve(set, COST, p.expectedCost() * 0.9, null);
        assertTrue(cheaper.expectedAccuracy() < floor, "a 10% cheaper plan should miss the floor");
    }

    @Test
    void rejectsMismatchedInput() {
        assertThrows(IllegalArgumentException.class, () -> solver.solve(set, new double[] {1, 2}, 10, null));
        assertThrows(IllegalArgumentException.class, () -> solver.solve(new CalibrationSet(4, 10), COST, 10, null));
        assertThrows(IllegalArgumentException.class, () -> solver.solve(set, new double[] {1, -2, 3, 4}, 10, null));
    }
}
