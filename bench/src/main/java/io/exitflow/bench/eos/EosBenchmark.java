package io.exitflow.bench.eos;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.exitflow.bench.BenchArgs;
import io.exitflow.data.SensorClasses;
import io.exitflow.jobs.anomaly.SensorAnomalyJob;
import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.jobs.common.CommandLine;
import io.exitflow.jobs.common.JobOptions;
import io.exitflow.jobs.simulator.ExpectedWindows;
import io.exitflow.jobs.simulator.RateSchedule;
import io.exitflow.jobs.simulator.StreamSimulator;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.schemas.DeadLetter;
import io.exitflow.schemas.SensorReading;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Exactly-once at scale and a soak, on the real local cluster of deploy/local (a Kafka broker JVM, a Flink
 * JobManager, TaskManager JVMs), with the anomaly job's shaded JAR submitted over REST. Not a CI test: a run takes
 * minutes to half an hour. Three modes:
 *
 * <ul>
 *   <li>{@code eos}: the simulator's sensor fleet sends {@code --readings} readings at a steady {@code --rate};
 *       at random points ({@code --kills} of them, spread over the run) a TaskManager that runs part of the job is
 *       killed with SIGKILL and started again {@code --restart-after-s} later (deploy/local/start-taskmanager.sh).
 *       Then every window the readings make must have exactly one committed prediction (read_committed), with the
 *       label of its last reading, and nothing else: the ids are checked against {@link ExpectedWindows}.</li>
 *   <li>{@code soak}: {@code --minutes} at a steady rate, {@code --rate} or {@code --capacity-share} of the capacity
 *       measured first ({@code capacity}); a row per {@code --sample-s} (heap, RSS, checkpoint size and duration,
 *       output lag) and a verdict on whether each series stays flat ({@link Drift}); exactly-once checked too.</li>
 *   <li>{@code capacity}: a backlog of {@code --probe-readings} readings, then the job from the earliest offset;
 *       capacity = readings per second answered between 20% and 80% of the backlog's windows.</li>
 * </ul>
 *
 * Every run gets a fresh cluster (free ports, work dir {@code --work}) and writes {@code --out}: samples.csv,
 * checkpoints.csv, events.csv, summary.json (bench/eos/plot.py draws plot.png from them). Exit status 0 when every
 * window was answered exactly once, 1 when not, 2 on a usage error. Launched by bench/eos/run.sh. The settings and
 * their defaults are {@link EosOptions}; {@code --help} lists them.
 */
public final class EosBenchmark {
    private static final String USAGE = "EosBenchmark eos|soak|capacity --job-jar JAR [--name value ...]"
            + " (--help lists the settings and their defaults)";
    private static final String SPLIT = "test";
    private static final long SEED = 7;
    /** A fleet of rate/100 sensors at the bundle's 10 ms period keeps event time in step with the wall clock. */
    private static final double READINGS_PER_SENSOR_SECOND = 100;
    /** The end flush's readings are stamped this long after the newest reading sent. */
    private static final long FLUSH_AHEAD_MILLIS = 60_000;

    private static final Duration START_TIMEOUT = Duration.ofSeconds(180);
    /** No new window answered for this long, with all readings sent: the job has answered all it will. */
    private static final Duration STALL = Duration.ofSeconds(90);

    private final String mode;
    private final BenchArgs args;
    private final Path root;
    private final Path jobJar;
    private final Path bundle;
    private final Manifest manifest;
    private final Path out;
    private final Path work;
    private final int partitions;
    private final int parallelism;
    /** {@code --sensors}, or empty for auto. */
    private final Optional<Integer> sensors;

    private final Map<String, Object> summary = new LinkedHashMap<>();
    private final List<String[]> events = new ArrayList<>();
    private LocalCluster cluster;

    private EosBenchmark(String mode, BenchArgs args) throws IOException {
        this.mode = mode;
        this.args = args;
        this.root = Path.of("").toAbsolutePath();
        if (!Files.isDirectory(root.resolve("deploy/local"))) {
            throw new IllegalArgumentException("run from the repository root (no deploy/local in " + root + ")");
        }
        String jar = args.optional(EosOptions.JOB_JAR).orElse(null);
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw args.invalid(
                    EosOptions.JOB_JAR, "the shaded job JAR (mvn -B -DskipTests -pl jobs -am package builds it)", jar);
        }
        this.jobJar = Path.of(jar).toAbsolutePath();
        this.bundle = root.resolve(args.get(EosOptions.BUNDLE));
        this.manifest = ModelBundle.load(bundle).manifest();
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                .withZone(ZoneOffset.UTC)
                .format(Instant.now());
        this.out = root.resolve(args.optional(EosOptions.OUT).orElse("bench/eos/runs/" + mode + "-" + stamp));
        this.work = root.resolve(args.get(EosOptions.WORK));
        this.partitions = args.get(EosOptions.PARTITIONS);
        this.parallelism = args.get(EosOptions.PARALLELISM);
        this.sensors = sensorsSetting(args);
        Files.createDirectories(out);
    }

    public static void main(String[] argv) throws Exception {
        if (argv.length > 0 && CommandLine.wantsHelp(new String[] {argv[0]})) {
            BenchArgs.parse(argv, USAGE, EosOptions.all()); // prints the usage and the settings
            return;
        }
        if (argv.length == 0 || !List.of("eos", "soak", "capacity").contains(argv[0])) {
            System.err.println("usage: " + USAGE);
            System.exit(2);
        }
        EosBenchmark bench;
        try {
            Optional<BenchArgs> parsed =
                    BenchArgs.parse(Arrays.copyOfRange(argv, 1, argv.length), USAGE, EosOptions.all());
            if (parsed.isEmpty()) {
                return;
            }
            bench = new EosBenchmark(argv[0], parsed.get());
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        boolean ok = bench.run(argv);
        System.exit(ok ? 0 : 1);
    }

    private boolean run(String[] argv) throws Exception {
        summary.put("mode", mode);
        summary.put("command", "bench/eos/run.sh " + String.join(" ", argv));
        summary.put("started", Instant.now().toString());
        summary.put("machine", machine());
        int taskManagers = args.get(EosOptions.TASKMANAGERS);
        int slots = args.get(EosOptions.SLOTS);
        summary.put(
                "cluster",
                Map.of(
                        "taskmanagers",
                        taskManagers,
                        "slots_per_taskmanager",
                        slots,
                        "partitions",
                        partitions,
                        "parallelism",
                        parallelism));
        boolean keep = args.get(EosOptions.KEEP_CLUSTER).on();
        cluster = new LocalCluster(root, work, taskManagers, slots);
        boolean ok;
        try {
            log("starting the local cluster (work dir " + work + ")");
            cluster.start();
            ok = switch (mode) {
                case "eos" -> exactlyOnce();
                case "soak" -> soak();
                default -> capacity("capacity") > 0;
            };
        } finally {
            summary.put("finished", Instant.now().toString());
            summary.put("load_average_at_end", ClusterSampler.loadAverage());
            writeSummary();
            if (!keep) {
                log("stopping the local cluster");
                cluster.close();
            } else {
                log("cluster kept running (work dir " + work + "); stop it with EXITFLOW_WORK=" + work
                        + " deploy/local/stop.sh");
            }
        }
        log("results in " + out);
        return ok;
    }

    // --- modes ----------------------------------------------------------------------------------------------

    @SuppressWarnings("try") // ClusterSampler.close() may throw InterruptedException, which this method passes on
    private boolean exactlyOnce() throws Exception {
        long readings = args.get(EosOptions.READINGS);
        double rate = args.optional(EosOptions.RATE).orElse(EosOptions.EOS_RATE);
        int kills = args.get(EosOptions.KILLS);
        long restartAfterMs = (long) (args.get(EosOptions.RESTART_AFTER_S) * 1000);
        long killSeed = args.optional(EosOptions.KILL_SEED).orElseGet(System::nanoTime);
        long sampleMs = (long) (args.optional(EosOptions.SAMPLE_S).orElse(EosOptions.EOS_SAMPLE_S) * 1000);
        int sensors = sensors(rate);
        Phase phase = new Phase("eos", sensors);
        Random random = new Random(killSeed);
        long[] killPoints = killPoints(readings, kills, random);
        summary.put("readings", readings);
        summary.put("rate_asked", rate);
        summary.put("sensors", sensors);
        summary.put("kill_seed", killSeed);
        summary.put("kill_points_planned", killPoints);

        phase.startJob();
        long start = System.currentTimeMillis();
        phase.send(RateSchedule.parse(String.valueOf(rate)), readings, start);
        List<Map<String, Object>> killLog = new ArrayList<>();
        summary.put("kills", killLog);
        try (ClusterSampler sampler = phase.sampler(sampleMs)) {
            for (long point : killPoints) {
                while (phase.sent() < point && phase.sending()) {
                    Thread.sleep(50);
                    phase.checkSender();
                }
                killLog.add(killAndRestart(phase, sampler, random, restartAfterMs));
            }
            Map<String, String> expected = finishAndDrain(phase, sensors, start, sampler);
            return phase.verify(expected, sampler);
        }
    }

    /**
     * Ends a phase's sending, sends the end flush, waits until the job has answered the windows the sent readings
     * make (or the drain times out) and stops sampling; returns those windows (id to label) for the verdict.
     */
    private Map<String, String> finishAndDrain(Phase phase, int sensors, long start, ClusterSampler sampler)
            throws Exception {
        phase.finishSending();
        summary.put("sending", phase.sendingSummary());
        phase.flush();
        Map<String, String> expected = ExpectedWindows.labels(
                SPLIT,
                sensors,
                SEED,
                start,
                phase.sent(),
                manifest.input().window().size(),
                manifest.input().window().slide());
        phase.drain(expected);
        sampler.close();
        return expected;
    }

    @SuppressWarnings("try") // ClusterSampler.close() may throw InterruptedException, which this method passes on
    private boolean soak() throws Exception {
        double minutes = args.get(EosOptions.MINUTES);
        long sampleMs = (long) (args.optional(EosOptions.SAMPLE_S).orElse(EosOptions.SOAK_SAMPLE_S) * 1000);
        double rate;
        Optional<Double> asked = args.optional(EosOptions.RATE);
        if (asked.isPresent()) {
            rate = asked.get();
        } else {
            double share = args.get(EosOptions.CAPACITY_SHARE);
            if (!(share > 0 && share <= 1)) {
                throw args.invalid(EosOptions.CAPACITY_SHARE, "in (0, 1]", share);
            }
            double capacity = capacity("probe");
            if (capacity <= 0) {
                return false;
            }
            rate = Math.floor(share * capacity);
            summary.put("capacity_share", share);
            log(String.format(
                    Locale.ROOT, "soak at %.0f%% of %.0f readings/s = %.0f readings/s", share * 100, capacity, rate));
        }
        int sensors = sensors(rate);
        summary.put("minutes", minutes);
        summary.put("rate_asked", rate);
        summary.put("sensors", sensors);
        Phase phase = new Phase("soak", sensors);
        phase.startJob();
        long start = System.currentTimeMillis();
        long seconds = Math.round(minutes * 60);
        phase.send(RateSchedule.parse(seconds + "s@" + rate), Long.MAX_VALUE, start);
        try (ClusterSampler sampler = phase.sampler(sampleMs)) {
            Map<String, String> expected = finishAndDrain(phase, sensors, start, sampler);
            boolean exactlyOnce = phase.verify(expected, sampler);
            double warmup = Math.min(180, seconds / 5.0);
            Map<String, Object> flat = new LinkedHashMap<>();
            // Heap used at one moment is a sawtooth of the collector's cycle: shown, but judged by its minimum.
            Map<String, Object> heapNow = new LinkedHashMap<>();
            List<Map<String, Double>> rows = sampler.rows().stream()
                    .filter(r -> r.get("elapsed_s") <= seconds + sampleMs / 1000.0)
                    .toList();
            for (String tm : cluster.taskManagerRoles()) {
                flat.put("heap_min_mb_" + tm, Drift.of(rows, "heap_min_mb_" + tm, warmup, 0.15, 32));
                heapNow.put("heap_mb_" + tm, Drift.of(rows, "heap_mb_" + tm, warmup, 0.25, 64));
                flat.put("rss_mb_" + tm, Drift.of(rows, "rss_mb_" + tm, warmup, 0.10, 32));
            }
            flat.put("rss_mb_jobmanager", Drift.of(rows, "rss_mb_jobmanager", warmup, 0.10, 32));
            flat.put("rss_mb_kafka", Drift.of(rows, "rss_mb_kafka", warmup, 0.10, 64));
            flat.put("last_checkpoint_mb", Drift.of(rows, "last_checkpoint_mb", warmup, 0.25, 0.5));
            flat.put("last_checkpoint_ms", Drift.of(rows, "last_checkpoint_ms", warmup, 0.5, 500));
            flat.put("output_lag_s", Drift.of(rows, "output_lag_s", warmup, 0.5, 2));
            flat.put("group_lag", Drift.of(rows, "group_lag", warmup, 0.5, rate * 2));
            summary.put("flat_warmup_s", warmup);
            summary.put("flat", flat);
            summary.put("heap_used_at_sample_times", heapNow);
            boolean allFlat = flat.values().stream()
                    .allMatch(f -> !(f instanceof Map<?, ?> m) || !Boolean.FALSE.equals(m.get("flat")));
            summary.put("all_flat", allFlat);
            log("every series flat: " + allFlat + " " + flat);
            return exactlyOnce;
        }
    }

    /**
     * Measures readings/s the job answers from a backlog; returns it, or 0 when it could not. Samples the cluster
     * while the backlog drains ({@code <name>-samples.csv}) and puts each TaskManager's peak heap and RSS into the
     * result ({@link MemoryPeaks}).
     */
    @SuppressWarnings("try") // ClusterSampler.close() may throw InterruptedException, which this method passes on
    private double capacity(String name) throws Exception {
        long probe = args.get(EosOptions.PROBE_READINGS);
        int sensors = 100;
        Phase phase = new Phase(name, sensors);
        long start = System.currentTimeMillis();
        phase.createTopics();
        log(String.format(Locale.ROOT, "%s: sending a backlog of %,d readings", name, probe));
        phase.send(RateSchedule.parse("10000000"), probe, start);
        phase.finishSending();
        Map<String, String> expected = ExpectedWindows.labels(
                SPLIT,
                sensors,
                SEED,
                start,
                probe,
                manifest.input().window().size(),
                manifest.input().window().slide());
        phase.submit();
        long jobStart = System.nanoTime();
        Map<String, Map<String, Object>> memory;
        try (ClusterSampler sampler = new ClusterSampler(
                cluster,
                phase.jobId,
                phase.audit,
                phase::sent,
                phase.lastEventMillis::get,
                phase.group,
                phase.input,
                out.resolve(name + "-samples.csv"),
                MemoryPeaks.CAPACITY_ROW_EVERY_MS,
                name)) {
            phase.awaitAnswers(
                    expected,
                    0.8,
                    Duration.ofSeconds(
                            args.optional(EosOptions.DRAIN_TIMEOUT).orElse(EosOptions.CAPACITY_DRAIN_TIMEOUT_S)));
            memory = MemoryPeaks.of(sampler, cluster);
        }
        List<PredictionAudit.Point> timeline = phase.audit.timeline();
        long n20 = (long) (0.2 * expected.size());
        long n80 = (long) (0.8 * expected.size());
        PredictionAudit.Point p20 =
                timeline.stream().filter(p -> p.distinct() >= n20).findFirst().orElse(null);
        PredictionAudit.Point p80 =
                timeline.stream().filter(p -> p.distinct() >= n80).findFirst().orElse(null);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("backlog_readings", probe);
        result.put("sensors", sensors);
        double capacity = 0;
        if (p20 != null && p80 != null && p80.nanos() > p20.nanos()) {
            double windowsPerSecond = (p80.distinct() - p20.distinct()) / ((p80.nanos() - p20.nanos()) / 1e9);
            capacity = windowsPerSecond * manifest.input().window().slide();
            result.put("windows_per_s_20_to_80", windowsPerSecond);
            result.put("readings_per_s", Math.round(capacity));
            result.put("first_20pct_after_s", (p20.nanos() - jobStart) / 1e9);
            result.put("to_80pct_after_s", (p80.nanos() - jobStart) / 1e9);
        } else {
            result.put("error", "80% of the backlog's windows not answered within the drain timeout");
        }
        result.put("memory_per_taskmanager", memory);
        summary.put(name, result);
        log(name + ": " + result);
        phase.audit.close();
        cluster.cancel(phase.jobId);
        return capacity;
    }

    // --- kills ----------------------------------------------------------------------------------------------

    /** Kill points, reading counts: one uniformly in the middle 60% of each of {@code kills} equal spans of 10-90%. */
    static long[] killPoints(long readings, int kills, Random random) {
        long[] points = new long[kills];
        for (int i = 0; i < kills; i++) {
            double span = 0.8 / kills;
            double from = 0.1 + i * span + 0.2 * span;
            points[i] = (long) (readings * (from + random.nextDouble() * 0.6 * span));
        }
        return points;
    }

    /** Times in the record are seconds since sending started (the samples' elapsed_s). */
    private Map<String, Object> killAndRestart(Phase phase, ClusterSampler sampler, Random random, long restartAfterMs)
            throws Exception {
        // Kill a TaskManager that runs part of the job, with every task running (a crash mid-stream, not mid-restart).
        long waitFrom = System.nanoTime();
        List<String> busy;
        while (true) {
            busy = cluster.busyTaskManagers();
            if (cluster.notRunning(phase.jobId) == null && !busy.isEmpty()) {
                break;
            }
            phase.checkSender();
            Thread.sleep(200);
        }
        String victim = busy.get(random.nextInt(busy.size()));
        long pid = cluster.livePid(victim).orElseThrow();
        Map<String, Object> k = new LinkedHashMap<>();
        k.put("taskmanager", victim);
        k.put("pid", pid);
        k.put("busy_taskmanagers", busy);
        k.put("waited_for_running_s", round((System.nanoTime() - waitFrom) / 1e9));
        k.put("at_readings_sent", phase.sent());
        k.put("at_windows_answered", phase.audit.distinct());
        long killNanos = System.nanoTime();
        k.put("at_s", round(sampler.elapsedSeconds()));
        cluster.kill(victim);
        event("kill " + victim);
        log(String.format(Locale.ROOT, "SIGKILL %s (pid %d) at %,d readings sent", victim, pid, phase.sent()));
        Thread.sleep(restartAfterMs);
        cluster.restart(victim);
        k.put("restarted_at_s", round(sampler.elapsedSeconds()));
        event("restart " + victim);
        log(victim + " started again");
        String state;
        while ((state = cluster.notRunning(phase.jobId)) != null) {
            if (System.nanoTime() - killNanos > START_TIMEOUT.toNanos()) {
                throw new IllegalStateException("job not running again " + START_TIMEOUT + " after the kill: " + state);
            }
            phase.checkSender();
            Thread.sleep(200);
        }
        k.put("running_again_after_s", round((System.nanoTime() - killNanos) / 1e9));
        event("running " + victim);
        log(String.format(
                Locale.ROOT, "job running again %.1f s after the kill", (System.nanoTime() - killNanos) / 1e9));
        return k;
    }

    // --- one job on its own topics ----------------------------------------------------------------------------

    /** One job run: its topics, group, the sender, the audit of its predictions. */
    private final class Phase {
        final String name;
        final int sensors;
        final String input;
        final String predictions;
        final String deadLetters;
        final String group;
        String jobId;
        PredictionAudit audit;
        private StreamSimulator simulator;
        private Thread sender;
        private final AtomicLong lastEventMillis = new AtomicLong(Long.MIN_VALUE);
        private final AtomicReference<Throwable> sendFailure = new AtomicReference<>();
        private long sendStartNanos;
        private long sendEndNanos;

        Phase(String name, int sensors) {
            this.name = name;
            this.sensors = sensors;
            this.input = name + "-readings";
            this.predictions = name + "-predictions";
            this.deadLetters = name + "-dead-letters";
            this.group = "exitflow-bench-" + name;
        }

        void createTopics() throws IOException, InterruptedException {
            cluster.createTopics(
                    partitions,
                    input,
                    predictions,
                    deadLetters,
                    name + "-alerts",
                    name + "-stage-stats",
                    name + "-threshold-updates");
        }

        void startJob() throws Exception {
            createTopics();
            submit();
        }

        void submit() throws Exception {
            List<String> jobArgs = new ArrayList<>(List.of(
                    "--bootstrap-servers",
                    cluster.bootstrapServers(),
                    "--bundle",
                    bundle.toString(),
                    "--input-topic",
                    input,
                    "--prediction-topic",
                    predictions,
                    "--alert-topic",
                    name + "-alerts",
                    "--dead-letter-topic",
                    deadLetters,
                    "--stats-topic",
                    name + "-stage-stats",
                    "--control-topic",
                    name + "-threshold-updates",
                    "--group-id",
                    group,
                    "--transactional-id-prefix",
                    group,
                    "--parallelism",
                    String.valueOf(parallelism),
                    "--starting-offsets",
                    "earliest",
                    "--checkpoint-dir",
                    cluster.work().resolve("checkpoints").resolve(name).toUri().toString()));
            args.optional(JobOptions.CHECKPOINT_INTERVAL)
                    .ifPresent(interval -> jobArgs.addAll(List.of(
                            "--" + JobOptions.millisArgName(JobOptions.CHECKPOINT_INTERVAL),
                            String.valueOf(interval.toMillis()))));
            String extra = args.get(EosOptions.JOB_ARGS).trim();
            if (!extra.isEmpty()) {
                jobArgs.addAll(List.of(extra.split("\\s+")));
            }
            summary.put(name + "_job_args", String.join(" ", jobArgs));
            log(name + ": submitting the anomaly job");
            jobId = cluster.submit(jobJar, SensorAnomalyJob.class.getName(), jobArgs);
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            String state;
            while ((state = cluster.notRunning(jobId)) != null) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "job " + jobId + " not running within " + START_TIMEOUT + ": " + state);
                }
                Thread.sleep(200);
            }
            summary.put(name + "_job_id", jobId);
            summary.put(name + "_checkpoint_config", cluster.rest("/jobs/" + jobId + "/checkpoints/config"));
            audit = new PredictionAudit(cluster.bootstrapServers(), predictions);
            log(name + ": job " + jobId + " runs on " + cluster.busyTaskManagers());
        }

        /** Starts sending on a thread of its own: the fleet's readings stamped from {@code startMillis}. */
        void send(RateSchedule schedule, long maxEvents, long startMillis) {
            StreamSimulator.Settings s = new StreamSimulator.Settings()
                    .bootstrapServers(cluster.bootstrapServers())
                    .topic(input)
                    .schedule(schedule)
                    .sensors(sensors)
                    .split(SPLIT)
                    .seed(SEED)
                    .badShare(0)
                    .maxEvents(maxEvents)
                    .startTime(String.valueOf(startMillis));
            simulator = new StreamSimulator(
                    s,
                    (r, nanos) ->
                            lastEventMillis.accumulateAndGet(r.getEventTime().toEpochMilli(), Math::max));
            sendStartNanos = System.nanoTime();
            sender = new Thread(
                    () -> {
                        try {
                            simulator.run();
                        } catch (Throwable t) {
                            sendFailure.set(t);
                        } finally {
                            sendEndNanos = System.nanoTime();
                        }
                    },
                    "sender-" + name);
            sender.start();
            log(String.format(Locale.ROOT, "%s: sending %s from %d sensors to %s", name, schedule, sensors, input));
        }

        long sent() {
            return simulator.sent();
        }

        boolean sending() {
            return sender.isAlive();
        }

        void checkSender() {
            Throwable t = sendFailure.get();
            if (t != null) {
                throw new IllegalStateException("sending readings failed", t);
            }
            if (audit != null) {
                audit.checkAlive();
            }
        }

        void finishSending() throws InterruptedException {
            sender.join();
            checkSender();
            simulator.close();
            log(String.format(
                    Locale.ROOT,
                    "%s: sent %,d readings in %.1f s (%.0f/s)",
                    name,
                    sent(),
                    (sendEndNanos - sendStartNanos) / 1e9,
                    sent() / ((sendEndNanos - sendStartNanos) / 1e9)));
        }

        Map<String, Object> sendingSummary() {
            double seconds = (sendEndNanos - sendStartNanos) / 1e9;
            return Map.of("readings", sent(), "seconds", round(seconds), "readings_per_s", round(sent() / seconds));
        }

        ClusterSampler sampler(long rowEveryMs) throws IOException {
            return new ClusterSampler(
                    cluster,
                    jobId,
                    audit,
                    this::sent,
                    lastEventMillis::get,
                    group,
                    input,
                    out.resolve("samples.csv"),
                    rowEveryMs,
                    name);
        }

        /**
         * One reading per partition, stamped a minute after the newest reading sent, under a sensor id of its own
         * (so it makes no window): moves every partition's watermark past the last real windows.
         */
        void flush() throws Exception {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            AvroCodec<SensorReading> codec = AvroCodec.of(SensorReading.class);
            long time = lastEventMillis.get() + FLUSH_AHEAD_MILLIS;
            try (KafkaProducer<byte[], byte[]> producer =
                    new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
                for (int part = 0; part < partitions; part++) {
                    String id = "eos-flush-" + part;
                    SensorReading r = SensorReading.newBuilder()
                            .setSensorId(id)
                            .setEventTime(Instant.ofEpochMilli(time))
                            .setValues(Collections.nCopies(SensorClasses.CHANNELS, 0f))
                            .setLabel(null)
                            .setSeverity(null)
                            .build();
                    producer.send(new ProducerRecord<>(
                                    input, part, id.getBytes(StandardCharsets.UTF_8), codec.encode(r)))
                            .get();
                }
            }
            event("flush");
        }

        /**
         * Waits until every expected window is answered, or no new one came for {@link #STALL} (the job has read
         * everything it will answer), or the drain timeout; then two checkpoints more.
         */
        void drain(Map<String, String> expected) throws Exception {
            Duration timeout =
                    Duration.ofSeconds(args.optional(EosOptions.DRAIN_TIMEOUT).orElse(EosOptions.DRAIN_TIMEOUT_S));
            log(String.format(
                    Locale.ROOT,
                    "%s: waiting for %,d windows (%s at most, or until none came for %s)",
                    name,
                    expected.size(),
                    timeout,
                    STALL));
            boolean all = awaitAnswers(expected, 1.0, timeout);
            event(all ? "all answered" : "drain ended");
            if (!all) {
                log(String.format(
                        Locale.ROOT,
                        "%s: %,d of %,d windows answered when the drain ended",
                        name,
                        audit.distinct(),
                        expected.size()));
            }
            // Duplicates would come with later commits: watch two more checkpoint intervals.
            long interval = cluster.rest("/jobs/" + jobId + "/checkpoints/config")
                    .path("interval")
                    .asLong(5000);
            Thread.sleep(2 * interval + 2000);
        }

        /** True once {@code share} of the expected windows are answered; false at the timeout or a stall. */
        boolean awaitAnswers(Map<String, String> expected, double share, Duration timeout) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            long lastCount = -1;
            long lastChange = System.nanoTime();
            while (System.nanoTime() < deadline) {
                checkSender();
                if (share >= 1.0 ? audit.answeredAll(expected) : audit.distinct() >= share * expected.size()) {
                    return true;
                }
                long count = audit.distinct();
                if (count != lastCount) {
                    lastCount = count;
                    lastChange = System.nanoTime();
                } else if (System.nanoTime() - lastChange > STALL.toNanos()) {
                    return false;
                }
                Thread.sleep(500);
            }
            return false;
        }

        /** Checks the answers, reads the dead letters, records both and the checkpoints; true when exactly once. */
        boolean verify(Map<String, String> expected, ClusterSampler sampler) throws Exception {
            audit.close();
            PredictionAudit.Verdict v = audit.check(expected);
            Map<String, Object> verdict = new LinkedHashMap<>();
            verdict.put("exactly_once", v.exactlyOnce());
            verdict.put("windows_expected", v.expected());
            verdict.put("windows_answered", v.answered());
            verdict.put("prediction_records", v.records());
            verdict.put("missing", v.missing());
            verdict.put("answered_more_than_once", v.duplicated());
            verdict.put("not_made_by_the_readings", v.unknown());
            verdict.put("wrong_label", v.wrongLabel());
            verdict.put("undecodable", v.undecodable());
            verdict.put("examples", v.examples());
            summary.put("verdict", verdict);
            summary.put("dead_letters_by_reason", deadLettersByReason());
            CheckpointLog checkpoints = sampler.checkpoints();
            checkpoints.writeCsv(out.resolve("checkpoints.csv"), sampler.startMillis());
            summary.put("checkpoints", checkpointSummary(checkpoints));
            summary.put("restores", checkpoints.restores());
            summary.put("samples_unread", sampler.errors());
            writeEvents(sampler.startMillis());
            log(String.format(
                    Locale.ROOT,
                    "%s: %s. %,d windows expected, %,d answered (%,d records); missing %d, more than once %d,"
                            + " not made by the readings %d, wrong label %d, undecodable %d%s",
                    name,
                    v.exactlyOnce() ? "EXACTLY ONCE" : "NOT EXACTLY ONCE",
                    v.expected(),
                    v.answered(),
                    v.records(),
                    v.missing(),
                    v.duplicated(),
                    v.unknown(),
                    v.wrongLabel(),
                    v.undecodable(),
                    v.examples().isEmpty() ? "" : "; e.g. " + v.examples()));
            return v.exactlyOnce();
        }

        /** Dead letters by kind of reason (the text before its first ':'), with one whole reason of each kind. */
        private Map<String, Object> deadLettersByReason() {
            Map<String, Long> byReason = new TreeMap<>();
            Map<String, String> example = new TreeMap<>();
            boolean readAll;
            AvroCodec<DeadLetter> codec = AvroCodec.of(DeadLetter.class);
            Properties props = new Properties();
            props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
            props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            try (KafkaConsumer<byte[], byte[]> consumer =
                    new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                List<TopicPartition> parts = new ArrayList<>();
                for (PartitionInfo pi : consumer.partitionsFor(deadLetters)) {
                    parts.add(new TopicPartition(deadLetters, pi.partition()));
                }
                consumer.assign(parts);
                consumer.seekToBeginning(parts);
                Map<TopicPartition, Long> ends = consumer.endOffsets(parts);
                long deadline = System.nanoTime() + Duration.ofSeconds(300).toNanos();
                while (parts.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))
                        && System.nanoTime() < deadline) {
                    for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(Duration.ofMillis(500))) {
                        String reason;
                        try {
                            reason = codec.decode(rec.value()).getReason();
                        } catch (Exception e) {
                            reason = "(undecodable dead letter: " + e.getMessage() + ")";
                        }
                        String kind = reason.contains(":") ? reason.substring(0, reason.indexOf(':')) : reason;
                        byReason.merge(kind, 1L, Long::sum);
                        example.putIfAbsent(kind, reason);
                    }
                }
                readAll = parts.stream().allMatch(tp -> consumer.position(tp) >= ends.get(tp));
            }
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("read_to_the_end", readAll);
            result.put("count", byReason);
            result.put("example", example);
            if (!byReason.isEmpty()) {
                log(name + ": dead letters " + byReason + ", e.g. " + example.values());
            }
            return result;
        }
    }

    // --- output ---------------------------------------------------------------------------------------------

    private static Map<String, Object> checkpointSummary(CheckpointLog log) {
        List<CheckpointLog.Checkpoint> done = log.checkpoints().stream()
                .filter(c -> c.status().equals("COMPLETED"))
                .toList();
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("completed", done.size());
        s.put("failed", log.checkpoints().size() - done.size());
        s.put("completed_per_rest_counts", log.completed());
        s.put("failed_per_rest_counts", log.failed());
        if (!done.isEmpty()) {
            s.put(
                    "duration_ms",
                    stats(done.stream()
                            .mapToDouble(CheckpointLog.Checkpoint::durationMillis)
                            .toArray()));
            s.put(
                    "checkpointed_mb",
                    stats(done.stream()
                            .mapToDouble(c -> c.checkpointedBytes() / 1e6)
                            .toArray()));
            s.put(
                    "state_mb",
                    stats(done.stream().mapToDouble(c -> c.stateBytes() / 1e6).toArray()));
        }
        return s;
    }

    private static Map<String, Double> stats(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        Map<String, Double> s = new LinkedHashMap<>();
        s.put("min", round(v[0]));
        s.put("p50", round(v[(v.length - 1) / 2]));
        s.put("p95", round(v[(int) Math.ceil(0.95 * v.length) - 1]));
        s.put("max", round(v[v.length - 1]));
        s.put("mean", round(Arrays.stream(v).average().orElse(Double.NaN)));
        return s;
    }

    private int sensors(double rate) {
        return sensors.orElse((int) Math.max(partitions, Math.round(rate / READINGS_PER_SENSOR_SECOND)));
    }

    /** {@code --sensors}: a positive number, or empty for auto (from the rate). */
    static Optional<Integer> sensorsSetting(BenchArgs args) {
        String v = args.get(EosOptions.SENSORS).trim();
        if (v.equalsIgnoreCase("auto")) {
            return Optional.empty();
        }
        if (!v.matches("[1-9][0-9]{0,8}")) {
            throw args.invalid(EosOptions.SENSORS, "auto or a positive number", v);
        }
        return Optional.of(Integer.parseInt(v));
    }

    private void event(String what) {
        synchronized (events) {
            events.add(new String[] {String.valueOf(System.currentTimeMillis()), what});
        }
    }

    private void writeEvents(long startMillis) throws IOException {
        StringBuilder sb = new StringBuilder("elapsed_s,event\n");
        synchronized (events) {
            for (String[] e : events) {
                sb.append(String.format(Locale.ROOT, "%.1f,%s%n", (Long.parseLong(e[0]) - startMillis) / 1000.0, e[1]));
            }
        }
        Files.writeString(out.resolve("events.csv"), sb.toString());
    }

    private void writeSummary() throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Files.writeString(out.resolve("summary.json"), json.writeValueAsString(summary) + "\n");
    }

    private static Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpus", Runtime.getRuntime().availableProcessors());
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    m.put("memory_gb", round(Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0 / 1024.0));
                }
            }
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    m.put("cpu", line.substring(line.indexOf(':') + 1).trim());
                    break;
                }
            }
        } catch (IOException e) {
            m.put("proc_error", e.toString());
        }
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        m.put("java", System.getProperty("java.version"));
        m.put("load_average_at_start", ClusterSampler.loadAverage());
        m.put("harness_pid", ManagementFactory.getRuntimeMXBean().getPid());
        return m;
    }

    private static double round(double x) {
        return Math.round(x * 1000) / 1000.0;
    }

    private static void log(String line) {
        System.out.println("[eos-bench] " + line);
    }
}
