package io.exitflow.control;

import java.util.Arrays;

/**
 * The offline optimum that the solver and the controller are measured against: exhaustive search over a quantile
 * grid of every early stage's scores (plus "nobody exits" and "everybody exits" at each stage) for the most
 * accurate thresholds whose expected cost does not exceed a limit. Slow on purpose ({@code (levels + 2)^(K-1)}
 * evaluations): a yardstick for tests and benchmarks, never used by the controller.
 */
public final class GridSearchOptimum {
    private GridSearchOptimum() {}

    /**
     * @param set the event population (scores and correctness per stage)
     * @param costNanos cost of each stage per event
     * @param maxCost the most expected cost per event allowed
     * @param levels quantile levels per stage (at least 2)
     * @return the best plan within {@code maxCost}, or null when none is that cheap
     */
    public static ExitPlan best(CalibrationSet set, double[] costNanos, double maxCost, int levels) {
        if (levels < 2) {
            throw new IllegalArgumentException("levels must be at least 2, got " + levels);
        }
        int k = set.stages();
        double[][] grid = new double[k - 1][];
        for (int s = 0; s < k - 1; s++) {
            float[] v = new float[set.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = set.score(i, s);
            }
            Arrays.sort(v);
            grid[s] = new double[levels + 2];
            for (int l = 0; l < levels; l++) {
                grid[s][l] = v[(int) ((long) l * (v.length - 1) / (levels - 1))];
            }
            grid[s][levels] = 1.0;
            grid[s][levels + 1] = 0.0;
        }
        BudgetSolver eval = new BudgetSolver();
        int[] idx = new int[k - 1];
        ExitPlan best = null;
        double[] t = new double[k];
        while (true) {
            for (int s = 0; s < k - 1; s++) {
                t[s] = grid[s][idx[s]];
            }
            ExitPlan p = eval.evaluate(set, costNanos, t);
            if (p.expectedCost() <= maxCost && (best == null || p.expectedAccuracy() > best.expectedAccuracy())) {
                best = p;
            }
            // Odometer over the grid indexes.
            int s = 0;
            while (s < k - 1 && ++idx[s] == grid[s].length) {
                idx[s++] = 0;
            }
            if (s == k - 1) {
                return best;
            }
        }
    }
}
