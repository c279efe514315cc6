package io.exitflow.runtime.operator;

import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.exit.ScoreRule;
import io.exitflow.runtime.exit.ThresholdUpdateValidator;
import io.exitflow.runtime.exit.Thresholds;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.runtime.onnx.GpuSelector;
import io.exitflow.runtime.onnx.OrtConfig;
import io.exitflow.runtime.onnx.SharedSessions;
import io.exitflow.runtime.onnx.StageRunner;
import io.exitflow.schemas.Prediction;
import io.exitflow.schemas.StageStats;
import io.exitflow.schemas.ThresholdUpdate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Base of the early-exit operators: runs stages {@code firstStage..lastStage} of a bundle with a
 * {@link BatchingCascade}, batches spanning every key of the subtask (operator-level buffers, bounded by the batch
 * size, part-full batches run by processing-time timers). Input 2 (optional) is the broadcast ThresholdUpdate
 * control stream. Every batch is run before a checkpoint barrier, so snapshots hold no events in flight; thresholds
 * are kept in union operator state and survive a restore of the same model: thresholds of another model id, model
 * version or stage count are dropped on restore (with a log line) and the bundle's defaults apply.
 *
 * @param <IN> what arrives on input 1
 * @param <OUT> the main output
 */
@Internal
public abstract class EarlyExitOperator<IN, OUT> extends AbstractStreamOperator<OUT>
        implements OneInputStreamOperator<IN, OUT>, TwoInputStreamOperator<IN, ThresholdUpdate, OUT> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(EarlyExitOperator.class);

    /** Per-interval measurements of every early-exit operator. */
    public static final OutputTag<StageStats> STAGE_STATS =
            new OutputTag<>("exitflow-stage-stats", new AvroTypeInfo<>(StageStats.class));

    private final ModelBundle bundle;
    protected final CascadeSettings settings;
    private final OrtConfig ortConfig;

    protected transient Manifest manifest;
    protected transient BatchingCascade cascade;
    /** This subtask's task busy time per stats interval (for the controller's per-event overhead). */
    private transient TaskBusyTime taskBusy;

    private transient List<StageRunner> runners;
    protected transient OperatorMetrics metrics;
    private transient ListState<InFlightEvent> waitingState;
    private transient ListState<ThresholdUpdate> thresholdState;
    private transient List<InFlightEvent> restoredWaiting;
    private transient List<ThresholdUpdate> restoredThresholds;
    private transient boolean flushTimerPending;
    private transient long intervalStart;

    /**
     * @param bundle the bundle the job loaded when it was built; {@link #open} checks that its files are unchanged
     *     and opens them
     */
    protected EarlyExitOperator(ModelBundle bundle, CascadeSettings settings, OrtConfig ortConfig) {
        this.bundle = bundle;
        this.settings = settings;
        this.ortConfig = ortConfig;
    }

    /** Where this operator's sessions run (device, GPU index, threads); as configured, before any CPU fallback. */
    public OrtConfig ortConfig() {
        return ortConfig;
    }

    /** The stages this operator runs, first to last. */
    public CascadeSettings settings() {
        return settings;
    }

    /** Turns an input record into an event for this operator's first stage, or null when it was rejected. */
    protected abstract InFlightEvent toEvent(IN value) throws Exception;

    /** Emits an answer. */
    protected abstract void emitPrediction(Prediction p, long eventTime);

    /** Emits an event that leaves this operator's last stage without an answer. */
    protected abstract void emitSurvivor(InFlightEvent e);

    /** Called in open(), after the bundle is loaded and before the first record. */
    protected void onOpen() {}

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        waitingState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("exitflow-waiting", TypeInformation.of(InFlightEvent.class)));
        thresholdState = context.getOperatorStateStore()
                .getUnionListState(
                        new ListStateDescriptor<>("exitflow-thresholds", new AvroTypeInfo<>(ThresholdUpdate.class)));
        restoredWaiting = new ArrayList<>();
        restoredThresholds = new ArrayList<>();
        if (context.isRestored()) {
            for (InFlightEvent e : waitingState.get()) {
                restoredWaiting.add(e);
            }
            for (ThresholdUpdate u : thresholdState.get()) {
                restoredThresholds.add(u);
            }
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        bundle.verifyUnchanged(); // the files the job validated at submission, or a refusal naming the changed one
        manifest = bundle.manifest();
        if (settings.lastStage() >= manifest.numStages()) {
            throw new IllegalArgumentException("operator runs stages " + settings.firstStage() + ".."
                    + settings.lastStage() + " but model " + manifest.modelId() + " has " + manifest.numStages());
        }
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        Optional<Integer> gpu = Optional.empty();
        if (ortConfig.device() == OrtConfig.Device.CUDA) {
            gpu = GpuSelector.pick(
                    ortConfig, getRuntimeContext().getExternalResourceInfos(GpuSelector.RESOURCE_NAME), subtask);
            if (gpu.isEmpty()) {
                LOG.warn(
                        "CUDA requested for {} subtask {}, but no GPU index is configured and Flink's '{}' external "
                                + "resource offers none: running on CPU",
                        getOperatorName(),
                        subtask,
                        GpuSelector.RESOURCE_NAME);
            }
        }
        ScoreRule rule = ScoreRule.of(manifest.exit().score());
        runners = new ArrayList<>();
        if (settings.runsFullGraph(manifest)) { // full depth: the whole model in one ONNX call per batch
            runners.add(StageRunner.fullGraph(
                    SharedSessions.acquire(bundle.fullGraphFile().orElseThrow(), gpu, ortConfig.intraOpThreads()),
                    manifest,
                    rule,
                    settings.maxBatchSize()));
        } else {
            for (int k = settings.firstStage(); k <= settings.lastStage(); k++) {
                runners.add(new StageRunner(
                        SharedSessions.acquire(bundle.stageFile(k), gpu, ortConfig.intraOpThreads()),
                        manifest,
                        k,
                        rule,
                        settings.maxBatchSize()));
            }
        }
        Thresholds thresholds = restoredThresholds(restoredThresholds, manifest, getOperatorName());
        restoredThresholds = null;
        metrics = new OperatorMetrics(
                getMetricGroup(),
                settings.firstStage(),
                settings.lastStage(),
                () -> cascade.thresholds(),
                () -> cascade.backlog());
        cascade = new BatchingCascade(
                manifest,
                settings,
                runners,
                thresholds,
                new BatchingCascade.Sink() {
                    @Override
                    public void prediction(Prediction p, long eventTime) {
                        emitPrediction(p, eventTime);
                    }

                    @Override
                    public void survivor(InFlightEvent e) {
                        emitSurvivor(e);
                    }
                },
                metrics);
        onOpen();
        long now = now();
        for (InFlightEvent e : restoredWaiting) {
            cascade.admit(e, now);
        }
        restoredWaiting = null;
        scheduleFlush();
        intervalStart = now;
        taskBusy = TaskBusyTime.of(
                getContainingTask().getEnvironment().getMetricGroup().getIOMetricGroup());
        getProcessingTimeService().registerTimer(now + settings.statsIntervalMillis(), this::onStatsTimer);
        LOG.info(
                "{} subtask {} serving {}@{} stages {}..{}, batch {}, max wait {} ms, thresholds {}",
                getOperatorName(),
                subtask,
                manifest.modelId(),
                manifest.modelVersion(),
                settings.firstStage(),
                settings.lastStage(),
                settings.maxBatchSize(),
                settings.maxWaitMillis(),
                thresholds);
    }

    @Override
    public void processElement(StreamRecord<IN> element) throws Exception {
        processElement1(element);
    }

    @Override
    public void processElement1(StreamRecord<IN> element) throws Exception {
        InFlightEvent e = toEvent(element.getValue());
        if (e != null) {
            cascade.admit(e, now());
            scheduleFlush();
        }
    }

    /** A control message: applied whole, or rejected with a log line and a counter. */
    @Override
    public void processElement2(StreamRecord<ThresholdUpdate> element) {
        ThresholdUpdate u = element.getValue();
        Thresholds current = cascade.thresholds();
        Optional<String> rejection = ThresholdUpdateValidator.rejection(u, current, manifest.modelVersion());
        if (rejection.isPresent()) {
            metrics.rejectedUpdates.inc();
            LOG.warn(
                    "{} rejected threshold update {} v{}: {}",
                    getOperatorName(),
                    u.getModelId(),
                    u.getUpdateVersion(),
                    rejection.get());
            return;
        }
        Thresholds next = Thresholds.of(u);
        cascade.setThresholds(next);
        LOG.info("{} thresholds now {} ({})", getOperatorName(), next, u.getReason());
    }

    /** Waiting events would otherwise fall behind the watermark: answer them first. */
    @Override
    public void processWatermark(Watermark mark) throws Exception {
        cascade.flushAll(now());
        super.processWatermark(mark);
    }

    /** Event time comes from the requests alone (a control stream without watermarks must not hold it back). */
    @Override
    public void processWatermark1(Watermark mark) throws Exception {
        processWatermark(mark);
    }

    /** Control messages carry no event time: their watermarks are ignored. */
    @Override
    public void processWatermark2(Watermark mark) {}

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        cascade.flushAll(now());
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        waitingState.update(new ArrayList<>(cascade.waiting()));
        thresholdState.update(List.of(cascade.thresholds().toUpdate("checkpoint")));
    }

    /** End of input: answer everything still waiting. */
    @Override
    public void finish() throws Exception {
        cascade.flushAll(now());
        emitStats(now());
        super.finish();
    }

    @Override
    public void close() throws Exception {
        try {
            super.close();
        } finally {
            if (runners != null) {
                for (StageRunner r : runners) {
                    r.close();
                }
                runners = null;
            }
        }
    }

    /**
     * The thresholds to start with after a restore: the newest restored ones of the served model (same model id, model
     * version and stage count), else the bundle's defaults. Union state: every subtask stored the same set. Restored
     * thresholds of another model, version or stage count are dropped with a log line (once per distinct set): a new
     * model version must not inherit the old one's thresholds, nor its update version (which would make the
     * controller's first valid updates for the new version look stale).
     */
    static Thresholds restoredThresholds(List<ThresholdUpdate> restored, Manifest served, String operatorName) {
        ThresholdUpdate newest = null;
        Set<String> dropped = new LinkedHashSet<>();
        for (ThresholdUpdate u : restored) {
            int stages = u.getThresholds() == null ? 0 : u.getThresholds().size();
            if (!served.modelId().equals(u.getModelId())
                    || !served.modelVersion().equals(u.getModelVersion())
                    || stages != served.numStages()) {
                dropped.add(u.getModelId() + "@" + u.getModelVersion() + " v" + u.getUpdateVersion() + " "
                        + u.getThresholds() + " (" + stages + " stages)");
            } else if (newest == null || u.getUpdateVersion() > newest.getUpdateVersion()) {
                newest = u;
            }
        }
        if (!dropped.isEmpty()) {
            LOG.warn(
                    "{} dropped restored thresholds {}: this operator serves {}@{} ({} stages){}",
                    operatorName,
                    dropped,
                    served.modelId(),
                    served.modelVersion(),
                    served.numStages(),
                    newest == null ? "; the bundle's default thresholds apply" : "");
        }
        return newest == null ? Thresholds.defaults(served) : Thresholds.of(newest);
    }

    /** Control messages rejected so far by this subtask (the {@code rejectedThresholdUpdates} counter). */
    public long rejectedThresholdUpdates() {
        return metrics.rejectedUpdates.getCount();
    }

    /** The thresholds in force (for tests and tools). */
    public Thresholds currentThresholds() {
        return cascade.thresholds();
    }

    private void scheduleFlush() {
        long deadline = cascade.nextDeadline();
        if (!flushTimerPending && deadline != Long.MAX_VALUE) {
            flushTimerPending = true;
            getProcessingTimeService().registerTimer(deadline, this::onFlushTimer);
        }
    }

    private void onFlushTimer(long timestamp) throws Exception {
        flushTimerPending = false;
        cascade.flushDue(Math.max(timestamp, now()));
        scheduleFlush();
    }

    private void onStatsTimer(long timestamp) throws Exception {
        emitStats(timestamp);
        getProcessingTimeService().registerTimer(timestamp + settings.statsIntervalMillis(), this::onStatsTimer);
    }

    private void emitStats(long end) {
        StageStats s = cascade.stats()
                .emit(
                        manifest.modelId(),
                        getOperatorName(),
                        getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                        intervalStart,
                        end,
                        settings.firstStage(),
                        cascade.backlog(),
                        cascade.thresholds().version(),
                        taskBusy == null ? -1 : taskBusy.sinceLast());
        intervalStart = end;
        output.collect(STAGE_STATS, new StreamRecord<>(s, end));
    }

    private long now() {
        return getProcessingTimeService().getCurrentProcessingTime();
    }
}
