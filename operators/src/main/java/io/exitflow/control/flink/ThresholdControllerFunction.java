package io.exitflow.control.flink;

import io.exitflow.control.Budget;
import io.exitflow.control.ControlDecision;
import io.exitflow.control.ControlTrace;
import io.exitflow.control.ControllerConfig;
import io.exitflow.control.ControllerSeed;
import io.exitflow.control.StageStatsWindow;
import io.exitflow.control.ThresholdController;
import io.exitflow.schemas.StageStats;
import io.exitflow.schemas.ThresholdUpdate;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller inside a Flink job: consumes the stage operators' {@link StageStats} (keyed by model id), and every
 * control interval (processing time) turns what arrived into one measurement, asks the {@link ThresholdController}
 * and emits the {@link ThresholdUpdate} it decides; every interval's {@link io.exitflow.control.ControlTrace} goes to
 * {@link #TRACE} as a JSON line. Runs with parallelism 1. The controllers (samples, estimates, version) are
 * checkpointed as operator state, so a restore goes on from where it was, with strictly newer versions: an explicit,
 * versioned layout written field by field ({@link #STATE_FORMAT}); the Java-serialised state of earlier jobs is still
 * read ({@link #LEGACY_STATE_NAME}) and written back in the current format. What a controller learned is restored
 * into one made from the restoring job's seed, budget and tuning, so a savepoint restored with a new budget plans
 * for that budget.
 *
 * <p>With a {@link SourceLagProbe}, each measurement's backlog includes the source's lag; the probe learns of every
 * completed checkpoint (with its trigger time) because that is when sources commit their positions.
 *
 * <p>A restore keeps a model's controller only when it was planning for the model id, model version and stage count
 * this job serves; another version's samples, costs and thresholds are dropped (with a log line) and the controller
 * starts again from the bundle's calibration and default thresholds. A kept controller warms up again
 * ({@link ThresholdController#restartWarmUp()}): restarted tasks run cold.
 *
 * <p>Metrics (per function; gauges hold the last interval's decision, NaN or -1 before the first): counters
 * {@code thresholdUpdates}, {@code controllerAlerts} (intervals in alert), {@code rejectedStageStats}; gauges
 * {@code budgetTargetRate} (events/s, rate budgets) or {@code budgetCostFraction} (of full depth, cost budgets),
 * {@code budgetInfeasible} (1 while the budget alert lasts: the budget cannot hold even with every event leaving at
 * stage 0, or the accuracy floor wins over it; else 0), {@code warmingUp} (1 while no costs are learned yet),
 * {@code allowedCostNanos} (stage time per event the budget allows), {@code costPerEventNanos} (measured stage time
 * per event), {@code plannedCostNanos} (expected stage time per event of the thresholds in force, on the samples),
 * {@code estimatedAccuracy} and {@code estimatedAccuracyLoss} (of the thresholds in force against full depth, on the
 * samples), {@code inputRate} (events/s, estimated), {@code sourceLag} (the source's lag in events as the probe
 * reported it, -1: unknown), {@code thresholdVersion} (update version of the thresholds in force, 0: the bundle's
 * defaults).
 */
class ThresholdControllerFunction extends KeyedProcessFunction<String, StageStats, ThresholdUpdate>
        implements CheckpointedFunction, CheckpointListener {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ThresholdControllerFunction.class);

    /** One JSON line per model per control interval (see {@link io.exitflow.control.ControlTrace#toJson()}). */
    public static final OutputTag<String> TRACE = new OutputTag<>("exitflow-controller-trace", Types.STRING);

    private static final int MAX_PENDING_CHECKPOINTS = 16;

    /**
     * Layout of one model's checkpointed state: {@code int format, UTF key, UTF modelId, UTF modelVersion, int stages},
     * then {@link ThresholdController#writeState} and {@link StageStatsWindow#writeState}. A change of layout bumps it
     * and keeps a reader for every older one.
     */
    static final int STATE_FORMAT = 1;
    /** Operator state of format 1 on. */
    static final String STATE_NAME = "exitflow-controller-state";
    /** Operator state of the jobs before format 1: a Java-serialised {@code HashMap<String, Slot>} per element. */
    static final String LEGACY_STATE_NAME = "exitflow-controllers";

    private final ControllerSeed seed;
    private final Budget budget;
    private final ControllerConfig config;
    private final long intervalMillis;
    private final int maxSamplesPerInterval;
    private final SourceLagProbe lagProbe; // null: the backlog is the operators' alone

    private transient Map<String, Slot> slots;
    /** Trigger times of checkpoints snapshotted and not yet complete (bounded by Flink's concurrent checkpoints). */
    private transient NavigableMap<Long, Long> pendingCheckpoints;
    /** The controllers' state, one element per model: {@link #STATE_FORMAT}, written field by field. */
    private transient ListState<byte[]> checkpointed;
    /** State of jobs before {@link #STATE_FORMAT} 1 (the Java-serialised slots), read on restore and then cleared. */
    private transient ListState<byte[]> legacy;

    private transient Counter updates, alerts, rejected;
    /** The last interval's decision, read by the gauges (on the metric reporter's thread); null before the first. */
    private transient volatile ControlTrace last;

    /**
     * Controller and the current interval's window for one model. Serializable only so that {@link #readLegacy} reads
     * the state of jobs before {@link #STATE_FORMAT} 1 (it was written as this class): keep its name and fields.
     */
    private static final class Slot implements Serializable {
        private static final long serialVersionUID = 1L;
        final ThresholdController controller;
        StageStatsWindow window;
        long nextFire = -1;

        Slot(ThresholdController controller, StageStatsWindow window) {
            this.controller = controller;
            this.window = window;
        }
    }

    public ThresholdControllerFunction(
            ControllerSeed seed,
            Budget budget,
            ControllerConfig config,
            long intervalMillis,
            int maxSamplesPerInterval) {
        this(seed, budget, config, intervalMillis, maxSamplesPerInterval, null);
    }

    /**
     * @param lagProbe the source's lag, added to the operators' backlog; null when there is none
     */
    public ThresholdControllerFunction(
            ControllerSeed seed,
            Budget budget,
            ControllerConfig config,
            long intervalMillis,
            int maxSamplesPerInterval,
            SourceLagProbe lagProbe) {
        if (intervalMillis < 100)
            throw new IllegalArgumentException("control interval must be >= 100 ms, got " + intervalMillis);
        this.seed = seed;
        this.budget = budget;
        this.config = config;
        this.intervalMillis = intervalMillis;
        this.maxSamplesPerInterval = maxSamplesPerInterval;
        this.lagProbe = lagProbe;
    }

    @Override
    public void open(OpenContext ctx) throws Exception {
        pendingCheckpoints = new TreeMap<>();
        if (lagProbe != null) lagProbe.open();
        var group = getRuntimeContext().getMetricGroup();
        updates = group.counter("thresholdUpdates");
        alerts = group.counter("controllerAlerts");
        rejected = group.counter("rejectedStageStats");
        if (budget.kind() == Budget.Kind.RATE) group.gauge("budgetTargetRate", budget::targetRate);
        else group.gauge("budgetCostFraction", budget::costFraction);
        group.gauge("budgetInfeasible", () -> last != null && last.alert() ? 1 : 0);
        group.gauge("warmingUp", () -> last != null && last.warmingUp() ? 1 : 0);
        group.gauge("allowedCostNanos", () -> last == null ? Double.NaN : last.allowedCost());
        group.gauge("costPerEventNanos", () -> last == null ? Double.NaN : last.costPerEvent());
        group.gauge("plannedCostNanos", () -> last == null ? Double.NaN : last.plannedCost());
        group.gauge("estimatedAccuracy", () -> last == null ? Double.NaN : last.estAccuracy());
        group.gauge(
                "estimatedAccuracyLoss", () -> last == null ? Double.NaN : last.fullAccuracy() - last.estAccuracy());
        group.gauge("inputRate", () -> last == null ? Double.NaN : last.inputRate());
        group.gauge("sourceLag", () -> last == null ? -1L : last.sourceLag());
        group.gauge("thresholdVersion", () -> last == null ? 0L : last.version());
    }

    @Override
    public void close() throws Exception {
        if (lagProbe != null) lagProbe.close();
    }

    @Override
    public void processElement(StageStats s, Context ctx, Collector<ThresholdUpdate> out) {
        if (!seed.modelId().equals(s.getModelId())) {
            rejected.inc();
            LOG.warn(
                    "StageStats for model {} ignored: this controller serves model {}", s.getModelId(), seed.modelId());
            return;
        }
        Slot slot = slots.computeIfAbsent(s.getModelId(), id -> new Slot(newController(), newWindow()));
        try {
            slot.window.add(s);
        } catch (IllegalArgumentException e) {
            rejected.inc();
            LOG.warn("StageStats rejected: {}", e.getMessage());
            return;
        }
        // Only start the interval timer when none runs (first record, or after a restore). A timer that is due but
        // has not fired yet (records go first on a busy task thread) must not be replaced: it would be dropped as
        // stale and the interval would stretch by a whole period every time a record slips in before it.
        if (slot.nextFire < 0) {
            slot.nextFire = ctx.timerService().currentProcessingTime() + intervalMillis;
            ctx.timerService().registerProcessingTimeTimer(slot.nextFire);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ThresholdUpdate> out) {
        Slot slot = slots.get(ctx.getCurrentKey());
        if (slot == null || timestamp != slot.nextFire) return; // a stale timer from before a restore
        slot.nextFire = timestamp + intervalMillis; // a fixed grid: a late firing does not shift the next ones
        ctx.timerService().registerProcessingTimeTimer(slot.nextFire);
        if (slot.window.isEmpty()) return; // no stats this interval: nothing measured, nothing to decide
        StageStatsWindow window = slot.window;
        slot.window = newWindow();
        long lag = lagProbe == null ? -1 : lagProbe.eventsBehind(timestamp);
        ControlDecision d = slot.controller.onInterval(window.toMeasurement(lag));
        d.update().ifPresent(u -> {
            updates.inc();
            out.collect(u);
        });
        if (d.trace().alert()) alerts.inc();
        last = d.trace();
        ctx.output(TRACE, d.trace().toJson());
    }

    private ThresholdController newController() {
        return new ThresholdController(
                seed.modelId(),
                seed.modelVersion(),
                budget,
                config,
                seed.samples(),
                seed.stageCostNanos(),
                seed.initialThresholds());
    }

    private StageStatsWindow newWindow() {
        return new StageStatsWindow(seed.samples().stages(), maxSamplesPerInterval);
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        pendingCheckpoints.put(context.getCheckpointId(), context.getCheckpointTimestamp());
        // checkpoints that never complete (aborted, failed) are forgotten once newer ones pile up
        while (pendingCheckpoints.size() > MAX_PENDING_CHECKPOINTS) pendingCheckpoints.pollFirstEntry();
        checkpointed.clear();
        legacy.clear(); // a restored legacy state goes out in the current format from the first checkpoint on
        for (Map.Entry<String, Slot> e : slots.entrySet()) {
            checkpointed.add(write(e.getKey(), e.getValue()));
        }
    }

    /** One model's state in {@link #STATE_FORMAT}. */
    private static byte[] write(String key, Slot slot) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            ThresholdController c = slot.controller;
            out.writeInt(STATE_FORMAT);
            out.writeUTF(key);
            out.writeUTF(c.modelId());
            out.writeUTF(c.modelVersion());
            out.writeInt(c.stages());
            c.writeState(out);
            slot.window.writeState(out);
        }
        return bytes.toByteArray();
    }

    /**
     * One model's state, restored field by field into a controller made from this job's seed, budget and tuning;
     * empty when it belongs to another model, version or stage count (logged).
     */
    private Optional<Slot> read(byte[] state) throws IOException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(state))) {
            int format = in.readInt();
            if (format != STATE_FORMAT) {
                throw new IOException("controller state format " + format + " is not one this runtime reads ("
                        + STATE_FORMAT + "): restore it with the version that wrote it");
            }
            String key = in.readUTF();
            String modelId = in.readUTF();
            String modelVersion = in.readUTF();
            int stages = in.readInt();
            if (!servesThisModel(key, modelId, modelVersion, stages)) return Optional.empty();
            ThresholdController c = newController();
            c.readState(in);
            StageStatsWindow window = newWindow();
            window.readState(in);
            return Optional.of(new Slot(c, window));
        }
    }

    /**
     * The state of jobs before {@link #STATE_FORMAT} 1: Java-serialised slots, whose learned state is carried over
     * into controllers of this job (through {@link ThresholdController#writeState}), as if written in the current
     * format.
     */
    @SuppressWarnings("unchecked")
    private Map<String, Slot> readLegacy(byte[] state) throws IOException {
        Map<String, Slot> out = new HashMap<>();
        Map<String, Slot> restored;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(state))) {
            restored = (Map<String, Slot>) in.readObject();
        } catch (IOException | ClassNotFoundException e) {
            throw new IOException(
                    "cannot read the controller state of a job before state format 1 (Java-serialised " + "slots): "
                            + e.getMessage(),
                    e);
        }
        for (Map.Entry<String, Slot> e : restored.entrySet()) {
            read(write(e.getKey(), e.getValue())).ifPresent(slot -> out.put(e.getKey(), slot));
        }
        return out;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        Long trigger = pendingCheckpoints.get(checkpointId);
        // completing a checkpoint subsumes the ones before it: forget them too
        pendingCheckpoints.headMap(checkpointId, true).clear();
        if (lagProbe != null && trigger != null) lagProbe.onCheckpointComplete(checkpointId, trigger);
    }

    /**
     * Whether a restored controller plans for the model this job serves (id, version, stage count); logs why not. A
     * new model version must not inherit the old one's samples, costs or thresholds.
     */
    private boolean servesThisModel(String key, String modelId, String modelVersion, int stages) {
        int own = seed.samples().stages();
        if (key.equals(seed.modelId())
                && modelId.equals(seed.modelId())
                && modelVersion.equals(seed.modelVersion())
                && stages == own) {
            return true;
        }
        LOG.warn(
                "dropping the restored controller of model {} version {} ({} stages): this job serves "
                        + "model {} version {} ({} stages); starting again from the bundle's calibration and default thresholds",
                modelId,
                modelVersion,
                stages,
                seed.modelId(),
                seed.modelVersion(),
                own);
        return false;
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        checkpointed = context.getOperatorStateStore()
                .getListState(
                        new ListStateDescriptor<>(STATE_NAME, PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        legacy = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>(
                        LEGACY_STATE_NAME, PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        // a restored controller's timers are re-registered by the next record (nextFire -1), and it warms up again:
        // the restarted tasks run cold, so it learns no costs from their first intervals (readState)
        slots = new HashMap<>();
        for (byte[] b : legacy.get()) {
            slots.putAll(readLegacy(b));
        }
        for (byte[] b : checkpointed.get()) {
            Optional<Slot> slot = read(b);
            if (slot.isPresent()) slots.put(seed.modelId(), slot.get());
        }
        if (context.isRestored()) LOG.info("restored controllers for models {}", slots.keySet());
    }
}
