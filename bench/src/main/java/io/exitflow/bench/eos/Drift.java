package io.exitflow.bench.eos;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Whether a sampled series stays flat over a soak: the mean of its last third against the mean of its first third
 * (after a warm-up), and its least-squares slope. Flat means the last third's mean is at most {@code tolerance} (a
 * share) above the first third's, or at most {@code slack} (in the series' unit) above it, whichever is larger: a
 * leak or a growing backlog shows as a last third above the first.
 */
final class Drift {
    private Drift() {}

    /**
     * @param rows the sampler's rows (NaN cells skipped)
     * @param column the series
     * @param warmupSeconds rows before this elapsed time are left out
     * @return mean, first_third_mean, last_third_mean, slope_per_10min, samples, flat; empty when fewer than 3
     *     values
     */
    static Map<String, Object> of(
            List<Map<String, Double>> rows, String column, double warmupSeconds, double tolerance, double slack) {
        List<double[]> xy = new ArrayList<>();
        for (Map<String, Double> r : rows) {
            Double x = r.get("elapsed_s");
            Double y = r.get(column);
            if (x != null && y != null && !Double.isNaN(y) && x >= warmupSeconds) {
                xy.add(new double[] {x, y});
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        int n = xy.size();
        if (n < 3) {
            return out;
        }
        double mx = 0;
        double my = 0;
        for (double[] p : xy) {
            mx += p[0];
            my += p[1];
        }
        mx /= n;
        my /= n;
        double sxy = 0;
        double sxx = 0;
        for (double[] p : xy) {
            sxy += (p[0] - mx) * (p[1] - my);
            sxx += (p[0] - mx) * (p[0] - mx);
        }
        double slope = sxx == 0 ? 0 : sxy / sxx;
        int third = Math.max(1, n / 3);
        double first = mean(xy.subList(0, third));
        double last = mean(xy.subList(n - third, n));
        out.put("samples", n);
        out.put("mean", round(my));
        out.put("first_third_mean", round(first));
        out.put("last_third_mean", round(last));
        out.put("slope_per_10min", round(slope * 600));
        out.put("flat", last - first <= Math.max(tolerance * Math.abs(first), slack));
        return out;
    }

    private static double mean(List<double[]> xy) {
        double s = 0;
        for (double[] p : xy) {
            s += p[1];
        }
        return s / xy.size();
    }

    private static double round(double x) {
        return Math.round(x * 1000) / 1000.0;
    }
}
