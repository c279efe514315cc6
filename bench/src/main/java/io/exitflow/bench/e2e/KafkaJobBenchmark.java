package io.exitflow.bench.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.sun.management.OperatingSystemMXBean;
import io.exitflow.bench.BenchArgs;
import io.exitflow.jobs.anomaly.SensorAnomalyJob;
import io.exitflow.jobs.common.JobConfig;
import io.exitflow.jobs.common.JobOptions;
import io.exitflow.jobs.demo.EmbeddedKafka;
import io.exitflow.jobs.demo.TopicReader;
import io.exitflow.jobs.simulator.RateSchedule;
import io.exitflow.jobs.simulator.StreamSimulator;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.schemas.Prediction;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The whole anomaly job per mode, Kafka to Kafka: the test split's sensors are written once to a topic of an
 * in-process broker; then, for each mode, {@link SensorAnomalyJob} runs bounded over that topic (decoding,
 * validation, event-time window assembly, inference, exactly-once sinks) on a local MiniCluster, and its
 * predictions are read back. Rates are over the job's whole run (start-up and the final checkpoint included);
 * CPU is the whole process (broker included), and is also split by thread role ({@link ThreadCpuSplit}). Every
 * mode first runs unreported {@code --warmup-passes} times (default 1), so the measured runs pay less for JIT
 * compilation (which the split shows). {@code ROW_FULL_DEPTH} is {@code FULL_DEPTH} at batch size 1: one call of the
 * bundle's whole-model graph per window, what a plain Flink + ONNX job does. Early-exit rows also get the speedup their
 * exit mix and the bundle's stage costs predict ({@link PredictedSpeedup}) beside the measured one.
 *
 * <pre>bench/e2e.sh kafka [--readings-per-sensor 30000] [--parallelism 1] [--warmup-passes 1]
 *                    [--modes ROW_FULL_DEPTH,ROW_AT_A_TIME,FULL_DEPTH,CASCADE,SPLIT]</pre>
 */
public final class KafkaJobBenchmark {
    private static final int SENSORS = 16;
    private static final OperatingSystemMXBean OS =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private KafkaJobBenchmark() {}

    private static final ConfigOption<String> BUNDLE = ConfigOptions.key("bench.bundle")
            .stringType()
            .defaultValue("models/sensor-cnn")
            .withDescription("Model bundle directory.");
    private static final ConfigOption<Integer> READINGS_PER_SENSOR = ConfigOptions.key("bench.readings-per-sensor")
            .intType()
            .defaultValue(30_000)
            .withDescription("Readings each test-split sensor sends per pass.");
    private static final ConfigOption<Integer> PARALLELISM =
            ConfigOptions.key("bench.parallelism").intType().defaultValue(1).withDescription("Parallelism of the job.");
    private static final ConfigOption<Integer> WARMUP_PASSES = ConfigOptions.key("bench.warmup-passes")
            .intType()
            .defaultValue(1)
            .withDescription("Passes run before the measured one.");
    private static final ConfigOption<String> MODES = ConfigOptions.key("bench.modes")
            .stringType()
            .defaultValue("ROW_FULL_DEPTH,ROW_AT_A_TIME,FULL_DEPTH,CASCADE,SPLIT")
            .withDescription("Modes to run, comma-separated: EarlyExit.Mode names and ROW_FULL_DEPTH.");
    private static final ConfigOption<String> OBJECT_REUSE = ConfigOptions.key("bench.object-reuse")
            .stringType()
            .defaultValue("on")
            .withDescription("Object reuse of the job (on, as the jobs set it; off, Flink's default, every record "
                    + "deep-copied between chained operators); on,off runs each mode both ways, side by side.");
    private static final ConfigOption<String> OUT = ConfigOptions.key("bench.out")
            .stringType()
            .defaultValue("bench/target-e2e/e2e-kafka.json")
            .withDescription("Where the results go (JSON).");

    public static void main(String[] args) throws Exception {
        Optional<BenchArgs> a = BenchArgs.parse(
                args,
                "bench/e2e.sh kafka [--name value ...]",
                List.of(BUNDLE, READINGS_PER_SENSOR, PARALLELISM, WARMUP_PASSES, MODES, OBJECT_REUSE, OUT));
        if (a.isEmpty()) {
            return;
        }
        String bundle = a.get().get(BUNDLE);
        int readingsPerSensor = a.get().get(READINGS_PER_SENSOR);
        int parallelism = a.get().get(PARALLELISM);
        int warmupPasses = a.get().get(WARMUP_PASSES);
        String modes = a.get().get(MODES);
        List<String> reuses = Arrays.stream(a.get().get(OBJECT_REUSE).split(","))
                .map(String::trim)
                .toList();
        for (String r : reuses) {
            if (!r.equals("on") && !r.equals("off")) {
                throw new IllegalArgumentException("--object-reuse takes on, off or on,off; got '" + r + "'");
            }
        }
        Path out = Path.of(a.get().get(OUT));
        Path bundleDir = Path.of(bundle).toAbsolutePath();
        Manifest manifest = ModelBundle.load(bundleDir).manifest();
        long readings = (long) SENSORS * readingsPerSensor;
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("date", Instant.now().toString());
        report.put("cores", Runtime.getRuntime().availableProcessors());
        report.put("bundle", manifest.modelId() + " " + manifest.modelVersion());
        report.put("readings", readings);
        report.put("parallelism", parallelism);
        List<Map<String, Object>> rows = new ArrayList<>();
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(4, "readings");
            try (StreamSimulator sim = new StreamSimulator(
                    new StreamSimulator.Settings()
                            .bootstrapServers(kafka.bootstrapServers())
                            .topic("readings")
                            .schedule(RateSchedule.parse("100000000"))
                            .sensors(SENSORS)
                            .badShare(0)
                            .maxEvents(readings),
                    null)) {
                sim.run();
            }
            System.out.printf(
                    Locale.ROOT,
                    "wrote %d readings of %d test sensors; bundle %s; parallelism %d%n",
                    readings,
                    SENSORS,
                    manifest.modelId(),
                    parallelism);
            // The first runs pay for class loading, ONNX Runtime start-up and JIT compilation, and each mode runs
            // operators of its own: every mode runs unreported warmupPasses times before the measured pass.
            List<String> runs = new ArrayList<>();
            for (int pass = 0; pass <= warmupPasses; pass++) {
                for (String m : modes.split(",")) {
                    for (String r : reuses) {
                        runs.add((pass < warmupPasses ? "warmup" + pass + "-" : "")
                                + m.trim()
                                + (reuses.size() > 1 ? "@reuse-" + r : ""));
                    }
                }
            }
            for (String run : runs) {
                boolean warmup = run.startsWith("warmup");
                String label = warmup ? run.substring(run.indexOf('-') + 1) : run;
                String mode = label.contains("@") ? label.substring(0, label.indexOf('@')) : label;
                boolean reuseOff = label.endsWith("@reuse-off")
                        || (reuses.size() == 1 && reuses.get(0).equals("off"));
                String suffix = run.toLowerCase(Locale.ROOT).replace('@', '-');
                kafka.createTopics(2, "predictions-" + suffix, "alerts-" + suffix, "dead-letters-" + suffix);
                Map<ConfigOption<?>, Object> s = new LinkedHashMap<>();
                s.put(JobOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
                s.put(JobOptions.BUNDLE, bundleDir.toString());
                s.put(JobOptions.INPUT_TOPIC, "readings");
                s.put(JobOptions.PREDICTION_TOPIC, "predictions-" + suffix);
                s.put(JobOptions.ALERT_TOPIC, "alerts-" + suffix);
                s.put(JobOptions.DEAD_LETTER_TOPIC, "dead-letters-" + suffix);
                s.put(JobOptions.STATS_TOPIC, "");
                s.put(JobOptions.CONTROL_TOPIC, "");
                s.put(JobOptions.GROUP_ID, "bench-" + suffix);
                s.put(JobOptions.TRANSACTIONAL_ID_PREFIX, "bench-" + suffix);
                s.put(JobOptions.STARTING_OFFSETS, "earliest");
                s.put(JobOptions.BOUNDED, true);
                s.put(JobOptions.CHECKPOINT_INTERVAL_MS, 2000L);
                boolean rowFull = mode.equals("ROW_FULL_DEPTH");
                s.put(JobOptions.MODE, rowFull ? "FULL_DEPTH" : mode);
                if (rowFull) {
                    s.put(JobOptions.MAX_BATCH_SIZE, 1);
                }
                s.put(
                        JobOptions.CHECKPOINT_DIR,
                        Files.createTempDirectory("e2e-ckpt").toUri().toString());
                StreamExecutionEnvironment env =
                        StreamExecutionEnvironment.createLocalEnvironment(parallelism, new Configuration());
                SensorAnomalyJob.build(env, JobConfig.of(s));
                if (reuseOff) {
                    env.getConfig().disableObjectReuse(); // before: Flink's default, a deep copy per chained operator
                }
                long t0 = System.nanoTime();
                long cpu0 = OS.getProcessCpuTime();
                ThreadCpuSplit split = ThreadCpuSplit.start();
                try {
                    env.execute("e2e kafka " + mode);
                } finally {
                    split.close();
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                long cpu = OS.getProcessCpuTime() - cpu0;

                long windows = 0;
                long correct = 0;
                long[] exits = new long[manifest.numStages()];
                List<Double> latency = new ArrayList<>();
                // Read until 10 s pass without a record: on a loaded machine a 2 s gap between fetches happened.
                try (TopicReader<Prediction> r =
                        new TopicReader<>(kafka.bootstrapServers(), "predictions-" + suffix, Prediction.class)) {
                    for (Prediction p : r.readUntilQuiet(Duration.ofSeconds(10))) {
                        windows++;
                        correct += p.getPredictedClass().equals(p.getLabel()) ? 1 : 0;
                        exits[p.getExitStage()]++;
                        latency.add(p.getStageLatencyMicros().stream()
                                        .mapToLong(Long::longValue)
                                        .sum()
                                / 1000.0);
                    }
                }
                long expected = SENSORS * ((readingsPerSensor - 128L) / 32 + 1);
                if (windows != expected) {
                    throw new IllegalStateException(
                            mode + ": " + windows + " predictions committed, expected " + expected + " windows");
                }
                double[] lat = latency.stream()
                        .mapToDouble(Double::doubleValue)
                        .sorted()
                        .toArray();
                Map<String, Double> perRole = new LinkedHashMap<>();
                for (Map.Entry<String, Long> e : split.split().entrySet()) {
                    perRole.put(e.getKey(), round(e.getValue() / 1e3 / windows, 1));
                }
                if (warmup) {
                    System.out.printf(
                            Locale.ROOT,
                            "warm-up run %s (not reported): %.1f s, %.1f us CPU/window (JIT" + " compilers %.1f)%n",
                            run,
                            seconds,
                            cpu / 1e3 / windows,
                            perRole.getOrDefault("JVM: JIT compilers", 0.0));
                    continue;
                }
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("mode", mode);
                row.put("object_reuse", !reuseOff);
                row.put("seconds", round(seconds, 2));
                row.put("readings_per_s", Math.round(readings / seconds));
                row.put("windows_per_s", Math.round(windows / seconds));
                row.put("cpu_us_per_window", round(cpu / 1e3 / windows, 1));
                row.put("operator_latency_ms_p50", round(quantile(lat, 0.5), 3));
                row.put("operator_latency_ms_p99", round(quantile(lat, 0.99), 3));
                row.put("windows", windows);
                row.put("accuracy", round((double) correct / windows, 4));
                row.put("exits", exits);
                row.put("cpu_us_per_window_by_thread", perRole);
                row.put("gc_ms", split.gcMillisSinceStart());
                rows.add(row);
                System.out.printf(
                        Locale.ROOT,
                        "%-14s %6.1f s  %8.0f readings/s  %6.0f windows/s  %7.1f us CPU/window"
                                + "  p50 %.3f ms  p99 %.3f ms  acc %.4f  exits %s%n",
                        label,
                        seconds,
                        readings / seconds,
                        windows / seconds,
                        cpu / 1e3 / windows,
                        quantile(lat, 0.5),
                        quantile(lat, 0.99),
                        (double) correct / windows,
                        Arrays.toString(exits));
                perRole.forEach((role, us) -> System.out.printf(Locale.ROOT, "    %7.1f us/window  %s%n", us, role));
                System.out.printf(Locale.ROOT, "    GC time %d ms%n", split.gcMillisSinceStart());
            }
        }
        PredictedSpeedup.annotate(rows, manifest, "windows_per_s");
        report.put("runs", rows);
        Files.createDirectories(out.toAbsolutePath().getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.toFile(), report);
        System.out.println("written " + out);
    }

    private static double quantile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.max(0, Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1))];
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }
}
