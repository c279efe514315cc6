package io.exitflow.control;

import java.util.Arrays;

/** Exhaustive search over a quantile grid of every stage's scores: the "offline optimum" tests compare with. */
final class BruteForce {
    private BruteForce() {}

    /** Best expected accuracy with expected cost <= target over levels^(K-1) threshold vectors. */
    static ExitPlan best(CalibrationSet set, double[] cost, double target, int levels) {
        int k = set.stages();
        double[][] grid = new double[k - 1][];
        for (int s = 0; s < k - 1; s++) {
            float[] v = new float[set.size()];
            for (int i = 0; i < v.length; i++) v[i] = set.score(i, s);
            Arrays.sort(v);
            grid[s] = new double[levels + 1];
            for (int l = 0; l < levels; l++) grid[s][l] = v[(int) ((long) l * (v.length - 1) / (levels - 1))];
            grid[s][levels] = 1.0;
        }
        BudgetSolver eval = new BudgetSolver();
        int[] idx = new int[k - 1];
        ExitPlan best = null;
        double[] t = new double[k];
        while (true) {
            for (int s = 0; s < k - 1; s++) t[s] = grid[s][idx[s]];
            ExitPlan p = eval.evaluate(set, cost, t);
            if (p.expectedCost() <= target && (best == null || p.expectedAccuracy() > best.expectedAccuracy())) best = p;
            int s = 0;
            while (s < k - 1 && ++idx[s] > levels) idx[s++] = 0;
            if (s == k - 1) break;
        }
        return best;
    }
}
