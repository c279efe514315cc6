package io.exitflow.sql;

import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.PredictFunction;
import org.apache.flink.table.ml.AsyncPredictRuntimeProvider;
import org.apache.flink.table.ml.ModelProvider;
import org.apache.flink.table.ml.PredictRuntimeProvider;

/**
 * The model behind {@code ML_PREDICT}: asynchronous and batched by default ({@link CascadePredictFunction}), or one
 * row at a time with {@code CONFIG => MAP['async', 'false']} ({@link RowPredictFunction}). The planner prefers the
 * asynchronous function.
 */
public final class ExitFlowModelProvider implements AsyncPredictRuntimeProvider, PredictRuntimeProvider {
    private final ModelSpec spec;

    public ExitFlowModelProvider(ModelSpec spec) {
        this.spec = spec;
    }

    /** What the functions of this model will serve (for tests and tools). */
    public ModelSpec spec() {
        return spec;
    }

    /**
     * The batching function. Its capacity is ML_PREDICT's {@code max-concurrent-operations} when the query's CONFIG
     * sets it, else the session's {@code table.exec.async-ml-predict.max-concurrent-operations}, the value Flink's
     * async operator bounds rows in flight by.
     */
    @Override
    public AsyncPredictFunction createAsyncPredictFunction(Context context) {
        int capacity = context.runtimeConfig()
                .getOptional(ExitFlowModelOptions.ML_PREDICT_MAX_CONCURRENT)
                .orElse(spec.capacity());
        if (capacity < 1) {
            throw new IllegalArgumentException("ML_PREDICT of model " + spec.model() + ": 'max-concurrent-operations' "
                    + "must be >= 1, got " + capacity);
        }
        return new CascadePredictFunction(spec.withCapacity(capacity));
    }

    @Override
    public PredictFunction createPredictFunction(Context context) {
        return new RowPredictFunction(spec);
    }

    @Override
    public ModelProvider copy() {
        return new ExitFlowModelProvider(spec);
    }
}
