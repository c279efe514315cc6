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
import java.util.Arrays;
import java.util.List;
import org.apache.flink.annotation.PublicEvolving;
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
 * ModelBundle bundle = ModelBundle.load(Path.of("models/sensor-cnn")); // once per job build
 * EarlyExit.Result out = EarlyExit.builder()
 *         .bundle(bundle)
 *         .mode(EarlyExit.Mode.CASCADE)
 *         .maxBatchSize(64)
 *         .maxWait(Duration.ofMillis(20))
 *         .build()
 *         .apply(requests, control);
 * }</pre>
 *
 * The bundle is loaded and validated once, by the job ({@link ModelBundle#load}); each operator checks in
 * {@code open()} that its files are unchanged (content digest) and opens them, so the path must be readable on every
 * TaskManager. {@code build()} checks every setting once and keeps them in an immutable
 * {@link Settings} record; the defaults below are the ones the jobs' options use too.
 */
@PublicEvolving
public final class EarlyExit {
    /** Default deployment of the stages. */
    public static final Mode DEFAULT_MODE = Mode.CASCADE;
    /** Default events per ONNX call. */
    public static final int DEFAULT_MAX_BATCH_SIZE = 64;
    /** Default longest wait of the oldest event in a stage's batch. */
    public static final Duration DEFAULT_MAX_WAIT = Duration.ofMillis(20);
    /** Default share of events run through every stage, for the controller's accuracy estimates. */
    public static final double DEFAULT_FULL_DEPTH_SAMPLE_RATE = 0.02;
    /** Default bound on the samples kept per stats interval per subtask. */
    public static final int DEFAULT_MAX_SAMPLES_PER_INTERVAL = 256;
    /** Default interval of StageStats. */
    public static final Duration DEFAULT_STATS_INTERVAL = Duration.ofSeconds(1);
    /** Default device of every stage. */
    public static final OrtConfig.Device DEFAULT_DEVICE = OrtConfig.Device.CPU;
    /** Default ONNX Runtime intra-op threads per session (Flink's slots own the cores). */
    public static final int DEFAULT_INTRA_OP_THREADS = 1;
    /** Default operator name and uid prefix. */
    public static final String DEFAULT_NAME = "early-exit";

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
    public record Result(
            DataStream<Prediction> predictions,
            DataStream<StageStats> stageStats,
            DataStream<RejectedRequest> rejected) {}

    /**
     * What {@link Builder#build()} checked: the settings of one early-exit deployment, immutable.
     *
     * @param bundlePath the bundle's directory, as loaded
     * @param numStages stages of the served model
     * @param stageParallelism SPLIT mode: parallelism of each stage operator, one per stage; empty: the job's
     * @param slotSharingGroups SPLIT mode: slot sharing group of each stage operator, one per stage; empty: default
     * @param stageDevices SPLIT mode: device of each stage, one per stage; empty: {@code ort}'s device for all
     */
    public record Settings(
            String bundlePath,
            int numStages,
            Mode mode,
            int maxBatchSize,
            Duration maxWait,
            double fullDepthSampleRate,
            int maxSamplesPerInterval,
            Duration statsInterval,
            boolean fullGraph,
            OrtConfig ort,
            List<Integer> stageParallelism,
            List<String> slotSharingGroups,
            List<OrtConfig.Device> stageDevices,
            String name) {
        /** Copies the lists, so that the settings stay as checked. */
        public Settings {
            stageParallelism = List.copyOf(stageParallelism);
            slotSharingGroups = List.copyOf(slotSharingGroups);
            stageDevices = List.copyOf(stageDevices);
        }

        /** The batching and sampling of the operator running stages {@code first..last}. */
        CascadeSettings cascade(int first, int last) {
            boolean rowAtATime = mode == Mode.ROW_AT_A_TIME;
            return new CascadeSettings(
                    first,
                    last,
                    mode != Mode.FULL_DEPTH,
                    rowAtATime ? 1 : maxBatchSize,
                    rowAtATime ? 0 : maxWait.toMillis(),
                    fullDepthSampleRate,
                    maxSamplesPerInterval,
                    statsInterval.toMillis(),
                    fullGraph);
        }

        /** The sessions' configuration of SPLIT stage {@code k}. */
        OrtConfig ort(int k) {
            return stageDevices.isEmpty()
                    ? ort
                    : new OrtConfig(stageDevices.get(k), ort.gpuIndex(), ort.intraOpThreads());
        }
    }

    private final Settings s;
    private final ModelBundle bundle;

    private EarlyExit(Settings s, ModelBundle bundle) {
        this.s = s;
        this.bundle = bundle;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Stages of the served model. */
    public int numStages() {
        return s.numStages();
    }

    /** The settings {@link Builder#build()} checked. */
    public Settings settings() {
        return s;
    }

    /**
     * Adds the operators: requests keyed by {@link InferenceRequest#key}, thresholds from {@code control}
     * (broadcast to every stage operator; null for the bundle's fixed defaults).
     */
    public Result apply(DataStream<InferenceRequest> requests, DataStream<ThresholdUpdate> control) {
        KeyedStream<InferenceRequest, String> keyed = requests.keyBy(new RequestKey(), Types.STRING);
        if (s.mode() != Mode.SPLIT) {
            SingleOutputStreamOperator<Prediction> op = attach(
                    keyed, control, s.name(), new CascadeOperator(bundle, s.cascade(0, s.numStages() - 1), s.ort()));
            op.uid(s.name());
            return new Result(op, op.getSideOutput(STAGE_STATS), op.getSideOutput(REJECTED));
        }
        SingleOutputStreamOperator<Prediction> first =
                attach(keyed, control, stageName(0), new CascadeOperator(bundle, s.cascade(0, 0), s.ort(0)));
        place(first, 0);
        DataStream<Prediction> predictions = first;
        DataStream<StageStats> stats = first.getSideOutput(STAGE_STATS);
        DataStream<InFlightEvent> survivors = first.getSideOutput(CascadeOperator.SURVIVORS);
        for (int k = 1; k < s.numStages(); k++) {
            SingleOutputStreamOperator<Prediction> op = attach(
                    survivors.keyBy(new EventKey(), Types.STRING),
                    control,
                    stageName(k),
                    new SplitStageOperator(bundle, s.cascade(k, k), s.ort(k)));
            place(op, k);
            predictions = predictions.union(op);
            stats = stats.union(op.getSideOutput(STAGE_STATS));
            survivors = op.getSideOutput(CascadeOperator.SURVIVORS);
        }
        return new Result(predictions, stats, first.getSideOutput(REJECTED));
    }

    private static <IN> SingleOutputStreamOperator<Prediction> attach(
            KeyedStream<IN, String> input,
            DataStream<ThresholdUpdate> control,
            String name,
            EarlyExitOperator<IN, Prediction> op) {
        if (control == null) {
            return input.transform(name, PREDICTION_TYPE, op);
        }
        return input.connect(control.broadcast()).transform(name, PREDICTION_TYPE, op);
    }

    private void place(SingleOutputStreamOperator<Prediction> op, int k) {
        op.uid(stageName(k));
        if (!s.stageParallelism().isEmpty()) {
            op.setParallelism(s.stageParallelism().get(k));
        }
        if (!s.slotSharingGroups().isEmpty()) {
            op.slotSharingGroup(s.slotSharingGroups().get(k));
        }
    }

    private String stageName(int k) {
        return s.name() + "-stage" + k;
    }

    private static final class RequestKey implements KeySelector<InferenceRequest, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(InferenceRequest r) {
            return r.key == null ? "" : r.key;
        }
    }

    private static final class EventKey implements KeySelector<InFlightEvent, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(InFlightEvent e) {
            return e.key == null ? "" : e.key;
        }
    }

    /** Builder; every setting has a default (the {@code DEFAULT_*} constants) except the bundle path. */
    public static final class Builder {
        private String bundlePath;
        private ModelBundle bundle;
        private Mode mode = DEFAULT_MODE;
        private int maxBatchSize = DEFAULT_MAX_BATCH_SIZE;
        private Duration maxWait = DEFAULT_MAX_WAIT;
        private double fullDepthSampleRate = DEFAULT_FULL_DEPTH_SAMPLE_RATE;
        private int maxSamplesPerInterval = DEFAULT_MAX_SAMPLES_PER_INTERVAL;
        private Duration statsInterval = DEFAULT_STATS_INTERVAL;
        private OrtConfig.Device device = DEFAULT_DEVICE;
        private int gpuIndex = OrtConfig.FROM_EXTERNAL_RESOURCE;
        private int intraOpThreads = DEFAULT_INTRA_OP_THREADS;
        private int[] stageParallelism;
        private String[] slotSharingGroups;
        private OrtConfig.Device[] stageDevices;
        private String name = DEFAULT_NAME;
        private boolean fullGraph = true;

        private Builder() {}

        /** The model bundle the job loaded ({@link ModelBundle#load}, once per job build). */
        public Builder bundle(ModelBundle bundle) {
            this.bundle = bundle;
            this.bundlePath = null;
            return this;
        }

        /**
         * Directory of the model bundle (manifest.json, stage ONNX files, calibration.json), loaded by {@link #build()};
         * a job that also needs the bundle itself loads it once and passes it to {@link #bundle} instead.
         */
        public Builder bundlePath(String path) {
            this.bundlePath = path;
            this.bundle = null;
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

        /**
         * Share of events that run every stage, feeding StageStats.samples and Prediction.fullDepthClassIndex
         * (default {@value EarlyExit#DEFAULT_FULL_DEPTH_SAMPLE_RATE}, as in the jobs; 0 for none).
         */
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

        /**
         * Checks every setting once, loads and validates the bundle (a bad bundle fails here, naming the file), and
         * returns the deployment with its immutable {@link Settings}.
         *
         * @throws IllegalArgumentException naming the setting, for a missing or out-of-range one
         */
        public EarlyExit build() {
            if (bundlePath == null && bundle == null) {
                throw new IllegalArgumentException("bundle or bundlePath is required");
            }
            if (maxWait == null || statsInterval == null || mode == null || name == null || device == null) {
                throw new IllegalArgumentException("maxWait, statsInterval, mode, name and device must not be null");
            }
            check(maxBatchSize >= 1, "maxBatchSize must be >= 1, got " + maxBatchSize);
            check(!maxWait.isNegative(), "maxWait must be >= 0, got " + maxWait);
            check(
                    fullDepthSampleRate >= 0 && fullDepthSampleRate <= 1,
                    "fullDepthSampleRate must be in [0, 1], got " + fullDepthSampleRate);
            check(maxSamplesPerInterval >= 0, "maxSamplesPerInterval must be >= 0, got " + maxSamplesPerInterval);
            check(statsInterval.toMillis() >= 1, "statsInterval must be >= 1 ms, got " + statsInterval);
            check(intraOpThreads >= 1, "intraOpThreads must be >= 1, got " + intraOpThreads);
            check(
                    gpuIndex >= OrtConfig.FROM_EXTERNAL_RESOURCE,
                    "gpuIndex must be >= 0 or OrtConfig.FROM_EXTERNAL_RESOURCE, got " + gpuIndex);
            if (mode != Mode.SPLIT && (stageParallelism != null || slotSharingGroups != null || stageDevices != null)) {
                throw new IllegalArgumentException(
                        "stageParallelism, slotSharingGroups and stageDevices apply to Mode.SPLIT only");
            }
            ModelBundle bundle = this.bundle != null ? this.bundle : ModelBundle.load(Path.of(bundlePath));
            int k = bundle.manifest().numStages();
            if (stageParallelism != null && stageParallelism.length != k) {
                throw new IllegalArgumentException(
                        "stageParallelism needs one value per stage (" + k + "), got " + stageParallelism.length);
            }
            if (slotSharingGroups != null
                    && (slotSharingGroups.length != k
                            || Arrays.asList(slotSharingGroups).contains(null))) {
                throw new IllegalArgumentException(
                        "slotSharingGroups needs one per stage (" + k + "), got " + Arrays.toString(slotSharingGroups));
            }
            if (stageDevices != null
                    && (stageDevices.length != k || Arrays.asList(stageDevices).contains(null))) {
                throw new IllegalArgumentException(
                        "stageDevices needs one device per stage (" + k + "), got " + Arrays.toString(stageDevices));
            }
            return new EarlyExit(
                    new Settings(
                            bundle.dir().toString(),
                            k,
                            mode,
                            maxBatchSize,
                            maxWait,
                            fullDepthSampleRate,
                            maxSamplesPerInterval,
                            statsInterval,
                            fullGraph,
                            new OrtConfig(device, gpuIndex, intraOpThreads),
                            stageParallelism == null
                                    ? List.of()
                                    : Arrays.stream(stageParallelism).boxed().toList(),
                            slotSharingGroups == null ? List.of() : List.of(slotSharingGroups),
                            stageDevices == null ? List.of() : List.of(stageDevices),
                            name),
                    bundle);
        }

        private static void check(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
