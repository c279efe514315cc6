package io.exitflow.bench.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.sun.management.OperatingSystemMXBean;
import io.exitflow.bench.BenchArgs;
import io.exitflow.jobs.anomaly.SensorAnomalyJob;
import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.jobs.common.InvalidRecordException;
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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * The whole anomaly job per mode, Kafka to Kafka: the test split's sensors are written once to a topic of an
 * in-process broker; then, for each mode, {@link SensorAnomalyJob} runs bounded over that topic (decoding,
 * validation, event-time window assembly, inference, exactly-once sinks) on a local MiniCluster, and its
 * predictions are read back. The measured span of a run starts at a mark inside it, once {@code --measure-from}
 * (default 0.3) of the expected windows have been written to the prediction topic (read uncommitted, so the mark
 * does not wait for a checkpoint's commit), and ends when the last has been written: start-up, the first JIT
 * compilation and the job's shutdown (final checkpoint, commit) stay outside it. Windows/s, CPU per window (the whole
 * process, broker included, and split by thread role, {@link ThreadCpuSplit}), accuracy, exits per stage and
 * in-operator latency are over the windows written after the mark (those at or past the prediction topic's offsets
 * at the mark); the whole run's rate, CPU and accuracy are reported beside them, and so is the JIT compilers' share
 * of the measured CPU, with a warning when it is over a tenth ({@value ThreadCpuSplit#JIT_SHARE_LIMIT}), and the CPU per window
 * without them (JIT compilation is a cost a long-running job stops paying; on a loaded 2-core machine the compilers
 * still took about a quarter of the CPU 40 s into one job, so the mark alone does not remove it). {@code --measure-from 0}
 * measures the whole run, as before the mark. Every mode also first runs unreported {@code --warmup-passes} times
 * (default 1). {@code ROW_FULL_DEPTH} is {@code FULL_DEPTH} at batch size 1: one call of the
 * bundle's whole-model graph per window, what a plain Flink + ONNX job does. Early-exit rows also get the speedup their
 * exit mix and the bundle's stage costs predict ({@link PredictedSpeedup}) beside the measured one.
 *
 * <pre>bench/e2e.sh kafka [--bundle models/sensor-cnn] [--readings-per-sensor 30000] [--parallelism 1]
 *                    [--warmup-passes 1] [--measure-from 0.3] [--object-reuse on]
 *                    [--modes ROW_FULL_DEPTH,ROW_AT_A_TIME,FULL_DEPTH,CASCADE,SPLIT]</pre>
 */
public final class KafkaJobBenchmark {
    private static final int SENSORS = 16;
    private static final OperatingSystemMXBean OS =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /** How long the progress reader waits in one poll (and the broker in one fetch): the mark's resolution. */
    private static final Duration PROGRESS_POLL = Duration.ofMillis(10);
    /** Longest wait for the committed predictions to be read back after a run. */
    private static final Duration READ_TIMEOUT = Duration.ofMinutes(2);

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
    private static final ConfigOption<Double> MEASURE_FROM = ConfigOptions.key("bench.measure-from")
            .doubleType()
            .defaultValue(0.3)
            .withDescription("Share of the expected windows written to the prediction topic at which the measured "
                    + "span starts (start-up and the first JIT compilation before it); 0 measures the whole run.");
    private static final ConfigOption<String> OUT = ConfigOptions.key("bench.out")
            .stringType()
            .defaultValue("bench/target-e2e/e2e-kafka.json")
            .withDescription("Where the results go (JSON).");

    public static void main(String[] args) throws Exception {
        Optional<BenchArgs> a = BenchArgs.parse(
                args,
                "bench/e2e.sh kafka [--name value ...]",
                List.of(
                        BUNDLE,
                        READINGS_PER_SENSOR,
                        PARALLELISM,
                        WARMUP_PASSES,
                        MODES,
                        OBJECT_REUSE,
                        MEASURE_FROM,
                        OUT));
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
        double measureFrom = a.get().get(MEASURE_FROM);
        Path out = Path.of(a.get().get(OUT));
        Path bundleDir = Path.of(bundle).toAbsolutePath();
        Manifest manifest = ModelBundle.load(bundleDir).manifest();
        long readings = (long) SENSORS * readingsPerSensor;
        int windowSize = manifest.input().window().size();
        int slide = manifest.input().window().slide();
        long expected = SENSORS * ((readingsPerSensor - (long) windowSize) / slide + 1);
        long markAt = markCount(expected, measureFrom);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("date", Instant.now().toString());
        report.put("cores", Runtime.getRuntime().availableProcessors());
        report.put("bundle", manifest.modelId() + " " + manifest.modelVersion());
        report.put("readings", readings);
        report.put("parallelism", parallelism);
        report.put("measure_from", measureFrom);
        report.put("windows_expected", expected);
        report.put("mark_at_windows", markAt);
        List<Map<String, Object>> rows = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
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
                s.put(JobOptions.CHECKPOINT_INTERVAL, Duration.ofSeconds(2));
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
                String predictionTopic = "predictions-" + suffix;
                long t0 = System.nanoTime();
                long cpu0 = OS.getProcessCpuTime();
                ThreadCpuSplit split = ThreadCpuSplit.start();
                ProgressMark mark = markAt > 0
                        ? ProgressMark.start(kafka.bootstrapServers(), predictionTopic, markAt, expected, split)
                        : null;
                try {
                    env.execute("e2e kafka " + mode);
                } finally {
                    try {
                        if (mark != null) {
                            mark.stop();
                        }
                    } finally {
                        split.close();
                    }
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                long cpu = OS.getProcessCpuTime() - cpu0;

                Tally whole = new Tally(manifest.numStages());
                Tally measured = new Tally(manifest.numStages());
                for (Written w : readCommitted(kafka.bootstrapServers(), predictionTopic)) {
                    Prediction p = w.prediction();
                    boolean right = p.getPredictedClass().equals(p.getLabel());
                    double latencyMs = p.getStageLatencyMicros().stream()
                                    .mapToLong(Long::longValue)
                                    .sum()
                            / 1000.0;
                    whole.add(p.getExitStage(), right, latencyMs);
                    if (mark == null || afterMark(mark.positions(), w.partition(), w.offset())) {
                        measured.add(p.getExitStage(), right, latencyMs);
                    }
                }
                if (whole.windows != expected) {
                    throw new IllegalStateException(
                            mode + ": " + whole.windows + " predictions committed, expected " + expected + " windows");
                }
                double spanSeconds = mark == null ? seconds : mark.seconds();
                long spanCpu = mark == null ? cpu : split.processCpuNanos();
                if (measured.windows == 0) {
                    throw new IllegalStateException(mode + ": no window was written after the mark at " + markAt
                            + " of " + expected + " windows; lower --measure-from or raise --readings-per-sensor");
                }
                List<String> rowWarnings = new ArrayList<>();
                if (mark != null && measured.windows != expected - mark.countAtMark()) {
                    // records read uncommitted but never committed: the job aborted a transaction (a restart)
                    rowWarnings.add(String.format(
                            Locale.ROOT,
                            "WARNING %s: %d windows committed after the mark, but %d were written after it: the job "
                                    + "aborted written predictions (a restart?), so the span's end came early",
                            run,
                            measured.windows,
                            expected - mark.countAtMark()));
                }
                ThreadCpuSplit.PerWindow cpuPerWindow = split.perWindow(spanCpu, measured.windows);
                if (!warmup) { // a warm-up run is there to pay for the JIT
                    cpuPerWindow
                            .jitWarning(run, "run longer (--readings-per-sensor) or mark later (--measure-from)")
                            .ifPresent(rowWarnings::add);
                }
                if (warmup) {
                    System.out.printf(
                            Locale.ROOT,
                            "warm-up run %s (not reported): %.1f s, %.1f us CPU/window over the whole run; after the "
                                    + "mark %.1f us CPU/window, JIT compilers %.1f%% of it%n",
                            run,
                            seconds,
                            cpu / 1e3 / whole.windows,
                            cpuPerWindow.cpuUs(),
                            100 * cpuPerWindow.jitShare());
                    rowWarnings.forEach(w -> System.out.println("!!!! " + w));
                    continue;
                }
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("mode", mode);
                row.put("object_reuse", !reuseOff);
                row.put("measure_from", measureFrom);
                row.put("seconds", round(spanSeconds, 2));
                row.put("readings_per_s", Math.round(measured.windows * (double) slide / spanSeconds));
                row.put("windows_per_s", Math.round(measured.windows / spanSeconds));
                cpuPerWindow.putInto(row);
                row.put("operator_latency_ms_p50", round(measured.latencyQuantile(0.5), 3));
                row.put("operator_latency_ms_p99", round(measured.latencyQuantile(0.99), 3));
                row.put("windows", measured.windows);
                row.put("accuracy", round(measured.accuracy(), 4));
                row.put("exits", measured.exits);
                row.put("gc_ms", split.gcMillisSinceStart());
                Map<String, Object> wholeRun = new LinkedHashMap<>();
                wholeRun.put("seconds", round(seconds, 2));
                wholeRun.put("windows", whole.windows);
                wholeRun.put("readings_per_s", Math.round(readings / seconds));
                wholeRun.put("windows_per_s", Math.round(whole.windows / seconds));
                wholeRun.put("cpu_us_per_window", round(cpu / 1e3 / whole.windows, 1));
                wholeRun.put("accuracy", round(whole.accuracy(), 4));
                wholeRun.put("exits", whole.exits);
                row.put("whole_run", wholeRun);
                rows.add(row);
                System.out.printf(
                        Locale.ROOT,
                        "%-14s %s: %6.1f s  %8.0f readings/s  %6.0f windows/s  %7.1f us CPU/window"
                                + "  p50 %.3f ms  p99 %.3f ms  acc %.4f  exits %s%n",
                        label,
                        mark == null
                                ? "whole run (--measure-from 0)"
                                : String.format(
                                        Locale.ROOT,
                                        "after the mark (%d of %d windows written)",
                                        mark.countAtMark(),
                                        expected),
                        spanSeconds,
                        measured.windows * (double) slide / spanSeconds,
                        measured.windows / spanSeconds,
                        spanCpu / 1e3 / measured.windows,
                        measured.latencyQuantile(0.5),
                        measured.latencyQuantile(0.99),
                        measured.accuracy(),
                        Arrays.toString(measured.exits));
                System.out.printf(
                        Locale.ROOT,
                        "    whole run: %.1f s  %.0f windows/s  %.1f us CPU/window  acc %.4f  exits %s%n",
                        seconds,
                        whole.windows / seconds,
                        cpu / 1e3 / whole.windows,
                        whole.accuracy(),
                        Arrays.toString(whole.exits));
                cpuPerWindow
                        .byRoleUs()
                        .forEach((role, us) -> System.out.printf(Locale.ROOT, "    %7.1f us/window  %s%n", us, role));
                System.out.printf(Locale.ROOT, "    GC time %d ms%n", split.gcMillisSinceStart());
                System.out.printf(
                        Locale.ROOT,
                        "    JIT compilers: %.1f%% of the measured CPU (without them %.1f us CPU/window)%n",
                        100 * cpuPerWindow.jitShare(),
                        cpuPerWindow.cpuUsWithoutJit());
                rowWarnings.forEach(w -> System.out.println("!!!! " + w));
                if (!rowWarnings.isEmpty()) {
                    row.put("warnings", rowWarnings);
                    warnings.addAll(rowWarnings);
                }
            }
        }
        PredictedSpeedup.annotate(rows, manifest, "windows_per_s");
        for (Map<String, Object> row : rows) {
            if (row.containsKey("predicted_speedup_from_stage_costs")) {
                System.out.printf(
                        Locale.ROOT,
                        "%-14s predicted speedup %sx (the bundle's stage costs and this exit mix), measured vs"
                                + " FULL_DEPTH %sx, measured/predicted %s%n",
                        row.get("mode"),
                        row.get("predicted_speedup_from_stage_costs"),
                        row.getOrDefault("measured_speedup_vs_FULL_DEPTH", "-"),
                        row.getOrDefault("measured_over_predicted", "-"));
            }
        }
        report.put("runs", rows);
        Files.createDirectories(out.toAbsolutePath().getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.toFile(), report);
        System.out.println("written " + out);
        warnings.forEach(w -> System.out.println("!!!! " + w));
    }

    /**
     * The count of windows written at which the measured span starts: {@code ceil(share * expected)}; 0 (the whole
     * run) for share 0.
     *
     * @throws IllegalArgumentException naming {@code --measure-from} when the share is not in [0, 1)
     */
    static long markCount(long expected, double share) {
        if (!(share >= 0 && share < 1)) {
            throw new IllegalArgumentException(
                    "--measure-from must be in [0, 1) (a share of the expected windows), got " + share);
        }
        return (long) Math.ceil(share * expected);
    }

    /**
     * Whether the record at {@code offset} of {@code partition} was written after the mark: at or past the reader's
     * position in that partition when the mark was taken ({@code positions}, by partition; a partition it had not read
     * from counts from offset 0).
     */
    static boolean afterMark(Map<Integer, Long> positions, int partition, long offset) {
        return offset >= positions.getOrDefault(partition, 0L);
    }

    /** Windows seen, right answers, exits per stage and in-operator latencies (ms) of some predictions. */
    static final class Tally {
        long windows;
        long correct;
        final long[] exits;
        private final List<Double> latencyMs = new ArrayList<>();

        Tally(int stages) {
            exits = new long[stages];
        }

        void add(int exitStage, boolean right, double latencyMillis) {
            windows++;
            correct += right ? 1 : 0;
            exits[Math.min(exits.length - 1, Math.max(0, exitStage))]++;
            latencyMs.add(latencyMillis);
        }

        double accuracy() {
            return windows == 0 ? Double.NaN : (double) correct / windows;
        }

        /** The q-quantile of the latencies (nearest rank), NaN when there are none. */
        double latencyQuantile(double q) {
            double[] sorted =
                    latencyMs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            if (sorted.length == 0) {
                return Double.NaN;
            }
            return sorted[Math.max(0, Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1))];
        }
    }

    /** A prediction and where it lies in its topic. */
    private record Written(int partition, long offset, Prediction prediction) {}

    /** Every committed prediction of {@code topic} with its partition and offset (the job has finished). */
    private static List<Written> readCommitted(String bootstrapServers, String topic) {
        Properties p = TopicReader.byteConsumer(bootstrapServers, "read_committed");
        AvroCodec<Prediction> codec = AvroCodec.of(Prediction.class);
        List<Written> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> partitions = partitions(c, topic);
            c.assign(partitions);
            c.seekToBeginning(partitions);
            // read_committed: the end offsets are the last stable offsets, everything the job committed
            Map<TopicPartition, Long> end = c.endOffsets(partitions, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
            while (partitions.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "reading " + topic + " back: not at its end offsets " + end + " within " + READ_TIMEOUT);
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    try {
                        out.add(new Written(r.partition(), r.offset(), codec.decode(r.value())));
                    } catch (InvalidRecordException e) {
                        throw new IllegalStateException(
                                topic + " partition " + r.partition() + " offset " + r.offset() + ": " + e.getMessage(),
                                e);
                    }
                }
            }
        }
        return out;
    }

    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> c, String topic) {
        List<TopicPartition> out = new ArrayList<>();
        for (PartitionInfo info : c.partitionsFor(topic, Duration.ofSeconds(30))) {
            out.add(new TopicPartition(topic, info.partition()));
        }
        return out;
    }

    /**
     * Watches a run's prediction topic from its own thread ({@code bench-progress-reader}, a role of its own in the
     * CPU split) with a {@code read_uncommitted} consumer, counting records as the job writes them; takes the mark
     * ({@link ThreadCpuSplit#mark()}, the time, the consumer's position per partition) once {@code markAt} have been
     * written and ends the span ({@link ThreadCpuSplit#end()}) once {@code expected} have.
     */
    private static final class ProgressMark {
        private final KafkaConsumer<byte[], byte[]> consumer;
        private final long markAt;
        private final long expected;
        private final ThreadCpuSplit split;
        private final Thread thread;
        private final Map<Integer, Long> positions = new HashMap<>();
        private volatile boolean running = true;
        private volatile RuntimeException failure;
        private long count;
        private long countAtMark = -1;
        private long markNanos;
        private long endNanos;

        private ProgressMark(String bootstrapServers, String topic, long markAt, long expected, ThreadCpuSplit split) {
            Properties p = TopicReader.byteConsumer(bootstrapServers, "read_uncommitted");
            p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, String.valueOf(PROGRESS_POLL.toMillis()));
            this.consumer = new KafkaConsumer<>(p);
            List<TopicPartition> partitions = partitions(consumer, topic);
            if (partitions.isEmpty()) {
                consumer.close();
                throw new IllegalStateException("topic " + topic + " has no partitions: nothing to watch");
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            this.markAt = markAt;
            this.expected = expected;
            this.split = split;
            this.thread = new Thread(this::watch, "bench-progress-reader-" + topic);
        }

        static ProgressMark start(
                String bootstrapServers, String topic, long markAt, long expected, ThreadCpuSplit split) {
            ProgressMark m = new ProgressMark(bootstrapServers, topic, markAt, expected, split);
            m.thread.start();
            return m;
        }

        private void watch() {
            try {
                while (running) {
                    count += consumer.poll(PROGRESS_POLL).count();
                    if (countAtMark < 0 && count >= markAt) {
                        split.mark();
                        markNanos = System.nanoTime();
                        countAtMark = count;
                        for (TopicPartition tp : consumer.assignment()) {
                            positions.put(tp.partition(), consumer.position(tp));
                        }
                    }
                    if (countAtMark >= 0 && count >= expected) {
                        split.end();
                        endNanos = System.nanoTime();
                        return;
                    }
                }
            } catch (RuntimeException e) {
                failure = e;
            } finally {
                consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
            }
        }

        /** Stops watching (the job has finished); fails when the reader failed or never saw the span's end. */
        void stop() throws InterruptedException {
            running = false;
            thread.join();
            if (failure != null) {
                throw new IllegalStateException("the progress reader failed: " + failure.getMessage(), failure);
            }
            if (endNanos == 0) {
                throw new IllegalStateException("the job ended with " + count + " of " + expected
                        + " windows written (mark at " + markAt + "): the measured span has no end");
            }
        }

        /** Windows written when the mark was taken. */
        long countAtMark() {
            return countAtMark;
        }

        /** The reader's position per partition at the mark: records at or past them were written after it. */
        Map<Integer, Long> positions() {
            return positions;
        }

        /** Seconds from the mark to the last window written. */
        double seconds() {
            return (endNanos - markNanos) / 1e9;
        }
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }
}
