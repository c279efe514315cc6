package io.exitflow.sql;

import io.exitflow.runtime.operator.CascadeObserver;
import java.util.function.IntSupplier;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * The predict function's Flink metrics, in the ML_PREDICT operator's group: per stage {@code stage.<k>.exits} and
 * {@code stage.<k>.batchSize} (histogram; key-value group {@code stage}, as the DataStream operators), and
 * {@code latencyMicros} (histogram: a row's time in the stages, queueing plus compute), {@code inFlightRows}
 * (gauge: rows handed to the function and not yet answered), {@code invalidRows} (counter: rows the model could
 * not take).
 */
final class PredictMetrics implements CascadeObserver {
    private static final int WINDOW = 1024;

    private final Counter[] exits;
    private final Histogram[] batchSizes;
    private final Histogram latency;
    final Counter invalidRows;

    PredictMetrics(MetricGroup group, int numStages, IntSupplier inFlight) {
        exits = new Counter[numStages];
        batchSizes = new Histogram[numStages];
        for (int k = 0; k < numStages; k++) {
            MetricGroup stage = group.addGroup("stage", String.valueOf(k));
            exits[k] = stage.counter("exits");
            batchSizes[k] = stage.histogram("batchSize", new DescriptiveStatisticsHistogram(WINDOW));
        }
        latency = group.histogram("latencyMicros", new DescriptiveStatisticsHistogram(WINDOW));
        group.gauge("inFlightRows", (Gauge<Integer>) inFlight::getAsInt);
        invalidRows = group.counter("invalidRows");
    }

    @Override
    public void batchRun(int stage, int size, long nanos) {
        batchSizes[stage].update(size);
    }

    @Override
    public void exited(int stage) {
        exits[stage].inc();
    }

    @Override
    public void answered(long latencyMicros) {
        latency.update(latencyMicros);
    }
}
