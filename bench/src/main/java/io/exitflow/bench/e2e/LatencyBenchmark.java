package io.exitflow.bench.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.sun.management.OperatingSystemMXBean;
import io.exitflow.bench.BenchArgs;
import io.exitflow.jobs.anomaly.SensorAnomalyJob;
import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.jobs.common.JobConfig;
import io.exitflow.jobs.common.JobOptions;
import io.exitflow.jobs.demo.EmbeddedKafka;
import io.exitflow.jobs.simulator.RateSchedule;
import io.exitflow.jobs.simulator.StreamSimulator;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.schemas.Prediction;
import io.exitflow.schemas.SensorReading;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Latency under load (issue 13 item 5): the whole anomaly job, Kafka to Kafka, fed by the simulator at a fixed rate
 * ({@link io.exitflow.jobs.simulator.FixedRatePacer}: no catch-up bursts) of given shares of each mode's measured
 * capacity, with exactly-once and at-least-once sinks. First the capacities: the job (at-least-once) started
 * unbounded on a backlog of readings, the rate at which it made predictions visible between 20% and 80% of the
 * backlog (start-up excluded), in readings/s. Every mode's job runs {@code --capacity-warmup-rounds} times unreported
 * (JIT compilation, class loading), then {@code --capacity-rounds} times, the modes taking turns within a round and
 * every other round in reverse order ({@link #roundOrder}), so that the JVM still warming up, or a change in the
 * machine's load, falls on all of them alike; a mode's capacity is the median of its rounds. Each
 * round also reports the rate in each tenth of the backlog from 10% to 90%, the process CPU per window of its span,
 * and the JIT compilers' share of it (a warning over a tenth). Then per mode and delivery guarantee one job runs
 * while the simulator sends each load share for a warm-up and a measured span. For every window whose last reading
 * was sent in a measured span:
 * <ul>
 *   <li>total: from that reading's send to its prediction read by a {@code read_committed} consumer;</li>
 *   <li>operators: from the send to the prediction's append to the output topic (the topic stamps
 *       {@code LogAppendTime}): Kafka in, decoding, the watermark, window assembly, inference, the sink's send;</li>
 *   <li>stages: the part of it in the early-exit stages (the prediction's {@code stageLatencyMicros}, summed);</li>
 *   <li>visible: from the append to the consumer (the exactly-once commit at the next checkpoint, or for
 *       at-least-once the consumer's fetch).</li>
 * </ul>
 * Broker, job and consumer share one process and clock. A latency row's CPU per window is the whole process's over
 * the windows sent: its fixed cost per second (broker, consumers, simulator, JIT) is spread over fewer windows at a
 * lower rate, so rows at different input rates do not compare by it; the capacity runs' CPU per window does.
 *
 * <p>Why the capacity is measured this way (issue 13 item 5): measured once per mode, in the order given, on a
 * backlog of 20,000 readings per sensor (a 1.5-4 s span), the first mode measured in the JVM came out at about half
 * of what it did later (JIT compilers 31-47% of the span's CPU), and each job ran faster than the one before it in
 * the same JVM, whatever its mode; CASCADE was first, so it seemed slower than FULL_DEPTH, against the bounded
 * whole-job runs.
 *
 * <pre>bench/e2e.sh latency [--bundle models/sensor-cnn] [--modes CASCADE,FULL_DEPTH] [--loads 0.5,0.9]
 *     [--guarantees exactly-once,at-least-once] [--warmup-seconds 15] [--measure-seconds 30]
 *     [--checkpoint-interval-ms 1000] [--capacity-readings-per-sensor 60000] [--capacity-warmup-rounds 1]
 *     [--capacity-rounds 3] [--capacity-only false]</pre>
 */
public final class LatencyBenchmark {
    private static final int SENSORS = 16;
    private static final int WINDOW = 128;
    private static final int SLIDE = 32;
    private static final OperatingSystemMXBean OS =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    /** Shares of the backlog between which a capacity run's rate is measured: start-up before, the tail after. */
    static final double CAPACITY_FROM = 0.2;

    static final double CAPACITY_TO = 0.8;
    /** The edges of the tenths of the backlog whose rates a capacity run reports (10% to 90%). */
    private static final double[] TENTHS = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
    /** Longest a capacity run may take to reach 90% of its backlog. */
    private static final Duration CAPACITY_TIMEOUT = Duration.ofMinutes(15);

    private static final ConfigOption<String> BUNDLE = ConfigOptions.key("bench.bundle")
            .stringType()
            .defaultValue("models/sensor-cnn")
            .withDescription("Model bundle directory.");
    private static final ConfigOption<String> MODES = ConfigOptions.key("bench.modes")
            .stringType()
            .defaultValue("CASCADE,FULL_DEPTH")
            .withDescription("Modes, comma-separated (EarlyExit.Mode names).");
    private static final ConfigOption<String> LOADS = ConfigOptions.key("bench.loads")
            .stringType()
            .defaultValue("0.5,0.9")
            .withDescription("Input rates as shares of each mode's capacity.");
    private static final ConfigOption<String> GUARANTEES = ConfigOptions.key("bench.guarantees")
            .stringType()
            .defaultValue("exactly-once,at-least-once")
            .withDescription("Delivery guarantees of the sinks.");
    private static final ConfigOption<Integer> WARMUP_SECONDS = ConfigOptions.key("bench.warmup-seconds")
            .intType()
            .defaultValue(15)
            .withDescription("Seconds at each load before the measured span.");
    private static final ConfigOption<Integer> MEASURE_SECONDS = ConfigOptions.key("bench.measure-seconds")
            .intType()
            .defaultValue(30)
            .withDescription("Measured seconds at each load.");
    private static final ConfigOption<Long> CHECKPOINT_INTERVAL_MS = ConfigOptions.key("bench.checkpoint-interval-ms")
            .longType()
            .defaultValue(1000L)
            .withDescription("The job's checkpoint interval (exactly-once output becomes visible at checkpoints).");
    private static final ConfigOption<Integer> CAPACITY_READINGS_PER_SENSOR = ConfigOptions.key(
                    "bench.capacity-readings-per-sensor")
            .intType()
            .defaultValue(60_000)
            .withDescription("Backlog per sensor the capacity of each mode is measured on (16 sensors; 60000 is "
                    + "29,952 windows).");
    private static final ConfigOption<Integer> CAPACITY_WARMUP_ROUNDS = ConfigOptions.key(
                    "bench.capacity-warmup-rounds")
            .intType()
            .defaultValue(1)
            .withDescription("Unreported capacity runs of every mode before the measured ones (JIT, class loading).");
    private static final ConfigOption<Integer> CAPACITY_ROUNDS = ConfigOptions.key("bench.capacity-rounds")
            .intType()
            .defaultValue(3)
            .withDescription(
                    "Measured capacity runs of every mode, the modes taking turns; the capacity is their " + "median.");
    private static final ConfigOption<Boolean> CAPACITY_ONLY = ConfigOptions.key("bench.capacity-only")
            .booleanType()
            .defaultValue(false)
            .withDescription("Measure the capacities only (no latency runs).");
    private static final ConfigOption<String> OUT = ConfigOptions.key("bench.out")
            .stringType()
            .defaultValue("bench/target-e2e/e2e-latency.json")
            .withDescription("Where the results go (JSON).");

    private LatencyBenchmark() {}

    public static void main(String[] args) throws Exception {
        java.util.Optional<BenchArgs> parsed = BenchArgs.parse(
                args,
                "bench/e2e.sh latency [--name value ...]",
                List.of(
                        BUNDLE,
                        MODES,
                        LOADS,
                        GUARANTEES,
                        WARMUP_SECONDS,
                        MEASURE_SECONDS,
                        CHECKPOINT_INTERVAL_MS,
                        CAPACITY_READINGS_PER_SENSOR,
                        CAPACITY_WARMUP_ROUNDS,
                        CAPACITY_ROUNDS,
                        CAPACITY_ONLY,
                        OUT));
        if (parsed.isEmpty()) {
            return;
        }
        BenchArgs a = parsed.get();
        Path bundleDir = Path.of(a.get(BUNDLE)).toAbsolutePath();
        Manifest manifest = ModelBundle.load(bundleDir).manifest();
        int warmup = a.get(WARMUP_SECONDS);
        int measure = a.get(MEASURE_SECONDS);
        int backlogPerSensor = a.get(CAPACITY_READINGS_PER_SENSOR);
        int capacityWarmupRounds = a.get(CAPACITY_WARMUP_ROUNDS);
        int capacityRounds = a.get(CAPACITY_ROUNDS);
        if (capacityWarmupRounds < 0) {
            throw new IllegalArgumentException("--capacity-warmup-rounds must be >= 0, got " + capacityWarmupRounds);
        }
        if (capacityRounds < 1) {
            throw new IllegalArgumentException("--capacity-rounds must be >= 1, got " + capacityRounds);
        }
        if (backlogPerSensor < WINDOW) {
            throw new IllegalArgumentException("--capacity-readings-per-sensor must be at least a window (" + WINDOW
                    + "), got " + backlogPerSensor);
        }
        List<String> modes = new ArrayList<>();
        for (String m : a.get(MODES).split(",")) {
            modes.add(m.trim());
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("date", Instant.now().toString());
        report.put("cores", Runtime.getRuntime().availableProcessors());
        report.put("bundle", manifest.modelId() + " " + manifest.modelVersion());
        report.put("checkpoint_interval_ms", a.get(CHECKPOINT_INTERVAL_MS));
        report.put("warmup_seconds", warmup);
        report.put("measure_seconds", measure);
        report.put("capacity_backlog_readings_per_sensor", backlogPerSensor);
        report.put("capacity_warmup_rounds", capacityWarmupRounds);
        report.put("capacity_rounds", capacityRounds);
        List<Map<String, Object>> rows = new ArrayList<>();
        List<Map<String, Object>> capacityRows = new ArrayList<>();
        Map<String, Double> capacities = new LinkedHashMap<>();
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(4, "backlog");
            try (StreamSimulator sim = new StreamSimulator(
                    new StreamSimulator.Settings()
                            .bootstrapServers(kafka.bootstrapServers())
                            .topic("backlog")
                            .schedule(RateSchedule.parse("1e8"))
                            .maxCatchUp(Duration.ofHours(1))
                            .sensors(SENSORS)
                            .badShare(0)
                            .maxEvents((long) SENSORS * backlogPerSensor),
                    null)) {
                sim.run();
            }
            long expected = (long) SENSORS * ((backlogPerSensor - WINDOW) / SLIDE + 1);
            Map<String, List<Double>> measuredRates = new LinkedHashMap<>();
            for (int round = 0; round < capacityWarmupRounds + capacityRounds; round++) {
                boolean warm = round < capacityWarmupRounds;
                for (String mode : roundOrder(modes, round)) {
                    Map<String, Object> row = capacityRun(
                            kafka,
                            bundleDir,
                            mode,
                            expected,
                            a.get(CHECKPOINT_INTERVAL_MS),
                            "cap-" + mode.toLowerCase(Locale.ROOT) + "-" + round,
                            warm ? "warm-up " + (round + 1) : "round " + (round - capacityWarmupRounds + 1));
                    if (!warm) {
                        capacityRows.add(row);
                        measuredRates
                                .computeIfAbsent(mode, k -> new ArrayList<>())
                                .add((Double) row.get("windows_per_s"));
                    }
                }
            }
            for (String mode : modes) {
                double windowsPerSecond = median(measuredRates.get(mode));
                capacities.put(mode, windowsPerSecond * SLIDE);
                System.out.printf(
                        Locale.ROOT,
                        "%s: capacity %.0f readings/s (%.0f windows/s: the median of %s)%n",
                        mode,
                        windowsPerSecond * SLIDE,
                        windowsPerSecond,
                        measuredRates.get(mode));
            }
            int run = 0;
            for (String mode : a.get(CAPACITY_ONLY) ? List.<String>of() : modes) {
                for (String guarantee : a.get(GUARANTEES).split(",")) {
                    guarantee = guarantee.trim();
                    rows.addAll(latencyRun(
                            kafka,
                            bundleDir,
                            manifest,
                            mode,
                            guarantee,
                            capacities.get(mode),
                            a.get(LOADS),
                            warmup,
                            measure,
                            a.get(CHECKPOINT_INTERVAL_MS),
                            "run" + run++));
                }
            }
        }
        Map<String, Object> capacityReport = new LinkedHashMap<>();
        capacities.forEach((m, c) -> capacityReport.put(m, Math.round(c)));
        report.put("capacity_readings_per_s", capacityReport);
        report.put("capacity_runs", capacityRows);
        report.put("runs", rows);
        Path out = Path.of(a.get(OUT));
        Files.createDirectories(out.toAbsolutePath().getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.toFile(), report);
        System.out.println("written " + out);
        for (Map<String, Object> row : capacityRows) {
            if (row.get("warning") != null) {
                System.out.println("!!!! " + row.get("warning"));
            }
        }
    }

    /**
     * One capacity run: the job, unbounded and at-least-once, started on the backlog topic; the rate at which it makes
     * predictions visible between {@link #CAPACITY_FROM} and {@link #CAPACITY_TO} of the {@code expected} windows,
     * with the process CPU of that span split by thread ({@link ThreadCpuSplit}, marked at its start and ended at its
     * end), and the rate in each tenth of the backlog from 10% to 90%.
     */
    private static Map<String, Object> capacityRun(
            EmbeddedKafka kafka,
            Path bundleDir,
            String mode,
            long expected,
            long checkpointIntervalMs,
            String tag,
            String what)
            throws Exception {
        createOutputTopics(kafka, tag);
        String loadBefore = loadAverage();
        JobClient job = startJob(kafka, bundleDir, mode, "at-least-once", "backlog", tag, checkpointIntervalMs);
        Progress progress;
        ThreadCpuSplit split = ThreadCpuSplit.start();
        try (PredictionReader reader = new PredictionReader(kafka.bootstrapServers(), "predictions-" + tag)) {
            progress = reader.progress(
                    expected, TENTHS[TENTHS.length - 1], CAPACITY_FROM, CAPACITY_TO, split, CAPACITY_TIMEOUT);
        } finally {
            try {
                job.cancel().get(1, TimeUnit.MINUTES);
            } finally {
                split.close();
            }
        }
        double windowsPerSecond = progress.rateBetween(expected, CAPACITY_FROM, CAPACITY_TO);
        double[] tenths = progress.rates(expected, TENTHS);
        long spanWindows = progress.countAt(expected, CAPACITY_TO) - progress.countAt(expected, CAPACITY_FROM);
        ThreadCpuSplit.PerWindow cpu = split.perWindow(split.processCpuNanos(), spanWindows);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("mode", mode);
        row.put("round", what);
        row.put("windows_per_s", Math.round(windowsPerSecond * 10) / 10.0);
        row.put("readings_per_s", Math.round(windowsPerSecond * SLIDE));
        row.put("span_seconds", Math.round(spanWindows / windowsPerSecond * 100) / 100.0);
        row.put("windows_per_s_by_tenth_from_10_to_90_percent", roundAll(tenths));
        cpu.putInto(row);
        row.put("load_average_before", loadBefore);
        row.put("load_average_after", loadAverage());
        System.out.printf(
                Locale.ROOT,
                "%s capacity %s: %.0f windows/s (%.0f readings/s) between %.0f%% and %.0f%% of %d windows (%.1f s);"
                        + " by tenth of the backlog %s windows/s; %.1f us CPU/window, JIT compilers %.1f%% of it;"
                        + " load average %s -> %s%n",
                mode,
                what,
                windowsPerSecond,
                windowsPerSecond * SLIDE,
                100 * CAPACITY_FROM,
                100 * CAPACITY_TO,
                expected,
                spanWindows / windowsPerSecond,
                java.util.Arrays.toString(roundAll(tenths)),
                cpu.cpuUs(),
                100 * cpu.jitShare(),
                loadBefore,
                row.get("load_average_after"));
        if (!what.startsWith("warm-up")) {
            cpu.jitWarning(
                            mode + " capacity " + what,
                            "more --capacity-warmup-rounds or a longer backlog (--capacity-readings-per-sensor)")
                    .ifPresent(warning -> {
                        System.out.println("!!!! " + warning);
                        row.put("warning", warning);
                    });
        }
        return row;
    }

    /** One job of this mode and guarantee; the simulator sends each load share in turn, warm-up then measured. */
    private static List<Map<String, Object>> latencyRun(
            EmbeddedKafka kafka,
            Path bundleDir,
            Manifest manifest,
            String mode,
            String guarantee,
            double capacity,
            String loads,
            int warmup,
            int measure,
            long checkpointIntervalMs,
            String tag)
            throws Exception {
        String input = "readings-" + tag;
        kafka.createTopics(4, input);
        createOutputTopics(kafka, tag);
        List<Double> shares = new ArrayList<>();
        StringBuilder schedule = new StringBuilder();
        for (String l : loads.split(",")) {
            double share = Double.parseDouble(l.trim());
            shares.add(share);
            schedule.append(schedule.length() == 0 ? "" : ",")
                    .append(warmup + measure)
                    .append("s@")
                    .append(String.format(Locale.ROOT, "%.0f", share * capacity));
        }
        JobClient job = startJob(kafka, bundleDir, mode, guarantee, input, tag, checkpointIntervalMs);
        List<Map<String, Object>> rows = new ArrayList<>();
        try (PredictionReader reader = new PredictionReader(kafka.bootstrapServers(), "predictions-" + tag)) {
            // the job reads from the start of the topic; let it start before the first reading is sent
            Thread.sleep(5_000);
            Map<String, Long> windowEndSent = new ConcurrentHashMap<>();
            Map<String, Integer> perSensor = new HashMap<>();
            StreamSimulator.Settings settings = new StreamSimulator.Settings()
                    .bootstrapServers(kafka.bootstrapServers())
                    .topic(input)
                    .schedule(RateSchedule.parse(schedule.toString()))
                    .sensors(SENSORS)
                    .badShare(0);
            try (StreamSimulator sim = new StreamSimulator(settings, (SensorReading r, long nanos) -> {
                int n = perSensor.merge(r.getSensorId(), 1, Integer::sum);
                if (n >= WINDOW && (n - WINDOW) % SLIDE == 0) {
                    windowEndSent.put(r.getSensorId() + "@" + r.getEventTime().toEpochMilli(), nanos);
                }
            })) {
                Thread sender = new Thread(sim, "latency-simulator");
                long start = System.nanoTime();
                sender.start();
                List<Phase> phases = new ArrayList<>();
                for (int i = 0; i < shares.size(); i++) {
                    long phaseStart = start + TimeUnit.SECONDS.toNanos((long) i * (warmup + measure));
                    Phase p = new Phase(
                            shares.get(i),
                            phaseStart + TimeUnit.SECONDS.toNanos(warmup),
                            phaseStart + TimeUnit.SECONDS.toNanos(warmup + measure));
                    phases.add(p);
                    reader.readUntil(p.from, windowEndSent, phases);
                    p.sent0 = sim.sent();
                    p.shortfall0 = sim.shortfall();
                    p.cpu0 = OS.getProcessCpuTime();
                    reader.readUntil(p.to, windowEndSent, phases);
                    p.sent1 = sim.sent();
                    p.shortfall1 = sim.shortfall();
                    p.cpu1 = OS.getProcessCpuTime();
                    p.load = loadAverage();
                }
                sender.join();
                // the windows sent last become visible within a checkpoint or two
                reader.readUntil(
                        System.nanoTime() + TimeUnit.SECONDS.toNanos(10) + 3_000_000L * checkpointIntervalMs,
                        windowEndSent,
                        phases);
                for (Phase p : phases) {
                    Map<String, Object> row = p.row(mode, guarantee, capacity, manifest.numStages());
                    rows.add(row);
                    System.out.printf(
                            Locale.ROOT,
                            "%-10s %-13s %3.0f%% of capacity: %s readings/s sent (%d given up)"
                                    + ", %d windows; ms p50/p99 total %s, operators %s, stages %s, visible %s; CPU %.1f us/window;"
                                    + " accuracy %.4f; exits %s; load %s%n",
                            mode,
                            guarantee,
                            100 * p.share,
                            row.get("sent_readings_per_s"),
                            p.shortfall1 - p.shortfall0,
                            p.total.size(),
                            row.get("total_ms"),
                            row.get("operators_ms"),
                            row.get("stages_ms"),
                            row.get("visible_ms"),
                            row.get("cpu_us_per_window"),
                            row.get("accuracy"),
                            row.get("exits"),
                            p.load);
                }
            }
        } finally {
            job.cancel().get(1, TimeUnit.MINUTES);
        }
        return rows;
    }

    /** Output topics that stamp each record with its append time, so the append is the job's end. */
    private static void createOutputTopics(EmbeddedKafka kafka, String tag) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (Admin admin = Admin.create(p)) {
            List<NewTopic> topics = new ArrayList<>();
            for (String t : List.of("predictions-", "alerts-", "dead-letters-")) {
                topics.add(
                        new NewTopic(t + tag, 2, (short) 1).configs(Map.of("message.timestamp.type", "LogAppendTime")));
            }
            admin.createTopics(topics).all().get();
        }
    }

    private static JobClient startJob(
            EmbeddedKafka kafka,
            Path bundleDir,
            String mode,
            String guarantee,
            String input,
            String tag,
            long checkpointIntervalMs)
            throws Exception {
        Map<ConfigOption<?>, Object> s = new LinkedHashMap<>();
        s.put(JobOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        s.put(JobOptions.BUNDLE, bundleDir.toString());
        s.put(JobOptions.INPUT_TOPIC, input);
        s.put(JobOptions.PREDICTION_TOPIC, "predictions-" + tag);
        s.put(JobOptions.ALERT_TOPIC, "alerts-" + tag);
        s.put(JobOptions.DEAD_LETTER_TOPIC, "dead-letters-" + tag);
        s.put(JobOptions.STATS_TOPIC, "");
        s.put(JobOptions.CONTROL_TOPIC, "");
        s.put(JobOptions.GROUP_ID, "bench-" + tag);
        s.put(JobOptions.TRANSACTIONAL_ID_PREFIX, "bench-" + tag);
        s.put(JobOptions.STARTING_OFFSETS, "earliest");
        s.put(JobOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(checkpointIntervalMs));
        s.put(JobOptions.MODE, mode);
        s.put(JobOptions.DELIVERY_GUARANTEE, guarantee);
        s.put(
                JobOptions.CHECKPOINT_DIR,
                Files.createTempDirectory("latency-ckpt").toUri().toString());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, new Configuration());
        SensorAnomalyJob.build(env, JobConfig.of(s));
        return env.executeAsync("latency " + mode + " " + guarantee);
    }

    /** One load share's measured span and what was seen of the windows whose last reading was sent in it. */
    private static final class Phase {
        final double share;
        final long from;
        final long to;
        long sent0;
        long sent1;
        long shortfall0;
        long shortfall1;
        long cpu0;
        long cpu1;
        String load;
        final List<Double> total = new ArrayList<>();
        final List<Double> operators = new ArrayList<>();
        final List<Double> stages = new ArrayList<>();
        final List<Double> visible = new ArrayList<>();
        long correct;
        final Map<Integer, Long> exits = new HashMap<>();

        Phase(double share, long from, long to) {
            this.share = share;
            this.from = from;
            this.to = to;
        }

        Map<String, Object> row(String mode, String guarantee, double capacity, int numStages) {
            Map<String, Object> row = new LinkedHashMap<>();
            double seconds = (to - from) / 1e9;
            row.put("mode", mode);
            row.put("delivery_guarantee", guarantee);
            row.put("load_share", share);
            row.put("capacity_readings_per_s", Math.round(capacity));
            row.put("asked_readings_per_s", Math.round(share * capacity));
            row.put("sent_readings_per_s", Math.round((sent1 - sent0) / seconds));
            row.put("readings_given_up", shortfall1 - shortfall0);
            row.put("windows", total.size());
            row.put("total_ms", quantiles(total));
            row.put("operators_ms", quantiles(operators));
            row.put("stages_ms", quantiles(stages));
            row.put("visible_ms", quantiles(visible));
            row.put(
                    "cpu_us_per_window",
                    total.isEmpty()
                            ? Double.NaN
                            : Math.round((cpu1 - cpu0) / 1e3 / ((sent1 - sent0) / (double) SLIDE) * 10) / 10.0);
            row.put("accuracy", total.isEmpty() ? Double.NaN : Math.round(10_000.0 * correct / total.size()) / 1e4);
            long[] e = new long[numStages];
            exits.forEach((k, v) -> e[k] = v);
            row.put("exits", java.util.Arrays.toString(e));
            row.put("load_average", load);
            return row;
        }
    }

    /** p50 / p99 in ms, as text. */
    private static String quantiles(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (v.length == 0) {
            return "n/a";
        }
        return String.format(
                Locale.ROOT,
                "%.1f / %.1f",
                v[(int) Math.ceil(0.5 * v.length) - 1],
                v[(int) Math.ceil(0.99 * v.length) - 1]);
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (java.io.IOException e) {
            return "n/a (" + e.getMessage() + ")";
        }
    }

    /**
     * Windows visible over time while a job works through a backlog: the count at each poll of the reader. The time a
     * share of the backlog was reached is that of the first poll whose count reached it.
     */
    static final class Progress {
        private final List<long[]> points = new ArrayList<>();

        void add(long nanos, long count) {
            points.add(new long[] {nanos, count});
        }

        /** The first poll at which {@code share} of {@code expected} was visible, or null if none reached it. */
        private long[] at(long expected, double share) {
            for (long[] p : points) {
                if (p[1] >= share * expected) {
                    return p;
                }
            }
            return null;
        }

        /** Windows visible at the poll that first reached {@code share} of {@code expected}. */
        long countAt(long expected, double share) {
            long[] p = at(expected, share);
            if (p == null) {
                throw new IllegalStateException("the backlog never reached " + share + " of " + expected + " windows");
            }
            return p[1];
        }

        /** Windows per second between the polls that first reached the two shares of {@code expected}. */
        double rateBetween(long expected, double from, double to) {
            long[] a = at(expected, from);
            long[] b = at(expected, to);
            if (a == null || b == null) {
                throw new IllegalStateException("the backlog never reached " + to + " of " + expected + " windows");
            }
            if (b[0] == a[0]) {
                throw new IllegalStateException("shares " + from + " and " + to + " of " + expected + " windows were"
                        + " reached in the same poll: a larger backlog (--capacity-readings-per-sensor) is needed");
            }
            return (b[1] - a[1]) / ((b[0] - a[0]) / 1e9);
        }

        /** The rate between each pair of consecutive shares in {@code edges}. */
        double[] rates(long expected, double[] edges) {
            double[] out = new double[edges.length - 1];
            for (int i = 0; i + 1 < edges.length; i++) {
                long[] a = at(expected, edges[i]);
                long[] b = at(expected, edges[i + 1]);
                out[i] = a == null || b == null || b[0] == a[0] ? Double.NaN : (b[1] - a[1]) / ((b[0] - a[0]) / 1e9);
            }
            return out;
        }
    }

    /**
     * The order the modes run in, in round {@code round} (from 0): as given in even rounds, reversed in odd ones
     * (A B, B A, A B, ...), so that a drift over the rounds (a JVM still compiling, the machine's load) favours no
     * mode: measured one after another in one JVM, each job ran faster than the one before it, whatever its mode.
     */
    static List<String> roundOrder(List<String> modes, int round) {
        List<String> order = new ArrayList<>(modes);
        if (round % 2 == 1) {
            java.util.Collections.reverse(order);
        }
        return order;
    }

    /** The median of {@code values} (the mean of the middle two for an even count). */
    static double median(List<Double> values) {
        if (values == null || values.isEmpty()) {
            throw new IllegalArgumentException("no values to take the median of");
        }
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    private static double[] roundAll(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Math.round(v[i]);
        }
        return out;
    }

    /** A read_committed consumer of one prediction topic that notes when each prediction became visible. */
    private static final class PredictionReader implements AutoCloseable {
        private final KafkaConsumer<byte[], byte[]> consumer;
        private final AvroCodec<Prediction> codec = AvroCodec.of(Prediction.class);
        /** Epoch milliseconds at {@link #nanoBase}: converts the broker's append times to this clock. */
        private final long wallBase = System.currentTimeMillis();

        private final long nanoBase = System.nanoTime();

        PredictionReader(String bootstrapServers, String topic) {
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            p.put(ConsumerConfig.GROUP_ID_CONFIG, "latency-reader-" + topic);
            p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "20");
            p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
            p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
            consumer = new KafkaConsumer<>(p);
            consumer.subscribe(List.of(topic));
        }

        /**
         * Reads until {@code untilShare} of {@code expected} windows are visible, noting the time of each poll and the
         * count so far; marks {@code split} when {@code markShare} of them are, and ends it at {@code endShare}.
         */
        Progress progress(
                long expected,
                double untilShare,
                double markShare,
                double endShare,
                ThreadCpuSplit split,
                Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            Progress p = new Progress();
            long seen = 0;
            boolean marked = false;
            while (System.nanoTime() < deadline) {
                seen += consumer.poll(Duration.ofMillis(20)).count();
                p.add(System.nanoTime(), seen);
                if (!marked && seen >= markShare * expected) {
                    split.mark();
                    marked = true;
                }
                if (marked && seen >= endShare * expected) {
                    split.end();
                }
                if (seen >= untilShare * expected) {
                    return p;
                }
            }
            throw new IllegalStateException("only " + seen + " of " + expected + " windows within " + timeout);
        }

        /** Reads until {@code untilNanos}, crediting each prediction of a window sent in a phase to that phase. */
        void readUntil(long untilNanos, Map<String, Long> windowEndSent, List<Phase> phases) throws Exception {
            while (System.nanoTime() < untilNanos) {
                var records = consumer.poll(Duration.ofMillis(20));
                long now = System.nanoTime();
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    Prediction p = codec.decode(r.value());
                    Long sent = windowEndSent.remove(p.getEventId());
                    if (sent == null) {
                        continue;
                    }
                    for (Phase ph : phases) {
                        if (sent >= ph.from && sent < ph.to) {
                            double appendMs = r.timestamp() - (wallBase + (sent - nanoBase) / 1e6);
                            double totalMs = (now - sent) / 1e6;
                            ph.total.add(totalMs);
                            ph.operators.add(appendMs);
                            ph.visible.add(totalMs - appendMs);
                            ph.stages.add(p.getStageLatencyMicros().stream()
                                            .mapToLong(Long::longValue)
                                            .sum()
                                    / 1e3);
                            ph.correct += p.getPredictedClass().equals(p.getLabel()) ? 1 : 0;
                            ph.exits.merge(p.getExitStage(), 1L, Long::sum);
                        }
                    }
                }
            }
        }

        @Override
        public void close() {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        }
    }
}
