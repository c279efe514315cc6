package io.exitflow.control;

import java.io.Serializable;
import java.util.Arrays;
import org.apache.flink.annotation.Internal;

/**
 * Turns a target expected cost per event into per-stage exit thresholds that maximise expected accuracy on a
 * {@link CalibrationSet}.
 *
 * <p>Three steps, all on the samples' own score quantiles:
 * <ol>
 *   <li>MSDNet's budgeted-batch family: exit shares q_k proportional to p^k, thresholds as the quantiles that
 *       make those shares leave; p is swept (p = i/20, widened to 0.001..200) and then bisected to meet the
 *       target cost.</li>
 *   <li>A coarse exhaustive grid (about 2000 vectors), a second start of a different shape.</li>
 *   <li>Pairwise exchange refinement: for every pair of stages, loosen one threshold and tighten the other over a
 *       quantile grid, keeping the cost within the target. Single-threshold moves cannot trade cost between stages
 *       at a fixed budget; pairs can.</li>
 * </ol>
 * Every evaluated vector is a candidate: the result is the most accurate one whose expected cost does not exceed
 * the target (ties: lower cost). A previous solution can be passed as a warm start, which keeps consecutive
 * solutions close when the target moves a little. Runs in tens of milliseconds for 2000 samples and 4 stages.
 */
@Internal
public final class BudgetSolver implements Serializable {
    private static final long serialVersionUID = 1L;

    /** MSDNet's p = i/20 (0 < p < 2), widened both ways so that very tight and very loose budgets are reachable. */
    private static final double[] FAMILY = family();

    private final int gridLevels;
    private final int refineRounds;

    /** Defaults: 16 quantile levels per stage, up to 4 refinement rounds. */
    public BudgetSolver() {
        this(16, 4);
    }

    public BudgetSolver(int gridLevels, int refineRounds) {
        if (gridLevels < 2) throw new IllegalArgumentException("gridLevels must be >= 2, got " + gridLevels);
        if (refineRounds < 0) throw new IllegalArgumentException("refineRounds must be >= 0, got " + refineRounds);
        this.gridLevels = gridLevels;
        this.refineRounds = refineRounds;
    }

    /** Expected cost and accuracy of {@code thresholds} on {@code set}, with per-stage cost per event {@code stageCosts}. */
    public ExitPlan evaluate(CalibrationSet set, double[] stageCosts, double[] thresholds) {
        return new Problem(set, stageCosts).plan(thresholds);
    }

    /** Accuracy of answering every event at the last stage. */
    public static double fullDepthAccuracy(CalibrationSet set) {
        int k = set.stages() - 1, ok = 0;
        for (int i = 0; i < set.size(); i++) if (set.correct(i, k)) ok++;
        return set.size() == 0 ? 0 : (double) ok / set.size();
    }

    /**
     * The most accurate thresholds with expected cost at most {@code targetCost}. A target below the cheapest
     * possible cost (everything exits at stage 0) returns that cheapest plan; one above full depth returns full depth.
     *
     * @param warmStart previous thresholds (tried as a starting point), or null
     */
    public ExitPlan solve(CalibrationSet set, double[] stageCosts, double targetCost, double[] warmStart) {
        Problem pb = new Problem(set, stageCosts);
        int k = set.stages();
        Best best = new Best(targetCost);
        // family sweep: remember the feasible p with the highest cost and the infeasible one just above it
        double lo = Double.NaN, hi = Double.NaN, costLo = -1, costHi = Double.POSITIVE_INFINITY;
        for (double p : FAMILY) {
            double[] t = pb.familyThresholds(p);
            double[] ev = pb.eval(t);
            best.offer(t, ev);
            if (ev[0] <= targetCost && ev[0] > costLo) {
                costLo = ev[0];
                lo = p;
            }
            if (ev[0] > targetCost && ev[0] < costHi) {
                costHi = ev[0];
                hi = p;
            }
        }
        if (!Double.isNaN(lo) && !Double.isNaN(hi)) {
            for (int it = 0; it < 12; it++) {
                double mid = 0.5 * (lo + hi);
                double[] t = pb.familyThresholds(mid);
                double[] ev = pb.eval(t);
                best.offer(t, ev);
                if (ev[0] <= targetCost) lo = mid;
                else hi = mid;
            }
        }
        if (warmStart != null && warmStart.length == k) best.offer(warmStart.clone(), pb.eval(warmStart));
        double[] all = new double[k];
        best.offer(all, pb.eval(all)); // everything exits at stage 0: the cheapest plan, feasible for any sane target
        if (best.thresholds == null) return pb.plan(all);
        pb.coarseGrid(best);
        for (int r = 0; r < refineRounds; r++) {
            if (!pb.refinePairs(best)) break;
        }
        return pb.plan(best.thresholds);
    }

    /**
     * The cheapest plan whose expected accuracy is at least {@code minAccuracy} (bisection on the target cost), or
     * full depth when no cheaper plan reaches it.
     */
    public ExitPlan cheapestWithAccuracy(
            CalibrationSet set, double[] stageCosts, double minAccuracy, double[] warmStart) {
        double full = 0;
        for (double c : stageCosts) full += c;
        ExitPlan fullPlan = evaluate(set, stageCosts, fullDepthThresholds(set.stages()));
        ExitPlan ok = fullPlan;
        double lo = stageCosts[0], hi = full;
        for (int it = 0; it < 10 && hi - lo > 1e-3 * full; it++) {
            double mid = 0.5 * (lo + hi);
            ExitPlan p = solve(set, stageCosts, mid, warmStart);
            if (p.expectedAccuracy() >= minAccuracy) {
                ok = p;
                hi = mid;
            } else {
                lo = mid;
            }
        }
        return ok;
    }

    private static double[] family() {
        double[] wide = {0.001, 0.01, 2.5, 3, 4, 6, 10, 20, 50, 200};
        double[] f = new double[39 + wide.length];
        for (int i = 1; i <= 39; i++) f[i - 1] = i / 20.0;
        System.arraycopy(wide, 0, f, 39, wide.length);
        Arrays.sort(f);
        return f;
    }

    /** Thresholds that send every event to the last stage (1.0 everywhere but the last). */
    public static double[] fullDepthThresholds(int stages) {
        double[] t = new double[stages];
        Arrays.fill(t, 0, stages - 1, 1.0);
        return t;
    }

    /** Best feasible candidate seen so far. */
    private static final class Best {
        final double target;
        double[] thresholds;
        double cost = Double.POSITIVE_INFINITY, acc = -1;

        Best(double target) {
            this.target = target;
        }

        boolean offer(double[] t, double[] ev) {
            if (ev[0] > target * (1 + 1e-12)) return false;
            if (ev[1] > acc + 1e-12 || (Math.abs(ev[1] - acc) <= 1e-12 && ev[0] < cost)) {
                thresholds = t.clone();
                cost = ev[0];
                acc = ev[1];
                return true;
            }
            return false;
        }
    }

    /** One snapshot of the samples with cumulative stage costs: evaluation is a single pass over flat arrays. */
    private final class Problem {
        final int n, k;
        final float[] score;
        final boolean[] correct;
        final double[] cumCost;

        Problem(CalibrationSet set, double[] stageCosts) {
            if (stageCosts.length != set.stages()) {
                throw new IllegalArgumentException(stageCosts.length + " stage costs for " + set.stages() + " stages");
            }
            if (set.size() == 0) throw new IllegalArgumentException("calibration set is empty");
            n = set.size();
            k = set.stages();
            score = new float[n * k];
            correct = new boolean[n * k];
            for (int i = 0; i < n; i++) {
                for (int s = 0; s < k; s++) {
                    score[i * k + s] = set.score(i, s);
                    correct[i * k + s] = set.correct(i, s);
                }
            }
            cumCost = new double[k];
            double c = 0;
            for (int s = 0; s < k; s++) {
                if (!(stageCosts[s] >= 0) || Double.isInfinite(stageCosts[s])) {
                    throw new IllegalArgumentException(
                            "stage cost must be finite and >= 0: " + Arrays.toString(stageCosts));
                }
                c += stageCosts[s];
                cumCost[s] = c;
            }
        }

        /** {expected cost, expected accuracy}. */
        double[] eval(double[] t) {
            double cost = 0;
            int ok = 0;
            int last = k - 1;
            for (int i = 0, base = 0; i < n; i++, base += k) {
                int s = 0;
                while (s < last && score[base + s] < t[s]) s++;
                cost += cumCost[s];
                if (correct[base + s]) ok++;
            }
            return new double[] {cost / n, (double) ok / n};
        }

        ExitPlan plan(double[] t) {
            double[] shares = new double[k];
            int last = k - 1;
            for (int i = 0, base = 0; i < n; i++, base += k) {
                int s = 0;
                while (s < last && score[base + s] < t[s]) s++;
                shares[s]++;
            }
            for (int s = 0; s < k; s++) shares[s] /= n;
            double[] ev = eval(t);
            double[] out = t.clone();
            out[last] = 0;
            return new ExitPlan(out, ev[0], ev[1], shares);
        }

        /** MSDNet: share p^s / sum p^j of all samples leaves at stage s, taken from those still remaining. */
        double[] familyThresholds(double p) {
            double[] q = new double[k];
            double sum = 0;
            for (int s = 0; s < k; s++) {
                q[s] = Math.pow(p, s);
                sum += q[s];
            }
            double[] t = new double[k];
            boolean[] gone = new boolean[n];
            float[] buf = new float[n];
            for (int s = 0; s < k - 1; s++) {
                int m = 0;
                for (int i = 0; i < n; i++) if (!gone[i]) buf[m++] = score[i * k + s];
                int want = (int) Math.min(m, Math.round(q[s] / sum * n));
                if (want == 0 || m == 0) {
                    t[s] = 1.0;
                    continue;
                }
                Arrays.sort(buf, 0, m);
                t[s] = buf[m - want]; // want-th highest: those at or above it leave
                for (int i = 0; i < n; i++) if (!gone[i] && score[i * k + s] >= t[s]) gone[i] = true;
            }
            return t;
        }

        /** Quantile levels of stage s's scores among the samples that reach s under t, plus 1.0 (nobody leaves). */
        double[] grid(double[] t, int s) {
            float[] buf = new float[n];
            int m = 0;
            for (int i = 0, base = 0; i < n; i++, base += k) {
                int j = 0;
                while (j < s && score[base + j] < t[j]) j++;
                if (j == s) buf[m++] = score[base + s];
            }
            double[] g = new double[gridLevels + 2];
            Arrays.sort(buf, 0, m);
            int c = 0;
            for (int l = 0; l < gridLevels && m > 0; l++) g[c++] = buf[(int) ((long) l * (m - 1) / (gridLevels - 1))];
            g[c++] = 1.0;
            g[c++] = t[s];
            return Arrays.copyOf(g, c);
        }

        /**
         * Every combination of a coarse quantile grid per stage (about 2000 vectors in all): a second start, so the
         * refinement does not stay in the family's basin when the best plan has a different shape.
         */
        void coarseGrid(Best best) {
            int free = k - 1;
            int levels = (int) Math.max(2, Math.min(12, Math.floor(Math.pow(2000, 1.0 / free))));
            double[][] g = new double[free][levels];
            float[] buf = new float[n];
            for (int s = 0; s < free; s++) {
                for (int i = 0; i < n; i++) buf[i] = score[i * k + s];
                Arrays.sort(buf);
                for (int l = 0; l < levels; l++) g[s][l] = buf[(int) ((long) (2 * l + 1) * (n - 1) / (2 * levels))];
            }
            int[] idx = new int[free];
            double[] t = new double[k];
            while (true) {
                for (int s = 0; s < free; s++) t[s] = g[s][idx[s]];
                best.offer(t, eval(t));
                int s = 0;
                while (s < free && ++idx[s] == levels) idx[s++] = 0;
                if (s == free) return;
            }
        }

        /** One round over all stage pairs; true when the best plan improved. */
        boolean refinePairs(Best best) {
            boolean improved = false;
            for (int a = 0; a < k - 1; a++) {
                for (int b = a + 1; b < k - 1; b++) { // both grids are scanned whole: unordered pairs suffice
                    double[] base = best.thresholds.clone();
                    double[] ga = grid(base, a);
                    double[] gb = grid(base, b);
                    for (double va : ga) {
                        double[] t = base.clone();
                        t[a] = va;
                        for (double vb : gb) {
                            t[b] = vb;
                            improved |= best.offer(t, eval(t));
                        }
                    }
                }
            }
            if (k == 2) { // a single free threshold: plain coordinate search
                double[] t = best.thresholds.clone();
                for (double v : grid(t, 0)) {
                    t[0] = v;
                    improved |= best.offer(t, eval(t));
                }
            }
            return improved;
        }
    }
}
