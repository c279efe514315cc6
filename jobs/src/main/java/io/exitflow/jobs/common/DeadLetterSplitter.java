package io.exitflow.jobs.common;

import io.exitflow.schemas.DeadLetter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;

/**
 * Passes valid records on and sends dead letters to the {@link DeadLetters#TAG} side output, counting them in
 * the {@value DeadLetters#METRIC} counter.
 *
 * @param <T> record type
 */
public final class DeadLetterSplitter<T> extends ProcessFunction<Either<DeadLetter, T>, T> {
    private static final long serialVersionUID = 1L;

    private transient Counter deadLetters;

    @Override
    public void open(OpenContext openContext) {
        deadLetters = getRuntimeContext().getMetricGroup().counter(DeadLetters.METRIC);
    }

    @Override
    public void processElement(Either<DeadLetter, T> value, Context ctx, Collector<T> out) {
        if (value.isRight()) {
            out.collect(value.right());
        } else {
            deadLetters.inc();
            ctx.output(DeadLetters.TAG, value.left());
        }
    }
}
