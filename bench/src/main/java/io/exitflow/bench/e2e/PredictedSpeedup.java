package io.exitflow.bench.e2e;

import io.exitflow.runtime.manifest.Manifest;
import java.util.List;
import java.util.Map;

/**
 * The speedup of early exit over full depth that the bundle's own stage costs and a run's measured exit mix predict:
 * {@code sum_k cost_k / sum_k reach_k * cost_k}, where {@code cost_k} is the manifest's measured microseconds per event
 * of stage k at one batch size and {@code reach_k} the share of events that ran stage k (exited at k or later). It
 * counts the stages only: what a whole job spends outside them (decoding, windowing, Kafka) is the same in every mode
 * and pulls the measured whole-job speedup below it.
 */
final class PredictedSpeedup {
    private PredictedSpeedup() {}

    /**
     * @param exits events per exit stage (length = stages)
     * @param batch the manifest's batch-size key of {@code cost_us_per_event} ("1", "8", "64", "256")
     * @return the predicted speedup, or NaN when the manifest has no cost at that batch size or no events exited
     */
    static double of(Manifest m, long[] exits, String batch) {
        long n = 0;
        for (long e : exits) {
            n += e;
        }
        if (n == 0 || exits.length != m.numStages()) {
            return Double.NaN;
        }
        double full = 0;
        double cascade = 0;
        long reached = n;
        for (int k = 0; k < m.numStages(); k++) {
            Map<String, Double> c = m.stages().get(k).costUsPerEvent();
            Double cost = c == null ? null : c.get(batch);
            if (cost == null || !(cost > 0)) {
                return Double.NaN;
            }
            full += cost;
            cascade += cost * reached / n;
            reached -= exits[k];
        }
        return full / cascade;
    }

    /**
     * Adds, to every early-exit row of {@code rows}, the predicted speedup and, when the baseline row ran, the measured
     * one (rate over the baseline's rate) and measured/predicted. Batched modes compare with {@code FULL_DEPTH} and
     * the batch-64 costs, {@code ROW_AT_A_TIME} with {@code ROW_FULL_DEPTH} and the batch-1 costs.
     */
    static void annotate(List<Map<String, Object>> rows, Manifest m, String rateKey) {
        for (Map<String, Object> row : rows) {
            String mode = (String) row.get("mode");
            if (mode.startsWith("FULL_DEPTH")
                    || mode.startsWith("ROW_FULL_DEPTH")
                    || !(row.get("exits") instanceof long[] exits)) {
                continue;
            }
            boolean rowMode = mode.equals("ROW_AT_A_TIME");
            double predicted = of(m, exits, rowMode ? "1" : "64");
            row.put("predicted_speedup_from_stage_costs", round(predicted));
            String baseline = rowMode ? "ROW_FULL_DEPTH" : "FULL_DEPTH";
            for (Map<String, Object> b : rows) {
                // the baseline run with the same object reuse, where a run was made both ways
                if (baseline.equals(b.get("mode"))
                        && java.util.Objects.equals(row.get("object_reuse"), b.get("object_reuse"))) {
                    double measured =
                            ((Number) row.get(rateKey)).doubleValue() / ((Number) b.get(rateKey)).doubleValue();
                    row.put("measured_speedup_vs_" + baseline, round(measured));
                    row.put("measured_over_predicted", round(measured / predicted));
                }
            }
        }
    }

    private static double round(double v) {
        return Double.isNaN(v) ? v : Math.round(v * 1000) / 1000.0;
    }
}
