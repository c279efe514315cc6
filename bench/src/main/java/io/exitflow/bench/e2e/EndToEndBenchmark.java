package io.exitflow.bench.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.exitflow.bench.BenchArgs;
import io.exitflow.control.BudgetSolver;
import io.exitflow.control.ControllerSeed;
import io.exitflow.control.ExitPlan;
import io.exitflow.jobs.common.JobOptions;
import io.exitflow.runtime.api.EarlyExit;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.runtime.record.InferenceRequest;
import io.exitflow.schemas.Prediction;
import io.exitflow.schemas.StageSample;
import io.exitflow.schemas.StageStats;
import io.exitflow.schemas.ThresholdUpdate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

/**
 * End-to-end benchmark of the inference job on a local Flink MiniCluster: the same events (every window of the
 * dataset's test split, cycled) and the same bundle through each {@link EarlyExit.Mode} in one run, reporting
 * events/s, process CPU time per event, in-operator latency p50/p99 and accuracy, beside the oracle bound (an
 * event counts as right when any stage answers it right) measured on the same windows.
 *
 * <p>The source is in memory (no Kafka) so the numbers are about the inference path, not the broker; every mode
 * pays the same source, shuffle and sink costs. The first 10% of each run's events are warm-up and not measured.
 *
 * <p>{@code CASCADE_FLOOR} is the cascade with fixed thresholds solved (BudgetSolver) from the bundle's calibration
 * split for at most {@code --max-accuracy-loss} against full depth, sent as one update on the control stream.
 * {@code ROW_FULL_DEPTH} is what a plain Flink map calling the model per record does: {@code FULL_DEPTH} at batch
 * size 1, one ORT call per event of the bundle's whole-model graph ({@code full_graph}; without one, one call per stage
 * file). {@code FULL_DEPTH_STAGED} and {@code ROW_FULL_DEPTH_STAGED} are the same with the stage files called one
 * after another (one ORT call per stage), as before bundles carried the whole graph.
 *
 * <pre>bench/e2e.sh [--events 300000] [--parallelism 1]
 *              [--modes ROW_FULL_DEPTH,ROW_AT_A_TIME,FULL_DEPTH,CASCADE,SPLIT,CASCADE_FLOOR]
 *              [--bundle models/sensor-cnn] [--max-batch-size 64] [--max-accuracy-loss 0.005]
 *              [--out bench/target-e2e/e2e.json]</pre>
 */
public final class EndToEndBenchmark {
    /** The whole default test split. */
    private static final int SENSORS = io.exitflow.data.DatasetWriter.TEST_SENSORS;

    private static final int READINGS_PER_SENSOR = io.exitflow.data.DatasetWriter.READINGS_PER_SENSOR;

    private EndToEndBenchmark() {}

    private static final ConfigOption<String> BUNDLE = ConfigOptions.key("bench.bundle")
            .stringType()
            .defaultValue("models/sensor-cnn")
            .withDescription("Model bundle directory.");
    private static final ConfigOption<Long> EVENTS = ConfigOptions.key("bench.events")
            .longType()
            .defaultValue(300_000L)
            .withDescription("Events per mode (rounded up to whole passes over the windows).");
    private static final ConfigOption<Integer> PARALLELISM = ConfigOptions.key("bench.parallelism")
            .intType()
            .defaultValue(1)
            .withDescription("Parallelism of the local Flink job.");
    private static final ConfigOption<String> MODES = ConfigOptions.key("bench.modes")
            .stringType()
            .defaultValue("ROW_FULL_DEPTH,ROW_AT_A_TIME,FULL_DEPTH,CASCADE,SPLIT,CASCADE_FLOOR")
            .withDescription("Modes to run, comma-separated: EarlyExit.Mode names, ROW_FULL_DEPTH, *_STAGED, "
                    + "CASCADE_FLOOR.");
    private static final ConfigOption<Double> MAX_ACCURACY_LOSS = ConfigOptions.key("bench.max-accuracy-loss")
            .doubleType()
            .defaultValue(0.005)
            .withDescription("Accuracy loss the CASCADE_FLOOR thresholds may lose.");
    private static final ConfigOption<String> OUT = ConfigOptions.key("bench.out")
            .stringType()
            .defaultValue("bench/target-e2e/e2e.json")
            .withDescription("Where the results go (JSON).");

    public static void main(String[] args) throws Exception {
        Optional<BenchArgs> a = BenchArgs.parse(
                args,
                "bench/e2e.sh [--name value ...]",
                List.of(BUNDLE, EVENTS, PARALLELISM, JobOptions.MAX_BATCH_SIZE, MODES, MAX_ACCURACY_LOSS, OUT));
        if (a.isEmpty()) {
            return;
        }
        String bundle = a.get().get(BUNDLE);
        long events = a.get().get(EVENTS);
        int parallelism = a.get().get(PARALLELISM);
        int maxBatch = a.get().get(JobOptions.MAX_BATCH_SIZE);
        String modes = a.get().get(MODES);
        double maxLoss = a.get().get(MAX_ACCURACY_LOSS);
        Path out = Path.of(a.get().get(OUT));
        Path bundleDir = Path.of(bundle).toAbsolutePath();
        ModelBundle loaded = ModelBundle.load(bundleDir); // once: every run below takes the handle
        Manifest manifest = loaded.manifest();
        Manifest.Window w = manifest.input().window();
        List<InferenceRequest> windows = TestSplitWindows.get(SENSORS, READINGS_PER_SENSOR, w.size(), w.slide());
        // Whole passes over the windows, so accuracy weighs every window alike.
        events = Math.max(1, (events + windows.size() - 1) / windows.size()) * windows.size();
        System.out.printf(
                Locale.ROOT,
                "%d test-split windows (%d sensors x %d readings), cycled to %d events; "
                        + "bundle %s %s; parallelism %d; %d cores%n",
                windows.size(),
                SENSORS,
                READINGS_PER_SENSOR,
                events,
                manifest.modelId(),
                manifest.modelVersion(),
                parallelism,
                Runtime.getRuntime().availableProcessors());

        Map<String, Object> report = new LinkedHashMap<>();
        report.put("date", Instant.now().toString());
        report.put("machine", machine());
        report.put("bundle", manifest.modelId() + " " + manifest.modelVersion());
        report.put("windows", windows.size());
        report.put("events_per_run", events);
        report.put("parallelism", parallelism);
        report.put("max_batch_size", maxBatch);
        report.put("oracle", oracle(loaded, windows.size(), parallelism));
        ThresholdUpdate floor = floorThresholds(loaded, maxLoss);
        report.put("cascade_floor_thresholds", floor.getThresholds());
        report.put("cascade_floor_reason", floor.getReason());

        List<Map<String, Object>> rows = new ArrayList<>();
        for (String m : modes.split(",")) {
            // CASCADE_FLOOR: the cascade with thresholds solved from the bundle's calibration for the accuracy floor.
            boolean withFloor = m.trim().equals("CASCADE_FLOOR");
            // ROW_FULL_DEPTH: full depth one event at a time, the per-record model call of plain Flink + ONNX jobs.
            boolean rowFull = m.trim().startsWith("ROW_FULL_DEPTH");
            // *_STAGED: full depth through the stage files instead of the whole-model graph.
            boolean staged = m.trim().endsWith("_STAGED");
            EarlyExit.Mode mode = withFloor
                    ? EarlyExit.Mode.CASCADE
                    : rowFull || staged ? EarlyExit.Mode.FULL_DEPTH : EarlyExit.Mode.valueOf(m.trim());
            // Warm-up and measured part are whole passes over the windows, so accuracy weighs every window alike.
            long passes = events / windows.size();
            long warmup = Math.max(1, passes / 10) * windows.size();
            RunRecorder r = RunRecorder.start(events, warmup, manifest.numStages());
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.createLocalEnvironment(parallelism, new Configuration());
            DataStream<InferenceRequest> requests = source(env, events, w.size(), w.slide());
            DataStream<ThresholdUpdate> control =
                    withFloor ? env.fromData(new AvroTypeInfo<>(ThresholdUpdate.class), floor) : null;
            EarlyExit.Result result = EarlyExit.builder()
                    .bundle(loaded)
                    .mode(mode)
                    .maxBatchSize(rowFull ? 1 : maxBatch)
                    .fullGraph(!staged)
                    // serving alone, as in bench/RESULTS.md: no full-depth samples for a controller
                    .fullDepthSampleRate(0)
                    .name("bench-" + m.trim())
                    .build()
                    .apply(requests, control);
            result.predictions()
                    .process(new RecordPredictions())
                    .setParallelism(1)
                    .sinkTo(new DiscardingSink<>())
                    .setParallelism(1);
            env.execute("e2e " + mode);
            if (r.arrivals != events) {
                throw new IllegalStateException(mode + ": " + r.arrivals + " predictions for " + events + " events");
            }
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("mode", m.trim());
            if (withFloor && r.otherThresholdVersions > 0) {
                throw new IllegalStateException("CASCADE_FLOOR: " + r.otherThresholdVersions
                        + " measured predictions were not decided by the floor thresholds (warm-up too short)");
            }
            row.put("events_per_s", Math.round(r.eventsPerSecond()));
            row.put("cpu_us_per_event", round(r.cpuMicrosPerEvent(), 2));
            row.put("latency_ms_p50", round(r.latencyQuantile(0.5), 3));
            row.put("latency_ms_p99", round(r.latencyQuantile(0.99), 3));
            row.put("accuracy", round(r.accuracy(), 4));
            row.put("exits", r.exits.clone());
            row.put("measured_events", r.measured());
            row.put("seconds", round(r.seconds(), 2));
            rows.add(row);
            System.out.printf(
                    Locale.ROOT,
                    "%-14s %9.0f ev/s  %8.2f us CPU/ev  p50 %7.3f ms  p99 %7.3f ms  acc %.4f  exits %s%n",
                    m.trim(),
                    r.eventsPerSecond(),
                    r.cpuMicrosPerEvent(),
                    r.latencyQuantile(0.5),
                    r.latencyQuantile(0.99),
                    r.accuracy(),
                    java.util.Arrays.toString(r.exits));
        }
        PredictedSpeedup.annotate(rows, manifest, "events_per_s");
        report.put("runs", rows);
        Files.createDirectories(out.toAbsolutePath().getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.toFile(), report);
        System.out.println("written " + out);
    }

    /** Events {@code 0..n-1}, event i being window {@code i mod W} of the test split. */
    private static DataStream<InferenceRequest> source(StreamExecutionEnvironment env, long n, int size, int slide) {
        return env.fromSequence(0, n - 1)
                .map(new WindowAt(size, slide), TypeInformation.of(InferenceRequest.class))
                .name("test-split windows");
    }

    /** Accuracy bounds on the same windows: every stage run for every window (samples of a CASCADE run at rate 1). */
    private static Map<String, Object> oracle(ModelBundle bundle, int windowCount, int parallelism) throws Exception {
        StageSampleSink.clear();
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironment(parallelism, new Configuration());
        Manifest manifest = bundle.manifest();
        Manifest.Window w = manifest.input().window();
        EarlyExit.Result result = EarlyExit.builder()
                .bundle(bundle)
                .mode(EarlyExit.Mode.CASCADE)
                .fullDepthSampleRate(1.0)
                .maxSamplesPerInterval(Integer.MAX_VALUE)
                .statsInterval(Duration.ofMillis(200))
                .name("oracle")
                .build()
                .apply(source(env, windowCount, w.size(), w.slide()), null);
        result.predictions().sinkTo(new DiscardingSink<>());
        result.stageStats()
                .process(new StageSampleSink())
                .setParallelism(1)
                .sinkTo(new DiscardingSink<>())
                .setParallelism(1);
        env.execute("e2e oracle");
        List<StageSample> samples = StageSampleSink.samples();
        int k = manifest.numStages();
        long any = 0;
        long[] perStage = new long[k];
        long labelled = 0;
        for (StageSample s : samples) {
            if (s.getLabel() == null || s.getLabel() < 0) {
                continue;
            }
            labelled++;
            boolean hit = false;
            for (int i = 0; i < k; i++) {
                if (s.getClasses().get(i).equals(s.getLabel())) {
                    perStage[i]++;
                    hit = true;
                }
            }
            if (hit) {
                any++;
            }
        }
        if (labelled != windowCount) {
            throw new IllegalStateException(
                    "oracle pass: " + labelled + " labelled samples for " + windowCount + " windows");
        }
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("oracle_accuracy", round((double) any / labelled, 4));
        double[] acc = new double[k];
        for (int i = 0; i < k; i++) {
            acc[i] = round((double) perStage[i] / labelled, 4);
        }
        o.put("accuracy_per_stage", acc);
        o.put("windows", labelled);
        System.out.printf(
                Locale.ROOT,
                "oracle (any stage right) %.4f; per stage %s; on %d windows%n",
                (double) any / labelled,
                java.util.Arrays.toString(acc),
                labelled);
        return o;
    }

    /**
     * The cheapest thresholds whose expected accuracy on the bundle's calibration (validation) windows is within
     * {@code maxLoss} of full depth: what the controller's accuracy floor would command, fixed for the run.
     */
    private static ThresholdUpdate floorThresholds(ModelBundle bundle, double maxLoss) {
        ControllerSeed seed = ControllerSeed.fromBundle(bundle, 100_000);
        BudgetSolver solver = new BudgetSolver();
        double full = BudgetSolver.fullDepthAccuracy(seed.samples());
        ExitPlan plan = solver.cheapestWithAccuracy(
                seed.samples(), seed.stageCostNanos(), full - maxLoss, seed.initialThresholds());
        List<Float> t = new ArrayList<>();
        for (double v : plan.thresholds()) {
            t.add((float) v);
        }
        String reason = String.format(
                Locale.ROOT,
                "cheapest thresholds within %.4f of full-depth accuracy %.4f on the "
                        + "calibration split: expected accuracy %.4f, expected cost %.0f ns/event",
                maxLoss,
                full,
                plan.expectedAccuracy(),
                plan.expectedCost());
        System.out.println("CASCADE_FLOOR thresholds " + t + ": " + reason);
        return ThresholdUpdate.newBuilder()
                .setModelId(seed.modelId())
                .setModelVersion(seed.modelVersion())
                .setUpdateVersion(1)
                .setThresholds(t)
                .setReason(reason)
                .setTimestampMillis(System.currentTimeMillis())
                .setMeasurement(null)
                .build();
    }

    private static Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("java", System.getProperty("java.version"));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    m.put("cpu", line.substring(line.indexOf(':') + 1).trim());
                    break;
                }
            }
        } catch (IOException e) {
            m.put("cpu", "unknown (" + e.getMessage() + ")");
        }
        return m;
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    /** Event i -> window i mod W (windows built once per JVM). */
    static final class WindowAt extends RichMapFunction<Long, InferenceRequest> {
        private static final long serialVersionUID = 1L;

        private final int size;
        private final int slide;
        private transient List<InferenceRequest> windows;

        WindowAt(int size, int slide) {
            this.size = size;
            this.slide = slide;
        }

        @Override
        public void open(OpenContext ctx) {
            windows = TestSplitWindows.get(SENSORS, READINGS_PER_SENSOR, size, slide);
        }

        @Override
        public InferenceRequest map(Long i) {
            InferenceRequest w = windows.get((int) (i % windows.size()));
            return new InferenceRequest(w.eventId + "#" + i, w.key, w.eventTime, w.input, w.label);
        }
    }

    /** Feeds the current {@link RunRecorder} (same JVM as the MiniCluster). */
    static final class RecordPredictions extends ProcessFunction<Prediction, Prediction> {
        private static final long serialVersionUID = 1L;

        @Override
        public void processElement(Prediction p, Context ctx, Collector<Prediction> out) {
            long micros = 0;
            for (Long l : p.getStageLatencyMicros()) {
                micros += l;
            }
            RunRecorder.current()
                    .record(
                            p.getExitStage(),
                            p.getLabel() != null,
                            p.getPredictedClass().equals(p.getLabel()),
                            micros / 1000.0,
                            p.getThresholdVersion());
        }
    }

    /** Collects StageStats samples of the oracle pass. */
    static final class StageSampleSink extends ProcessFunction<StageStats, StageStats> {
        private static final long serialVersionUID = 1L;

        private static final List<StageSample> SAMPLES = new ArrayList<>();

        static synchronized void clear() {
            SAMPLES.clear();
        }

        static synchronized List<StageSample> samples() {
            return new ArrayList<>(SAMPLES);
        }

        @Override
        public void processElement(StageStats s, Context ctx, Collector<StageStats> out) {
            synchronized (StageSampleSink.class) {
                SAMPLES.addAll(s.getSamples());
            }
        }
    }
}
