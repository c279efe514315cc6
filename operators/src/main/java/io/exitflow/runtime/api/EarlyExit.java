package io.exitflow.runtime.api;

import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.onnx.OrtConfig;
import io.exitflow.runtime.operator.CascadeOperator;
import io.exitflow.runtime.operator.CascadeSettings;
import io.exitflow.runtime.operator.EarlyExitOperator;
import io.exitflow.runtime.operator.InFlightEvent;
import io.exitflow.runtime.operator.SplitStageOperator;
import io.exitflow.runtime.record.InferenceRequest;
import io.exitflow.runtime.record.RejectedRequest;
import io.exitflow.schemas.Prediction;
import io.exitflow.schemas.StageStats;
import io.exitflow.schemas.ThresholdUpdate;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.util.OutputTag;

/**
 * Wires early-exit inference into a DataStream job (docs/runtime-api.md):
 *
 * <pre>{@code
 * EarlyExit.Result out = EarlyExit.builder()
 *         .bundlePath("models/sensor-cnn")
 *         .mode(EarlyExit.Mode.CASCADE)
 *         .maxBatchSize(64)
 *         .maxWait(Duration.ofMillis(20))
 *         .build()
 *         .apply(requests, control);
 * }</pre>
 *
 * The bundle is validated when {@link Builder#build()} runs and again when each operator opens; the path must be
 * readable on every TaskManager.
 */
public final class EarlyExit {
    /** Answers to every accepted request. */
    public static final TypeInformation<Prediction> PREDICTION_TYPE = new AvroTypeInfo<>(Prediction.class);
    /** Per-interval measurements (side output of every early-exit operator). */
    public static final OutputTag<StageStats> STAGE_STATS = EarlyExitOperator.STAGE_STATS;
    /** Requests that could not be served, with why (side output of the first operator). */
    public static final OutputTag<RejectedRequest> REJECTED = CascadeOperator.REJECTED;

    /** How the stages are deployed. */
    public enum Mode {
        /** Every stage in one operator; survivors join the next stage's batch in the same task. */
        CASCADE,
        /** One operator per stage, each with its own parallelism and slot sharing group. */
        SPLIT,
        /**
         * Baseline: batched like the cascade, but every event runs the whole model (no early exits): one ONNX call
         * per batch of the bundle's whole-model graph when it has one ({@code full_graph}), else every stage in turn
         * (see {@link Builder#fullGraph}).
         */
        FULL_DEPTH,
        /** Baseline: one ONNX call per event per stage (batch size 1), exits on. */
        ROW_AT_A_TIME
    }

    /** The streams {@link #apply} returns. */
    public record Result(DataStream<Prediction> predictions, DataStream<StageStats> stageStats,
                         DataStream<RejectedRequest> rejected) {}

    private final Builder b;
    private final int numStages;

    private EarlyExit(Builder b, int numStages) {
        this.b = b;
        this.numStages = numStages;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Stages of the served model. */
    public int numStages() {
        return numStages;
    }

    /**
     * Adds the operators: requests keyed by {@link InferenceRequest#key}, thresholds from {@code control}
     * (broadcast to every stage operator; null for the bundle's fixed defaults).
     */
    public Result apply(DataStream<InferenceRequest> requests, DataStream<ThresholdUpdate> control) {
        KeyedStream<InferenceRequest, String> keyed = requests.keyBy(new RequestKey(), Types.STRING);
        if (b.mode != Mode.SPLIT) {
            CascadeSettings s = settings(0, numStages - 1);
            SingleOutputStreamOperator<Prediction> op = attach(keyed, control, b.name,
                    new CascadeOperator(b.bundlePath, s, b.ortConfig()));
            op.uid(b.name);
            return new Result(op, op.getSideOutput(STAGE_STATS), op.getSideOutput(REJECTED));
        }
        SingleOutputStreamOperator<Prediction> first = attach(keyed, control, stageName(0),
                new CascadeOperator(b.bundlePath, settings(0, 0), b.ortConfig(0)));
        place(first, 0);
        DataStream<Prediction> predictions = first;
        DataStream<StageStats> stats = first.getSideOutput(STAGE_STATS);
        DataStream<InFlightEvent> survivors = first.getSideOutput(CascadeOperator.SURVIVORS);
        for (int k = 1; k < numStages; k++) {
            SingleOutputStreamOperator<Prediction> op = attach(survivors.keyBy(new EventKey(), Types.STRING), control,
                    stageName(k), new SplitStageOperator(b.bundlePath, settings(k, k), b.ortConfig(k)));
            place(op, k);
            predictions = predictions.union(op);
            stats = stats.union(op.getSideOutput(STAGE_STATS));
            survivors = op.getSideOutput(CascadeOperator.SURVIVORS);
        }
        return new Result(predictions, stats, first.getSideOutput(REJECTED));
    }

    private static <IN> SingleOutputStreamOperator<Prediction> attach(
            KeyedStream<IN, String> input, DataStream<ThresholdUpdate> control, String name,
            EarlyExitOperator<IN, Prediction> op) {
        if (control == null) {
            return input.transform(name, PREDICTION_TYPE, op);
        }
        return input.connect(control.broadcast()).transform(name, PREDICTION_TYPE, op);
    }

    private void place(SingleOutputStreamOperator<Prediction> op, int k) {
        op.uid(stageName(k));
        if (b.stageParallelism != null) {
            op.setParallelism(b.stageParallelism[k]);
        }
        if (b.slotSharingGroups != null) {
            op.slotSharingGroup(b.slotSharingGroups[k]);
        }
    }

    private String stageName(int k) {
        return b.name + "-stage" + k;
    }

    private CascadeSettings settings(int first, int last) {
        boolean rowAtATime = b.mode == Mode.ROW_AT_A_TIME;
        return new CascadeSettings(first, last, b.mode != Mode.FULL_DEPTH, rowAtATime ? 1 : b.maxBatchSize,
                rowAtATime ? 0 : b.maxWait.toMillis(), b.fullDepthSampleRate, b.maxSamplesPerInterval,
                b.statsInterval.toMillis(), b.fullGraph);
    }

    private static final class RequestKey implements KeySelector<InferenceRequest, String> {
        @Override
        public String getKey(InferenceRequest r) {
            return r.key == null ? "" : r.key;
        }
    }

    private static final class EventKey implements KeySelector<InFlightEvent, String> {
        @Override
        public String getKey(InFlightEvent e) {
            return e.key == null ? "" : e.key;
        }
    }

    /** Builder; every setting has a default except the bundle path. */
    public static final class Builder {
        private String bundlePath;
        private Mode mode = Mode.CASCADE;
        private int maxBatchSize = 64;
        private Duration maxWait = Duration.ofMillis(20);
        private double fullDepthSampleRate = 0.0;
        private int maxSamplesPerInterval = 256;
        private Duration statsInterval = Duration.ofSeconds(1);
        private OrtConfig.Device device = OrtConfig.Device.CPU;
        private int gpuIndex = OrtConfig.FROM_EXTERNAL_RESOURCE;
        private int intraOpThreads = 1;
        private int[] stageParallelism;
        private String[] slotSharingGroups;
        private OrtConfig.Device[] stageDevices;
        private String name = "early-exit";
        private boolean fullGraph = true;

        private Builder() {}

        /** Directory of the model bundle (manifest.json, stage ONNX files, calibration.json). */
        public Builder bundlePath(String path) {
            this.bundlePath = path;
            return this;
        }

        public Builder mode(Mode mode) {
            this.mode = mode;
            return this;
        }

        /** Events per ONNX call (default 64); a stage runs as soon as its batch is full. */
        public Builder maxBatchSize(int n) {
            this.maxBatchSize = n;
            return this;
        }

        /** How long the oldest event may wait in a stage's batch (processing time, default 20 ms). */
        public Builder maxWait(Duration d) {
            this.maxWait = d;
            return this;
        }

        /** Share of events that run every stage, feeding StageStats.samples and Prediction.fullDepthClassIndex. */
        public Builder fullDepthSampleRate(double rate) {
            this.fullDepthSampleRate = rate;
            return this;
        }

        /**
         * FULL_DEPTH mode: run the bundle's whole-model graph, one ONNX call per batch (default true, when the bundle
         * has one); false runs the stages one after another with exits off (the staged full-depth baseline).
         */
        public Builder fullGraph(boolean use) {
            this.fullGraph = use;
            return this;
        }

        /** Bound on samples kept per stats interval per subtask (default 256). */
        public Builder maxSamplesPerInterval(int n) {
            this.maxSamplesPerInterval = n;
            return this;
        }

        /** How often each subtask emits StageStats (default 1 s). */
        public Builder statsInterval(Duration d) {
            this.statsInterval = d;
            return this;
        }

        /** CPU (default) or CUDA (needs the {@code gpu} Maven profile; falls back to CPU with a warning). */
        public Builder device(OrtConfig.Device device) {
            this.device = device;
            return this;
        }

        /** Fixed CUDA device index; by default one of Flink's {@code gpu} external resources, by subtask index. */
        public Builder gpuIndex(int index) {
            this.gpuIndex = index;
            return this;
        }

        /** ONNX Runtime intra-op threads per session (default 1). */
        public Builder intraOpThreads(int n) {
            this.intraOpThreads = n;
            return this;
        }

        /** SPLIT mode: parallelism of each stage operator, one value per stage. */
        public Builder stageParallelism(int... p) {
            this.stageParallelism = p.clone();
            return this;
        }

        /** SPLIT mode: slot sharing group of each stage operator, one per stage (e.g. "gpu" for deep stages). */
        public Builder slotSharingGroups(String... groups) {
            this.slotSharingGroups = groups.clone();
            return this;
        }

        /**
         * SPLIT mode: device of each stage operator, one per stage (e.g. CPU for the early stages, CUDA for the deep
         * ones); overrides {@link #device} stage by stage. Put the CUDA stages in a slot sharing group that asks for
         * Flink's {@code gpu} external resource, so they are scheduled on TaskManagers that have one.
         */
        public Builder stageDevices(OrtConfig.Device... devices) {
            this.stageDevices = devices.clone();
            return this;
        }

        /** Operator name and uid prefix (default "early-exit"); make it unique per job. */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        OrtConfig ortConfig() {
            return new OrtConfig(device, gpuIndex, intraOpThreads);
        }

        /** The sessions' configuration of SPLIT stage {@code k}. */
        OrtConfig ortConfig(int k) {
            return stageDevices == null ? ortConfig() : new OrtConfig(stageDevices[k], gpuIndex, intraOpThreads);
        }

        /** Validates the settings and the bundle (a bad bundle fails here, naming the file). */
        public EarlyExit build() {
            if (bundlePath == null) {
                throw new IllegalArgumentException("bundlePath is required");
            }
            if (maxWait == null || statsInterval == null || mode == null || name == null) {
                throw new IllegalArgumentException("maxWait, statsInterval, mode and name must not be null");
            }
            ortConfig();
            ModelBundle bundle = ModelBundle.load(Path.of(bundlePath));
            int k = bundle.manifest().numStages();
            bundlePath = bundle.dir().toString();
            new CascadeSettings(0, k - 1, true, maxBatchSize, maxWait.toMillis(), fullDepthSampleRate,
                    maxSamplesPerInterval, statsInterval.toMillis());
            if (stageParallelism != null && stageParallelism.length != k) {
                throw new IllegalArgumentException("stageParallelism needs one value per stage (" + k + "), got "
                        + stageParallelism.length);
            }
            if (slotSharingGroups != null && slotSharingGroups.length != k) {
                throw new IllegalArgumentException("slotSharingGroups needs one per stage (" + k + "), got "
                        + slotSharingGroups.length);
            }
            if (stageDevices != null && (stageDevices.length != k || Arrays.asList(stageDevices).contains(null))) {
                throw new IllegalArgumentException("stageDevices needs one device per stage (" + k + "), got "
                        + Arrays.toString(stageDevices));
            }
            if (mode != Mode.SPLIT && (stageParallelism != null || slotSharingGroups != null || stageDevices != null)) {
                throw new IllegalArgumentException(
                        "stageParallelism, slotSharingGroups and stageDevices apply to Mode.SPLIT only");
            }
            Builder copy = copy();
            return new EarlyExit(copy, k);
        }

        private Builder copy() {
            Builder c = new Builder();
            c.bundlePath = bundlePath;
            c.mode = mode;
            c.maxBatchSize = maxBatchSize;
            c.maxWait = maxWait;
            c.fullDepthSampleRate = fullDepthSampleRate;
            c.maxSamplesPerInterval = maxSamplesPerInterval;
            c.statsInterval = statsInterval;
            c.device = device;
            c.gpuIndex = gpuIndex;
            c.intraOpThreads = intraOpThreads;
            c.stageParallelism = stageParallelism;
            c.slotSharingGroups = slotSharingGroups;
            c.stageDevices = stageDevices;
            c.name = name;
            c.fullGraph = fullGraph;
            return c;
        }
    }
}
