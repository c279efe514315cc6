package io.exitflow.control;

import java.io.Serializable;
import org.apache.flink.annotation.Internal;

/**
 * One control interval as the controller saw and decided it: the audit and plotting record (one JSON line each,
 * see {@link #toJson()}). Costs are nanoseconds of stage time per event.
 *
 * @param timeMillis end of the interval
 * @param inputRate estimated input rate (events/s): throughput plus backlog growth, smoothed
 * @param throughput events/s that entered stage 0
 * @param backlog events waiting at the end of the interval, the source's lag included
 * @param sourceLag the source's lag (input events written and not yet read), -1 when unknown
 * @param costPerEvent measured cost per event (NaN when idle)
 * @param allowedCost cost per event the budget allows after feed-forward, backlog term and rate limits
 * @param plannedCost expected cost per event of the thresholds in force, on the current samples
 * @param fullCost cost per event of running every stage
 * @param estAccuracy expected accuracy of the thresholds in force, on the current samples
 * @param fullAccuracy accuracy of running every stage, on the same samples
 * @param thresholds the thresholds in force after this interval
 * @param version their update version
 * @param published whether this interval published an update
 * @param alert whether the budget and the accuracy floor (or the budget alone) cannot hold
 * @param warmingUp whether the controller was still warming up (learning no costs from the interval, see
 *     {@link ControllerConfig.Builder#warmUp})
 * @param reason why (human readable)
 */
@Internal
public record ControlTrace(
        long timeMillis,
        double inputRate,
        double throughput,
        long backlog,
        long sourceLag,
        double costPerEvent,
        double allowedCost,
        double plannedCost,
        double fullCost,
        double estAccuracy,
        double fullAccuracy,
        double[] thresholds,
        long version,
        boolean published,
        boolean alert,
        boolean warmingUp,
        String reason)
        implements Serializable {

    /** One JSON object on one line (NaN written as null). */
    public String toJson() {
        StringBuilder sb = new StringBuilder(256);
        sb.append("{\"time_ms\":")
                .append(timeMillis)
                .append(",\"input_rate\":")
                .append(num(inputRate))
                .append(",\"throughput\":")
                .append(num(throughput))
                .append(",\"backlog\":")
                .append(backlog)
                .append(",\"source_lag\":")
                .append(sourceLag < 0 ? "null" : Long.toString(sourceLag))
                .append(",\"cost_per_event\":")
                .append(num(costPerEvent))
                .append(",\"allowed_cost\":")
                .append(num(allowedCost))
                .append(",\"planned_cost\":")
                .append(num(plannedCost))
                .append(",\"full_cost\":")
                .append(num(fullCost))
                .append(",\"est_accuracy\":")
                .append(num(estAccuracy))
                .append(",\"full_accuracy\":")
                .append(num(fullAccuracy))
                .append(",\"thresholds\":[");
        for (int i = 0; i < thresholds.length; i++) sb.append(i == 0 ? "" : ",").append(num(thresholds[i]));
        sb.append("],\"version\":")
                .append(version)
                .append(",\"published\":")
                .append(published)
                .append(",\"alert\":")
                .append(alert)
                .append(",\"warming_up\":")
                .append(warmingUp)
                .append(",\"reason\":\"")
                .append(reason.replace("\\", "\\\\").replace("\"", "\\\""))
                .append("\"}");
        return sb.toString();
    }

    private static String num(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "null";
    }
}
