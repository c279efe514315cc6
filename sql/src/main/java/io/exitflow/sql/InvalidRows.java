package io.exitflow.sql;

import io.exitflow.runtime.bundle.InputNormaliser;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.metrics.Counter;
import org.apache.flink.table.data.RowData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads a row's input and settles the rows the model cannot take, as the {@code invalid-input} option says. */
final class InvalidRows {
    private static final Logger LOG = LoggerFactory.getLogger(InvalidRows.class);
    private static final long WARN_EVERY_MILLIS = 30_000;

    private final ModelSpec spec;
    private final Counter counter;
    private long lastWarn = Long.MIN_VALUE;
    private long sinceWarn;

    InvalidRows(ModelSpec spec, Counter counter) {
        this.spec = spec;
        this.counter = counter;
    }

    /**
     * @return the row's raw input, or null when it cannot be served, {@code f} then being settled: completed with
     *     no row (drop) or exceptionally with an {@link IllegalArgumentException} naming the model and the problem
     */
    float[] check(RowData row, InputNormaliser normaliser, CompletableFuture<Collection<RowData>> f) {
        String[] problem = new String[1];
        float[] x = spec.columns().read(row, problem);
        if (x != null) {
            Optional<String> p = normaliser.problem(x);
            if (p.isEmpty()) {
                return x;
            }
            problem[0] = p.get();
        }
        counter.inc();
        String message = "model " + spec.model() + " cannot take a row: " + problem[0];
        if (!spec.dropInvalid()) {
            f.completeExceptionally(
                    new IllegalArgumentException(message + " (option 'invalid-input' = 'drop' skips " + "such rows)"));
            return null;
        }
        sinceWarn++;
        long now = System.currentTimeMillis();
        if (lastWarn == Long.MIN_VALUE || now - lastWarn >= WARN_EVERY_MILLIS) {
            LOG.warn("{}; dropped ({} such rows since the last warning, metric invalidRows)", message, sinceWarn);
            lastWarn = now;
            sinceWarn = 0;
        }
        f.complete(List.of());
        return null;
    }
}
