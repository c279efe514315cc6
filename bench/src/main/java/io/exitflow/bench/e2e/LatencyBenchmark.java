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
 * capacity, with exactly-once and at-least-once sinks. Per mode: the capacity is the rate at which the job, started
 * unbounded on a backlog of readings, made predictions visible between 20% and 80% of the backlog (start-up
 * excluded), in readings/s; then per delivery guarantee one job runs while the simulator sends each load share for
 * a warm-up and a measured span. For every window whose last reading was sent in a measured span:
 * <ul>
 *   <li>total: from that reading's send to its prediction read by a {@code read_committed} consumer;</li>
 *   <li>operators: from the send to the prediction's append to the output topic (the topic stamps
 *       {@code LogAppendTime}): Kafka in, decoding, the watermark, window assembly, inference, the sink's send;</li>
 *   <li>stages: the part of it in the early-exit stages (the prediction's {@code stageLatencyMicros}, summed);</li>
 *   <li>visible: from the append to the consumer (the exactly-once commit at the next checkpoint, or for
 *       at-least-once the consumer's fetch).</li>
 * </ul>
 * Broker, job and consumer share one process and clock.
 *
 * <pre>bench/e2e.sh latency [--bundle models/sensor-cnn] [--modes CASCADE,FULL_DEPTH] [--loads 0.5,0.9]
 *     [--guarantees exactly-once,at-least-once] [--warmup-seconds 15] [--measure-seconds 30]
 *     [--checkpoint-interval-ms 1000] [--capacity-readings-per-sensor 20000]</pre>
 */
public final class LatencyBenchmark {
    private static final int SENSORS = 16;
    private static final int WINDOW = 128;
    private static final int SLIDE = 32;
    private static final OperatingSystemMXBean OS =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

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
            .defaultValue(20_000)
            .withDescription("Backlog per sensor the capacity of each mode is measured on.");
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
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("date", Instant.now().toString());
        report.put("cores", Runtime.getRuntime().availableProcessors());
        report.put("bundle", manifest.modelId() + " " + manifest.modelVersion());
        report.put("checkpoint_interval_ms", a.get(CHECKPOINT_INTERVAL_MS));
        report.put("warmup_seconds", warmup);
        report.put("measure_seconds", measure);
        List<Map<String, Object>> rows = new ArrayList<>();
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
            int run = 0;
            for (String mode : a.get(MODES).split(",")) {
                mode = mode.trim();
                // capacity: predictions made visible per second while the job works through the backlog
                String tag = "cap-" + mode.toLowerCase(Locale.ROOT);
                createOutputTopics(kafka, tag);
                long expected = (long) SENSORS * ((backlogPerSensor - WINDOW) / SLIDE + 1);
                JobClient job = startJob(
                        kafka, bundleDir, mode, "at-least-once", "backlog", tag, a.get(CHECKPOINT_INTERVAL_MS));
                double windowsPerSecond;
                try (PredictionReader reader = new PredictionReader(kafka.bootstrapServers(), "predictions-" + tag)) {
                    windowsPerSecond = reader.rateBetween(expected, 0.2, 0.8, Duration.ofMinutes(10));
                } finally {
                    job.cancel().get(1, TimeUnit.MINUTES);
                }
                double capacity = windowsPerSecond * SLIDE;
                System.out.printf(
                        Locale.ROOT,
                        "%s: capacity %.0f readings/s (%.0f windows/s, between 20%% and 80%% of "
                                + "a backlog of %d windows, load average %s)%n",
                        mode,
                        capacity,
                        windowsPerSecond,
                        expected,
                        loadAverage());
                for (String guarantee : a.get(GUARANTEES).split(",")) {
                    guarantee = guarantee.trim();
                    rows.addAll(latencyRun(
                            kafka,
                            bundleDir,
                            manifest,
                            mode,
                            guarantee,
                            capacity,
                            a.get(LOADS),
                            warmup,
                            measure,
                            a.get(CHECKPOINT_INTERVAL_MS),
                            "run" + run++));
                }
            }
        }
        report.put("runs", rows);
        Path out = Path.of(a.get(OUT));
        Files.createDirectories(out.toAbsolutePath().getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.toFile(), report);
        System.out.println("written " + out);
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
        s.put(JobOptions.CHECKPOINT_INTERVAL_MS, checkpointIntervalMs);
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

        /** Windows per second made visible between the given shares of {@code expected} windows. */
        double rateBetween(long expected, double fromShare, double toShare, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            long seen = 0;
            long fromNanos = -1;
            long fromCount = 0;
            while (System.nanoTime() < deadline) {
                int n = consumer.poll(Duration.ofMillis(100)).count();
                long now = System.nanoTime();
                seen += n;
                if (fromNanos < 0 && seen >= fromShare * expected) {
                    fromNanos = now;
                    fromCount = seen;
                }
                if (fromNanos >= 0 && seen >= toShare * expected) {
                    return (seen - fromCount) / ((now - fromNanos) / 1e9);
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
