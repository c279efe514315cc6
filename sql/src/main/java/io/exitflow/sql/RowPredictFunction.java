package io.exitflow.sql;

import io.exitflow.runtime.operator.BatchingCascade;
import io.exitflow.runtime.operator.InFlightEvent;
import io.exitflow.schemas.Prediction;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.PredictFunction;

/**
 * {@code ML_PREDICT} with early exit, synchronously ({@code CONFIG => MAP['async', 'false']}): each row runs through
 * the cascade on its own, one ONNX Runtime call per stage it reaches (batch 1; exits on), on the task thread. The
 * async function ({@link CascadePredictFunction}) batches and is the default; this one trades throughput for the
 * simplest execution (no worker thread, nothing in flight at a checkpoint).
 */
public final class RowPredictFunction extends PredictFunction {
    private static final long serialVersionUID = 1L;

    private final ModelSpec spec;
    private transient CascadeEngine engine;
    private transient InvalidRows invalid;
    private transient RowData answer;

    public RowPredictFunction(ModelSpec spec) {
        this.spec = spec;
    }

    @Override
    public void open(FunctionContext context) throws Exception {
        super.open(context);
        PredictMetrics[] metrics = new PredictMetrics[1];
        engine = new CascadeEngine(
                spec,
                context,
                new BatchingCascade.Sink() {
                    @Override
                    public void prediction(Prediction p, long eventTime) {
                        answer = spec.columns().write(p);
                    }

                    @Override
                    public void survivor(InFlightEvent event) {
                        throw new IllegalStateException("the cascade runs every stage: no row leaves unanswered");
                    }
                },
                manifest -> metrics[0] = new PredictMetrics(context.getMetricGroup(), manifest.numStages(), () -> 0));
        invalid = new InvalidRows(spec, metrics[0].invalidRows);
    }

    /**
     * @return one OUTPUT row; none when the row cannot be served and {@code invalid-input} is drop
     * @throws IllegalArgumentException when it cannot be served and {@code invalid-input} is fail
     */
    @Override
    public Collection<RowData> predict(RowData features) {
        CompletableFuture<Collection<RowData>> settled = new CompletableFuture<>();
        float[] x = invalid.check(features, engine.normaliser, settled);
        if (x == null) {
            try {
                return settled.join(); // the empty result (drop)
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e; // the row's problem (fail)
            }
        }
        long now = System.currentTimeMillis();
        answer = null;
        try {
            engine.admit(engine.event(engine.normaliser.normalise(x), now), now);
            engine.cascade.flushAll(now);
        } catch (ai.onnxruntime.OrtException e) {
            throw new IllegalStateException("model " + spec.model() + ": ONNX Runtime failed", e);
        }
        if (answer == null) {
            throw new IllegalStateException("model " + spec.model() + ": the cascade gave no answer");
        }
        return List.of(answer);
    }

    @Override
    public void close() throws Exception {
        try {
            if (engine != null) {
                engine.close();
                engine = null;
            }
        } finally {
            super.close();
        }
    }
}
