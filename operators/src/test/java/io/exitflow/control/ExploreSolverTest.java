package io.exitflow.control;

import org.junit.jupiter.api.Test;

class ExploreSolverTest {
    @Test
    void explore() {
        CalibrationSet set = SyntheticCalibration.generate(4000, 4, 5, 12);
        CalibrationSet truth = SyntheticCalibration.generate(20000, 4, 5, 99);
        double[] cost = {10_000, 25_000, 25_000, 25_000};
        for (int rounds : new int[] {0, 2}) {
            BudgetSolver solver = new BudgetSolver(16, rounds);
            for (double target : new double[] {16_000, 25_000, 40_000, 55_000}) {
                long t0 = System.nanoTime();
                ExitPlan p = solver.solve(set, cost, target, null);
                long t1 = System.nanoTime();
                ExitPlan onTruth = solver.evaluate(truth, cost, p.thresholds());
                ExitPlan b = BruteForce.best(truth, cost, onTruth.expectedCost(), 20);
                System.out.printf("rounds %d target %6.0f solver cost %6.0f acc %.4f (%d ms) true cost %6.0f acc %.4f | brute@true cost acc %.4f%n", rounds, target,
                        p.expectedCost(), p.expectedAccuracy(), (t1 - t0) / 1_000_000, onTruth.expectedCost(), onTruth.expectedAccuracy(), b.expectedAccuracy());
            }
        }
    }
}
