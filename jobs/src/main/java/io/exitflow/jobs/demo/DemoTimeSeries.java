package io.exitflow.jobs.demo;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The demo's progress lines as a time series: one row per report interval (every 2 s by default), written as CSV for
 * {@code ./exitflow-demo --plot FILE.png} (the toolkit's {@code python -m exitflow.demo_plot} draws it). Columns:
 * {@code t_s} (seconds since the simulator started, end of the interval), {@code input_rate} and
 * {@code target_rate} (readings/s sent and asked for by the schedule), {@code windows_per_s} (predictions read per
 * second), {@code accuracy} (share of the interval's labelled predictions that were right; empty without labels),
 * {@code exits_<k>} (predictions per second that left at stage k, one column per stage), {@code threshold_<k>}
 * (threshold in force for stage k, every stage but the last, which always answers), {@code threshold_version}
 * (0: the bundle's), {@code e2e_p50_ms} and {@code e2e_p99_ms} (send of a window's last reading to its prediction
 * being readable; empty when none arrived), {@code dead_letters} (total so far). Used from one thread.
 */
final class DemoTimeSeries {
    private final int stages;
    private final List<String> rows = new ArrayList<>();

    /** @param stages the bundle's stage count (at least 1) */
    DemoTimeSeries(int stages) {
        if (stages < 1) {
            throw new IllegalArgumentException("stages must be >= 1, got " + stages);
        }
        this.stages = stages;
    }

    /** The CSV header line for this stage count. */
    String header() {
        StringBuilder h = new StringBuilder("t_s,input_rate,target_rate,windows_per_s,accuracy");
        for (int k = 0; k < stages; k++) {
            h.append(",exits_").append(k);
        }
        for (int k = 0; k < stages - 1; k++) {
            h.append(",threshold_").append(k);
        }
        return h.append(",threshold_version,e2e_p50_ms,e2e_p99_ms,dead_letters").toString();
    }

    /**
     * Adds the interval that the monitor's interval counters describe (call before they are reset).
     *
     * @param elapsedMillis time since the simulator started, at the end of the interval
     * @param targetRate readings/s the schedule asks for
     * @param sentRate readings/s sent in the interval
     * @param seconds the interval's length
     */
    void add(DemoMonitor m, long elapsedMillis, double targetRate, double sentRate, double seconds) {
        double[] exits = new double[stages];
        for (int k = 0; k < stages; k++) {
            exits[k] = m.intervalExits[k] / seconds;
        }
        add(new Row(
                elapsedMillis / 1000.0,
                sentRate,
                targetRate,
                m.intervalWindows / seconds,
                m.intervalLabelled == 0 ? Double.NaN : (double) m.intervalCorrect / m.intervalLabelled,
                exits,
                m.thresholds.clone(),
                m.thresholdVersion,
                m.intervalE2e.quantile(0.5),
                m.intervalE2e.quantile(0.99),
                m.deadLetterCount));
    }

    /**
     * One interval, in the CSV's units (NaN: no value).
     *
     * @param exitsPerSecond one value per stage
     * @param thresholds the thresholds in force, one per stage (the last is not written)
     */
    record Row(
            double seconds,
            double inputRate,
            double targetRate,
            double windowsPerSecond,
            double accuracy,
            double[] exitsPerSecond,
            float[] thresholds,
            long thresholdVersion,
            double e2eP50Ms,
            double e2eP99Ms,
            long deadLetters) {}

    /** Adds one interval; fails when its exits or thresholds do not have one value per stage. */
    void add(Row row) {
        if (row.exitsPerSecond().length != stages || row.thresholds().length != stages) {
            throw new IllegalArgumentException("a row needs " + stages + " exits and thresholds, got "
                    + row.exitsPerSecond().length + " and " + row.thresholds().length);
        }
        StringBuilder r = new StringBuilder();
        r.append(num(row.seconds()))
                .append(',')
                .append(num(row.inputRate()))
                .append(',')
                .append(num(row.targetRate()))
                .append(',')
                .append(num(row.windowsPerSecond()))
                .append(',')
                .append(num(row.accuracy()));
        for (int k = 0; k < stages; k++) {
            r.append(',').append(num(row.exitsPerSecond()[k]));
        }
        for (int k = 0; k < stages - 1; k++) {
            r.append(',').append(num(row.thresholds()[k]));
        }
        r.append(',')
                .append(row.thresholdVersion())
                .append(',')
                .append(num(row.e2eP50Ms()))
                .append(',')
                .append(num(row.e2eP99Ms()))
                .append(',')
                .append(row.deadLetters());
        rows.add(r.toString());
    }

    /** Rows added so far. */
    int size() {
        return rows.size();
    }

    /** Writes the header and every row to {@code file} (parent directories created). */
    void write(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write(header());
            w.write('\n');
            for (String row : rows) {
                w.write(row);
                w.write('\n');
            }
        }
    }

    /** A number as CSV text; empty for NaN or infinite (no value in that interval). */
    private static String num(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "" : String.format(Locale.ROOT, "%.6g", v);
    }
}
