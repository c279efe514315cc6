package io.exitflow.bench.controller;

import io.exitflow.control.BudgetSolver;
import io.exitflow.control.CalibrationSet;
import io.exitflow.control.ExitPlan;
import java.util.Arrays;

/**
 * The offline optimum the controller is compared with: exhaustive search over a fine quantile grid of every early
 * stage's scores, on the true (current) event population, for the most accurate thresholds whose cost does not
 * exceed a given cost. Slow on purpose (levels^(K-1) evaluations); a benchmark, not a controller.
 */
final class OfflineOptimum {
    private OfflineOptimum() {}

    static ExitPlan best(CalibrationSet set, double[] cost, double maxCost, int levels) {
        int k = set.stages();
        double[][] grid = new double[k - 1][];
        for (int s = 0; s < k - 1; s++) {
            float[] v = new float[set.size()];
            for (int i = 0; i < v.length; i++) v[i] = set.score(i, s);
            Arrays.sort(v);
            grid[s] = new double[levels + 2];
            for (int l = 0; l < levels; l++) grid[s][l] = v[(int) ((long) l * (v.length - 1) / (levels - 1))];
            grid[s][levels] = 1.0;
            grid[s][levels + 1] = 0.0;
        }
        BudgetSolver eval = new BudgetSolver();
        int[] idx = new int[k - 1];
        ExitPlan best = null;
        double[] t = new double[k];
        while (true) {
            for (int s = 0; s < k - 1; s++) t[s] = grid[s][idx[s]];
            ExitPlan p = eval.evaluate(set, cost, t);
            if (p.expectedCost() <= maxCost && (best == null || p.expectedAccuracy() > best.expectedAccuracy())) best = p;
            int s = 0;
            while (s < k - 1 && ++idx[s] == grid[s].length) idx[s++] = 0;
            if (s == k - 1) return best;
        }
    }
}
