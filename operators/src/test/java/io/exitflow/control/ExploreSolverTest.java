package io.exitflow.control;

import org.junit.jupiter.api.Test;

class ExploreSolverTest {
    @Test
    void explore() {
        CalibrationSet set = SyntheticCalibration.generate(2000, 4, 5, 12);
        double[] cost = {15_000, 30_000, 30_000, 30_000};
        BudgetSolver solver = new BudgetSolver();
        for (double target : new double[] {20_000, 30_000, 45_000, 60_000, 75_000, 90_000}) {
            long t0 = System.nanoTime();
            ExitPlan p = solver.solve(set, cost, target, null);
            long t1 = System.nanoTime();
            ExitPlan b = BruteForce.best(set, cost, target, 24);
            System.out.printf("target %6.0f solver cost %6.0f acc %.4f (%d ms) brute cost %6.0f acc %.4f%n", target,
                    p.expectedCost(), p.expectedAccuracy(), (t1 - t0) / 1_000_000, b.expectedCost(), b.expectedAccuracy());
        }
    }
}
