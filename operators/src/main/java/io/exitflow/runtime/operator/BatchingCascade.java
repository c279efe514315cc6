package io.exitflow.runtime.operator;

import ai.onnxruntime.OrtException;
import io.exitflow.runtime.exit.Softmax;
import io.exitflow.runtime.exit.Thresholds;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.runtime.onnx.StageOutputs;
import io.exitflow.runtime.onnx.StageRunner;
import io.exitflow.schemas.Prediction;
import io.exitflow.schemas.StageSample;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.annotation.Internal;

/**
 * The early-exit engine of one operator, free of Flink: a bounded batch per stage, each stage run on a full batch
 * (or when its oldest event has waited {@code maxWait}), exits answered at once, survivors joining the next stage's
 * batch so deep stages also run full batches. Sampled events run every stage and are answered at the end with the
 * exit they took and the full-depth class.
 *
 * <p>At full depth over a bundle with a whole-model graph ({@link CascadeSettings#runsFullGraph}) there is one runner,
 * the full graph, and one batch: one ONNX call per batch, every event answered at the last stage. Its prediction
 * reports every stage run, with the call's latency on the last one (zeros before it); no per-stage samples are
 * taken (the graph has no intermediate exits), sampled events only get their full-depth class.
 */
@Internal
public final class BatchingCascade {
    /** Where answers and survivors go. */
    public interface Sink {
        void prediction(Prediction prediction, long eventTime);

        /** An event that leaves this operator's last stage unanswered (split stages only). */
        void survivor(InFlightEvent event);
    }

    private final Manifest manifest;
    private final CascadeSettings settings;
    private final List<StageRunner> runners;
    private final StageBatch[] batches;
    private final IntervalStats stats;
    private final CascadeObserver observer;
    private final Sink sink;
    private final int numStages;
    /** One runner (the whole-model graph) and one batch instead of one per stage. */
    private final boolean fullGraph;

    private volatile Thresholds thresholds;

    /**
     * @param runners one per stage {@code firstStage..lastStage}, in order; or, when the settings run the full graph
     *     ({@link CascadeSettings#runsFullGraph}), one: the full graph's ({@link StageRunner#fullGraph})
     */
    public BatchingCascade(
            Manifest manifest,
            CascadeSettings settings,
            List<StageRunner> runners,
            Thresholds thresholds,
            Sink sink,
            CascadeObserver observer) {
        this.fullGraph = settings.runsFullGraph(manifest);
        int expected = fullGraph ? 1 : settings.stageCount();
        if (runners.size() != expected) {
            throw new IllegalArgumentException("need " + expected
                    + (fullGraph ? " full-graph runner" : " stage runners") + ", got " + runners.size());
        }
        if (settings.lastStage() >= manifest.numStages()) {
            throw new IllegalArgumentException("stage " + settings.lastStage() + " does not exist: model "
                    + manifest.modelId() + " has " + manifest.numStages() + " stages");
        }
        this.manifest = manifest;
        this.settings = settings;
        this.runners = runners;
        this.numStages = manifest.numStages();
        this.batches = new StageBatch[expected];
        for (int i = 0; i < batches.length; i++) {
            batches[i] = new StageBatch(settings.maxBatchSize());
        }
        this.stats = new IntervalStats(settings.stageCount(), settings.maxSamplesPerInterval());
        this.thresholds = thresholds;
        this.sink = sink;
        this.observer = observer;
    }

    /** An event enters this operator (its {@code nextStage} must be one this operator runs). */
    public void admit(InFlightEvent e, long nowMillis) throws OrtException {
        if (e.nextStage < settings.firstStage() || e.nextStage > settings.lastStage()) {
            throw new IllegalArgumentException(e + " waits for stage " + e.nextStage + ", this operator runs stages "
                    + settings.firstStage() + ".." + settings.lastStage());
        }
        stats.arrival();
        enqueue(e, nowMillis);
    }

    private void enqueue(InFlightEvent e, long nowMillis) throws OrtException {
        int local = e.nextStage - settings.firstStage();
        if (fullGraph && local != 0) {
            throw new IllegalStateException(e + " waits for stage " + e.nextStage + ", but this operator runs the "
                    + "whole-model graph, which starts from the model input (stage 0)");
        }
        e.arrivalNanos = System.nanoTime();
        stats.stageArrival(local);
        StageBatch batch = batches[local];
        batch.add(e, nowMillis);
        if (batch.isFull()) {
            runStage(local, nowMillis);
        }
    }

    /** Runs every stage whose oldest event has waited {@code maxWait} by {@code nowMillis}. */
    public void flushDue(long nowMillis) throws OrtException {
        for (int local = 0; local < batches.length; local++) {
            StageBatch b = batches[local];
            if (!b.isEmpty() && b.oldestArrivalMillis() + settings.maxWaitMillis() <= nowMillis) {
                runStage(local, nowMillis);
            }
        }
    }

    /** Runs every waiting event through to its answer or out of this operator (before a checkpoint barrier). */
    public void flushAll(long nowMillis) throws OrtException {
        for (int local = 0; local < batches.length; local++) {
            while (!batches[local].isEmpty()) {
                runStage(local, nowMillis);
            }
        }
    }

    /** Processing time at which the next part-full batch is due, or {@code Long.MAX_VALUE} when all are empty. */
    public long nextDeadline() {
        long next = Long.MAX_VALUE;
        for (StageBatch b : batches) {
            if (!b.isEmpty()) {
                next = Math.min(next, b.oldestArrivalMillis() + settings.maxWaitMillis());
            }
        }
        return next;
    }

    /** Events waiting in this operator's batches. */
    public int backlog() {
        int n = 0;
        for (StageBatch b : batches) {
            n += b.size();
        }
        return n;
    }

    /** Copies of nothing: the waiting events themselves, for a snapshot. */
    public List<InFlightEvent> waiting() {
        List<InFlightEvent> all = new ArrayList<>();
        for (StageBatch b : batches) {
            all.addAll(b.view());
        }
        return all;
    }

    /** Replaces the thresholds in force (one reference swap: a batch sees the old set or the new one, never a mix). */
    public void setThresholds(Thresholds t) {
        this.thresholds = t;
    }

    public Thresholds thresholds() {
        return thresholds;
    }

    IntervalStats stats() {
        return stats;
    }

    private void runStage(int local, long nowMillis) throws OrtException {
        if (fullGraph) {
            runFullGraph(nowMillis);
            return;
        }
        int k = settings.firstStage() + local;
        List<InFlightEvent> batch = batches[local].drain();
        StageRunner runner = runners.get(local);
        Ran ran = run(runner, batch, local, k);
        StageOutputs out = ran.out();
        long done = ran.doneNanos();
        Thresholds t = thresholds;
        boolean last = k == numStages - 1;
        int numClasses = out.numClasses();
        float[] logits = out.logitsArray();
        for (int i = 0; i < batch.size(); i++) {
            InFlightEvent e = batch.get(i);
            e.stageLatencyMicros[e.stagesRun++] = (done - e.arrivalNanos) / 1000;
            float score = out.score(i);
            int cls = Softmax.argmax(logits, i * numClasses, numClasses);
            if (e.sampled) {
                e.sampleScores[k] = score;
                e.sampleClasses[k] = cls;
            }
            if (e.exitStage < 0 && (last || (settings.exitsEnabled() && t.exits(k, numStages, score)))) {
                e.exitStage = k;
                e.exitClass = cls;
                e.exitProbability = (float) Softmax.probability(logits, i * numClasses, numClasses, cls);
                e.thresholdVersion = t.version();
                stats.exit(local);
                observer.exited(k);
            }
            if (e.exitStage >= 0 && (!e.sampled || last)) {
                answer(e, last ? cls : null);
                continue;
            }
            e.state = out.state(i);
            e.carry = out.carry(i);
            e.nextStage = k + 1;
            if (k < settings.lastStage()) {
                enqueue(e, nowMillis);
            } else {
                sink.survivor(e);
            }
        }
    }

    /** One call of the whole-model graph on the waiting batch; every event is answered at the last stage. */
    private void runFullGraph(long nowMillis) throws OrtException {
        int last = numStages - 1;
        List<InFlightEvent> batch = batches[0].drain();
        Ran ran = run(runners.get(0), batch, last, last);
        StageOutputs out = ran.out();
        long done = ran.doneNanos();
        int numClasses = out.numClasses();
        float[] logits = out.logitsArray();
        long version = thresholds.version();
        for (int i = 0; i < batch.size(); i++) {
            InFlightEvent e = batch.get(i);
            for (int s = e.stagesRun; s < last; s++) {
                e.stageLatencyMicros[s] = 0;
            }
            e.stageLatencyMicros[last] = (done - e.arrivalNanos) / 1000;
            e.stagesRun = numStages;
            int cls = Softmax.argmax(logits, i * numClasses, numClasses);
            e.exitStage = last;
            e.exitClass = cls;
            e.exitProbability = (float) Softmax.probability(logits, i * numClasses, numClasses, cls);
            e.thresholdVersion = version;
            stats.exit(last);
            observer.exited(last);
            // No StageSample: the graph has no intermediate exits to score; the full-depth class is still stated.
            emit(e, e.sampled ? cls : null);
        }
    }

    /**
     * One ONNX Runtime call on a batch: puts each event's state and carried vector into the runner, runs it, and
     * records its wall time under {@code statsIndex} (the local stage index) and {@code stage} (the model's).
     */
    private Ran run(StageRunner runner, List<InFlightEvent> batch, int statsIndex, int stage) throws OrtException {
        for (int i = 0; i < batch.size(); i++) {
            InFlightEvent e = batch.get(i);
            runner.put(i, e.state, e.carry);
        }
        long t0 = System.nanoTime();
        StageOutputs out = runner.run(batch.size());
        long done = System.nanoTime();
        stats.batch(statsIndex, done - t0);
        observer.batchRun(stage, batch.size(), done - t0);
        return new Ran(out, done);
    }

    /** A batch's outputs and when its call finished ({@link System#nanoTime()}). */
    private record Ran(StageOutputs out, long doneNanos) {}

    private void answer(InFlightEvent e, Integer fullDepthClass) {
        Integer fullDepth = e.sampled ? fullDepthClass : null;
        if (e.sampled) {
            stats.sample(sample(e));
        }
        emit(e, fullDepth);
    }

    private void emit(InFlightEvent e, Integer fullDepth) {
        List<Long> latencies = new ArrayList<>(e.stagesRun);
        long total = 0;
        for (int s = 0; s < e.stagesRun; s++) {
            latencies.add(e.stageLatencyMicros[s]);
            total += e.stageLatencyMicros[s];
        }
        Prediction p = new Prediction(
                e.eventId,
                e.key,
                Instant.ofEpochMilli(e.eventTime),
                manifest.classes().get(e.exitClass),
                e.exitClass,
                e.exitProbability,
                e.exitStage,
                e.stagesRun,
                latencies,
                manifest.modelId(),
                manifest.modelVersion(),
                e.thresholdVersion,
                e.label,
                fullDepth);
        observer.answered(total);
        sink.prediction(p, e.eventTime);
    }

    private StageSample sample(InFlightEvent e) {
        List<Float> scores = new ArrayList<>(numStages);
        List<Integer> classes = new ArrayList<>(numStages);
        for (int s = 0; s < numStages; s++) {
            scores.add(e.sampleScores[s]);
            classes.add(e.sampleClasses[s]);
        }
        int label = e.label == null ? -1 : manifest.classes().indexOf(e.label);
        return new StageSample(scores, classes, label < 0 ? null : label);
    }
}
