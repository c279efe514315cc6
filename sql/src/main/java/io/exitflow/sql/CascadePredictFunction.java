package io.exitflow.sql;

import io.exitflow.runtime.operator.BatchingCascade;
import io.exitflow.runtime.operator.InFlightEvent;
import io.exitflow.schemas.Prediction;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.FunctionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ML_PREDICT} with early exit, asynchronously: each row handed over by Flink's async operator gets a future;
 * one worker thread per function instance gathers the rows in flight into the stage batches of a
 * {@link BatchingCascade} (the engine of the DataStream operators) and completes each row's future the moment the
 * row exits, at an early stage or the last.
 *
 * <p>A stage runs when its batch is full ({@code max-batch-size}), when its oldest row has waited {@code max-wait},
 * at once when every row the async operator lets in ({@code capacity}: ML_PREDICT's
 * {@code max-concurrent-operations}) is waiting in the batches, since then no further row can arrive until one is
 * answered, and when no row has arrived for {@code idle-flush} (the input paused, or the async operator holds
 * answered rows behind an earlier one in ordered mode and admits no more). Rows are normalised and checked on the caller's thread; ONNX Runtime runs on the worker, so the task
 * thread keeps reading input while a batch runs.
 *
 * <p>Memory is bounded: the hand-over queue holds at most {@code capacity + max-batch-size} rows (the async
 * operator already bounds rows in flight to {@code capacity}), the batches at most {@code max-batch-size} rows per
 * stage. A failed ONNX call fails every row in flight and every later row (the job fails and restarts; Flink's
 * async operator re-sends the rows that were in flight at the last checkpoint). {@link #close()} stops the worker,
 * cancels the futures of rows still waiting and releases the sessions.
 */
public final class CascadePredictFunction extends AsyncPredictFunction {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(CascadePredictFunction.class);
    /** How long the worker sleeps with nothing waiting (it wakes at once for a new row). */
    private static final long IDLE_POLL_MILLIS = 100;

    private final ModelSpec spec;

    private transient BlockingQueue<Pending> handOver;
    private transient Thread worker;
    private transient volatile boolean running;
    private transient volatile Throwable failure;
    private transient AtomicInteger inFlight;
    private transient PredictMetrics metrics;
    private transient InvalidRows invalid;
    /** Owned by the worker thread from open() on. */
    private transient CascadeEngine engine;

    private transient Map<String, CompletableFuture<Collection<RowData>>> waiting;

    public CascadePredictFunction(ModelSpec spec) {
        this.spec = spec;
    }

    private record Pending(float[] normalised, CompletableFuture<Collection<RowData>> future) {}

    @Override
    public void open(FunctionContext context) throws Exception {
        super.open(context);
        inFlight = new AtomicInteger();
        waiting = new HashMap<>();
        handOver = new ArrayBlockingQueue<>(spec.capacity() + spec.settings().maxBatchSize());
        BatchingCascade.Sink sink = new BatchingCascade.Sink() {
            @Override
            public void prediction(Prediction p, long eventTime) {
                answer(p);
            }

            @Override
            public void survivor(InFlightEvent event) {
                throw new IllegalStateException("the cascade runs every stage: no row leaves unanswered");
            }
        };
        engine = new CascadeEngine(spec, context, sink, manifest -> {
            metrics = new PredictMetrics(context.getMetricGroup(), manifest.numStages(), () -> inFlight.get());
            return metrics;
        });
        invalid = new InvalidRows(spec, metrics.invalidRows);
        running = true;
        worker = new Thread(
                this::work,
                "exitflow-ml-predict-" + spec.model() + "-"
                        + context.getTaskInfo().getIndexOfThisSubtask());
        worker.setDaemon(true);
        worker.start();
    }

    /**
     * Hands one row to the worker.
     *
     * @param features the INPUT columns ML_PREDICT passes, in declared order
     * @return completed with one OUTPUT row when the row exits; with none when {@code invalid-input} is drop and the
     *     row cannot be served; exceptionally when it cannot be served and {@code invalid-input} is fail, or the
     *     model failed
     */
    @Override
    public CompletableFuture<Collection<RowData>> asyncPredict(RowData features) {
        CompletableFuture<Collection<RowData>> f = new CompletableFuture<>();
        Throwable failed = failure;
        if (failed != null) {
            f.completeExceptionally(new IllegalStateException("model " + spec.model() + " failed earlier", failed));
            return f;
        }
        float[] x = invalid.check(features, engine.normaliser, f);
        if (x == null) {
            return f;
        }
        inFlight.incrementAndGet();
        try {
            handOver.put(new Pending(engine.normaliser.normalise(x), f));
        } catch (InterruptedException e) {
            inFlight.decrementAndGet();
            Thread.currentThread().interrupt();
            f.completeExceptionally(e);
        }
        return f;
    }

    private void work() {
        List<Pending> drained = new ArrayList<>();
        long idleMicros = spec.idleFlushMicros();
        try {
            while (running) {
                long deadline = engine.cascade.nextDeadline();
                long now = System.currentTimeMillis();
                long waitMicros =
                        deadline == Long.MAX_VALUE ? IDLE_POLL_MILLIS * 1000 : Math.max(0, deadline - now) * 1000;
                // Rows wait and no new one may come soon: wait for the next row at most idle-flush.
                boolean idleCut = deadline != Long.MAX_VALUE && idleMicros > 0 && idleMicros < waitMicros;
                if (idleCut) {
                    waitMicros = idleMicros;
                }
                Pending first = waitMicros == 0 ? handOver.poll() : handOver.poll(waitMicros, TimeUnit.MICROSECONDS);
                if (first == null && idleCut) {
                    engine.cascade.flushAll(System.currentTimeMillis()); // the input paused: run what waits
                    continue;
                }
                if (first != null) {
                    drained.add(first);
                    handOver.drainTo(drained);
                    for (Pending p : drained) {
                        now = System.currentTimeMillis();
                        InFlightEvent e = engine.event(p.normalised(), now);
                        waiting.put(e.eventId, p.future());
                        engine.admit(e, now); // runs stages whose batch fills
                    }
                    drained.clear();
                }
                now = System.currentTimeMillis();
                if (inFlight.get() >= spec.capacity() && handOver.isEmpty()) {
                    engine.cascade.flushAll(now); // every row the operator lets in is here: none can join a batch
                } else {
                    engine.cascade.flushDue(now);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // close(): the futures left are cancelled there
        } catch (Throwable t) {
            LOG.error("model {}: the cascade failed; failing {} rows in flight", spec.model(), inFlight.get(), t);
            failure = t;
            failAll(t);
        }
    }

    /** Worker thread: a row exited. */
    private void answer(Prediction p) {
        CompletableFuture<Collection<RowData>> f = waiting.remove(p.getEventId());
        if (f == null) {
            throw new IllegalStateException("model " + spec.model() + ": answer for unknown row " + p.getEventId());
        }
        inFlight.decrementAndGet();
        f.complete(List.of(spec.columns().write(p)));
    }

    private void failAll(Throwable t) {
        for (CompletableFuture<Collection<RowData>> f : waiting.values()) {
            f.completeExceptionally(t);
        }
        waiting.clear();
        List<Pending> rest = new ArrayList<>();
        handOver.drainTo(rest);
        for (Pending p : rest) {
            p.future().completeExceptionally(t);
        }
    }

    @Override
    public void close() throws Exception {
        running = false;
        Thread w = worker;
        boolean stopped = true;
        if (w != null) {
            w.interrupt();
            w.join(10_000);
            stopped = !w.isAlive();
        }
        try {
            if (!stopped) {
                // Never close sessions under a running ONNX call: leave them to the JVM and say so.
                LOG.warn(
                        "model {}: worker thread still busy 10 s after close; its sessions are not released",
                        spec.model());
                return;
            }
            if (waiting != null && handOver != null) {
                int left = waiting.size() + handOver.size();
                if (left > 0) {
                    LOG.info(
                            "model {}: closing with {} rows in flight (cancelled; Flink re-sends the rows of the last "
                                    + "checkpoint on restore)",
                            spec.model(),
                            left);
                }
                failAll(new CancellationException("model " + spec.model() + " closed"));
            }
            if (engine != null) {
                engine.close();
                engine = null;
            }
        } finally {
            super.close();
        }
    }
}
