package io.exitflow.jobs.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.exitflow.data.SensorClasses;
import io.exitflow.jobs.anomaly.SensorAnomalyJob;
import io.exitflow.jobs.common.BudgetSizing;
import io.exitflow.jobs.common.CommandLine;
import io.exitflow.jobs.common.JobConfig;
import io.exitflow.jobs.common.JobLauncher;
import io.exitflow.jobs.common.JobOptions;
import io.exitflow.jobs.common.KafkaIo;
import io.exitflow.jobs.common.SchemaRegistrySettings;
import io.exitflow.jobs.simulator.RateSchedule;
import io.exitflow.jobs.simulator.RecordedReadings;
import io.exitflow.jobs.simulator.SimulatorOptions;
import io.exitflow.jobs.simulator.StreamSimulator;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.manifest.Manifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The whole system in one process: a KRaft Kafka broker, a local Flink cluster running the sensor anomaly job
 * with the bundled model (with {@code --schema-registry}, a schema registry as well, its own JVM, and every topic
 * in the registry wire format), and the stream simulator feeding it the test split of the sensor dataset, or a user's
 * recordings ({@code --readings FILE.avro}, an Avro container of SensorReading; the {@code exitflow-demo} script
 * converts other formats first). Prints live progress and ends with a summary (optionally as JSON). README's first
 * command ({@code ./exitflow-demo}) runs it. Window size and slide, channels, classes and costs come from the
 * bundle; the input must match it (channels, labels among its classes) or the demo refuses to start.
 *
 * <pre>./exitflow-demo [--duration 60s] [--max-events N] [--schedule 20s@1500,20s@3000,20s@1500]
 *     [--sensors 16 | --readings FILE.avro [--loop on|off]] [--bad-share 0.01] [--bundle models/sensor-cnn] [--summary-json FILE]
 *     [--report-every 2s] [--feedback on|off] [--schema-registry on|off] [any job setting, e.g. --mode FULL_DEPTH --max-batch-size 32 --budget-rate 200]</pre>
 */
public final class EmbeddedDemo {
    private static final Map<String, String> TOPICS = Map.of(
            "readings",
            "sensor-readings",
            "predictions",
            "predictions",
            "alerts",
            "alerts",
            "dead-letters",
            "dead-letters",
            "stats",
            "stage-stats",
            "control",
            "threshold-updates");

    /** Demo settings (job settings pass through to the job), starting from the defaults of {@link DemoOptions}. */
    static final class Settings {
        long durationMillis = -1;
        long maxEvents = Long.MAX_VALUE;
        String schedule = DemoOptions.SCHEDULE.defaultValue();
        int sensors = SimulatorOptions.SENSORS.defaultValue();
        boolean sensorsGiven;
        /** A user's recordings to replay instead of the generator's sensors. */
        Path readings;
        /** Replay the recordings again (as new passes) until the schedule ends; off: once, then drain. */
        boolean loop = SimulatorOptions.LOOP.defaultValue().on();

        double badShare = SimulatorOptions.BAD_SHARE.defaultValue();
        String bundle = DemoOptions.BUNDLE.defaultValue();
        Path summaryJson;
        /** The report lines as a time series CSV (DemoTimeSeries), for ./exitflow-demo --plot. */
        Path timeseriesCsv;

        long reportEveryMillis = DemoOptions.REPORT_EVERY.defaultValue().toMillis();
        int parallelism = DemoOptions.PARALLELISM.defaultValue();
        /** Run the feedback loop with a budget sized for the schedule's first rate (unless a budget is given). */
        boolean feedback = DemoOptions.FEEDBACK.defaultValue().on();
        /** Start an embedded schema registry and run everything in the registry wire format. */
        boolean schemaRegistry = DemoOptions.SCHEMA_REGISTRY.defaultValue().on();

        final Map<ConfigOption<?>, Object> job = new LinkedHashMap<>();
    }

    private EmbeddedDemo() {}

    public static void main(String[] args) throws Exception {
        Settings s;
        try {
            s = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("exitflow-demo: " + e.getMessage());
            System.exit(2);
            return;
        }
        Map<String, Object> summary;
        try {
            summary = run(s);
        } catch (IllegalArgumentException e) { // a bad readings file, bundle or setting: refused at start
            System.err.println("exitflow-demo: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (!Boolean.TRUE.equals(summary.get("ok"))) {
            System.exit(1);
        }
    }

    /**
     * Runs the demo and returns its summary: checks the input against the bundle, {@link #start starts} Kafka's
     * topics, the job and the simulator, {@link #monitor monitors} them until the job has drained its input, then
     * {@link #summarise summarises}.
     */
    @SuppressWarnings("try") // the embedded registry's close() waits for its process: an interrupt must surface
    static Map<String, Object> run(Settings s) throws Exception {
        Input in = input(s);
        Path checkpointDir = Files.createTempDirectory("exitflow-demo-checkpoints");
        log("starting Kafka (in-process KRaft broker) ...");
        try (EmbeddedKafka kafka = startKafkaQuietly();
                EmbeddedSchemaRegistry registry = s.schemaRegistry ? startSchemaRegistry() : null) {
            Started started = start(s, in, kafka, registry, checkpointDir);
            Map<String, Object> summary;
            try (DemoMonitor monitor = new DemoMonitor(
                    kafka.bootstrapServers(),
                    TOPICS,
                    started.sendTimes(),
                    in.manifest().numStages(),
                    in.manifest().exit().thresholds(),
                    started.registry())) {
                Outcome outcome = monitor(s, in, started, monitor, kafka);
                summary = summarise(s, in, started, monitor, outcome);
            } finally {
                stop(started);
            }
            deleteRecursively(checkpointDir);
            printSummary(summary);
            if (s.summaryJson != null) {
                writeJson(s.summaryJson, summary);
                log("summary written to " + s.summaryJson);
            }
            return summary;
        }
    }

    /** What the demo serves and sends, checked before anything starts. */
    private record Input(ModelBundle bundle, RecordedReadings recorded, RateSchedule schedule, long sendMillis) {
        Manifest manifest() {
            return bundle.manifest();
        }
    }

    /** The job running on the local cluster and the simulator ready to send (its thread not started yet). */
    private record Started(
            JobConfig cfg,
            JobClient job,
            StreamSimulator sim,
            Thread simThread,
            AtomicReference<Throwable> simError,
            Map<String, Long> sendTimes,
            SchemaRegistrySettings registry) {}

    /** How the run ended: how long it took, why it failed (null: it did not), and its report lines. */
    private record Outcome(double seconds, String failure, DemoTimeSeries series) {}

    /**
     * Loads the bundle once and refuses, before anything starts, input it cannot classify or a schedule without end.
     */
    private static Input input(Settings s) {
        ModelBundle bundle = ModelBundle.load(Path.of(s.bundle));
        RecordedReadings recorded = s.readings == null ? null : RecordedReadings.load(s.readings);
        checkInputFitsBundle(bundle.manifest(), s.bundle, recorded);
        RateSchedule schedule = RateSchedule.parse(s.schedule);
        long sendMillis =
                s.durationMillis > 0 ? Math.min(s.durationMillis, schedule.totalMillis()) : schedule.totalMillis();
        if (sendMillis == Long.MAX_VALUE && s.maxEvents == Long.MAX_VALUE) {
            throw new IllegalArgumentException("an endless schedule needs --duration or --max-events");
        }
        return new Input(bundle, recorded, schedule, sendMillis);
    }

    /**
     * Creates the topics, starts the anomaly job on a local Flink cluster and prepares the simulator; with a registry
     * (the embedded one, or one named with {@code --schema-registry-url}) the simulator writes its wire format too.
     */
    private static Started start(
            Settings s, Input in, EmbeddedKafka kafka, EmbeddedSchemaRegistry registry, Path checkpointDir)
            throws Exception {
        kafka.createTopics(4, TOPICS.get("readings"));
        kafka.createTopics(
                2, TOPICS.get("predictions"), TOPICS.get("alerts"), TOPICS.get("dead-letters"), TOPICS.get("stats"));
        kafka.createTopics(1, TOPICS.get("control"));
        log("Kafka at " + kafka.bootstrapServers());
        Manifest manifest = in.manifest();
        Map<ConfigOption<?>, Object> settings = jobSettings(s, in, kafka.bootstrapServers(), checkpointDir);
        if (registry != null) {
            settings.put(JobOptions.SCHEMA_REGISTRY_URL, registry.url()); // parse refuses a second URL
        }
        JobConfig cfg = JobConfig.of(settings);
        SchemaRegistrySettings registrySettings = new KafkaIo(cfg, SensorAnomalyJob.NAME).schemaRegistry();

        Configuration flinkConf = new Configuration();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(s.parallelism, flinkConf);
        JobLauncher.prepare(env, cfg, SensorAnomalyJob::build); // builds and runs the start-up checks
        log("starting the anomaly job on a local Flink cluster (parallelism " + s.parallelism + ", mode "
                + cfg.get(JobOptions.MODE) + ", model " + manifest.modelId() + " " + manifest.modelVersion() + ") ...");
        JobClient jobClient = env.executeAsync("exitflow demo: sensor anomaly detection");

        Manifest.Window window = manifest.input().window();
        Map<String, Long> sendTimes = DemoMonitor.newSendTimes();
        Map<String, Integer> perSensor = new HashMap<>(); // used on the simulator thread only
        StreamSimulator.Settings simSettings = new StreamSimulator.Settings()
                .bootstrapServers(kafka.bootstrapServers())
                .topic(TOPICS.get("readings"))
                .schedule(in.schedule())
                .badShare(s.badShare)
                .maxEvents(s.maxEvents)
                .startTime("now")
                .schemaRegistry(registrySettings);
        if (in.recorded() != null) {
            // One pass ends with the end flush (sent below, once the job has read the rest), so that the
            // watermark releases every recording's last windows.
            simSettings.readings(in.recorded()).loop(s.loop);
        } else {
            simSettings.sensors(s.sensors);
        }
        StreamSimulator sim = new StreamSimulator(simSettings, (reading, nanos) -> {
            // Remember when each window's last reading left, to time the window end to end.
            int n = perSensor.merge(reading.getSensorId(), 1, Integer::sum);
            if (n >= window.size() && (n - window.size()) % window.slide() == 0) {
                sendTimes.put(
                        reading.getSensorId() + "@" + reading.getEventTime().toEpochMilli(), nanos);
            }
        });
        AtomicReference<Throwable> simError = new AtomicReference<>();
        Thread simThread = new Thread(sim, "simulator");
        simThread.setUncaughtExceptionHandler((t, e) -> simError.set(e));
        return new Started(cfg, jobClient, sim, simThread, simError, sendTimes, registrySettings);
    }

    /** The job's settings: the demo's topics and checkpoints, the user's settings, alerts and the feedback budget. */
    private static Map<ConfigOption<?>, Object> jobSettings(
            Settings s, Input in, String bootstrap, Path checkpointDir) {
        Manifest manifest = in.manifest();
        Map<ConfigOption<?>, Object> job = new LinkedHashMap<>();
        job.put(JobOptions.BOOTSTRAP_SERVERS, bootstrap);
        job.put(JobOptions.BUNDLE, in.bundle().dir().toString());
        job.put(JobOptions.INPUT_TOPIC, TOPICS.get("readings"));
        job.put(JobOptions.STATS_TOPIC, TOPICS.get("stats"));
        job.put(JobOptions.CONTROL_TOPIC, TOPICS.get("control"));
        job.put(JobOptions.STARTING_OFFSETS, "earliest");
        job.put(JobOptions.CHECKPOINT_INTERVAL, Duration.ofSeconds(1));
        job.put(JobOptions.IDLE_TIMEOUT, Duration.ofSeconds(1));
        // File checkpoints: the window assembler's state can outgrow the 5 MB in-memory checkpoint limit.
        job.put(JobOptions.CHECKPOINT_DIR, checkpointDir.toUri().toString());
        job.putAll(s.job);
        if (!manifest.classes().contains("normal")
                && !job.containsKey(JobOptions.NORMAL_CLASS)
                && !job.containsKey(JobOptions.ALERT_CLASSES)) {
            job.put(JobOptions.ALERT_CLASSES, "none");
            log("bundle " + manifest.modelId() + " has no class named normal: alerts off (--normal-class C or"
                    + " --alert-classes a,b to raise them)");
        }
        if (s.feedback && !job.containsKey(JobOptions.BUDGET_RATE) && !job.containsKey(JobOptions.BUDGET_COST)) {
            addFeedbackBudget(
                    job, in.bundle(), in.schedule(), manifest.input().window().slide(), s.parallelism);
        }
        return job;
    }

    /**
     * Starts the simulator and watches the run: a report line every {@code --report-every}, the simulator stopped at
     * the end of the schedule (or of {@code --duration}), then the job drained: it has committed all its input (its
     * outputs commit with it) and nothing new came for two checkpoints plus a second; 60 s at most (a slow start-up
     * can take most of that). A replay that runs once gets its end flush when the job has read every reading.
     */
    private static Outcome monitor(Settings s, Input in, Started run, DemoMonitor monitor, EmbeddedKafka kafka)
            throws Exception {
        StreamSimulator sim = run.sim();
        long start = System.nanoTime();
        run.simThread().start();
        String input = in.recorded() == null
                ? s.sensors + " simulated sensors"
                : "replaying " + in.recorded() + (s.loop ? " in a loop" : " once");
        log(String.format(
                Locale.ROOT,
                "%s, schedule %s, %.1f%% bad records%s",
                input,
                s.schedule,
                100 * s.badShare,
                s.durationMillis > 0 ? ", for " + s.durationMillis / 1000 + " s" : ""));
        long lastReport = start;
        DemoTimeSeries series = new DemoTimeSeries(in.manifest().numStages());
        long lastSent = 0;
        long lastPrediction = System.nanoTime();
        boolean sending = true;
        long stopSendingAt = 0;
        long lastDrainCheck = 0;
        long unread = -1;
        boolean flushPending = in.recorded() != null && !s.loop;
        String groupId = new KafkaIo(run.cfg(), SensorAnomalyJob.NAME).groupId();
        long quietNanos = run.cfg()
                .get(JobOptions.CHECKPOINT_INTERVAL)
                .multipliedBy(2)
                .plusSeconds(1)
                .toNanos();
        String failure = null;
        while (true) {
            if (monitor.poll(Duration.ofMillis(100)) > 0) {
                lastPrediction = System.nanoTime();
            }
            long now = System.nanoTime();
            long elapsedMillis = (now - start) / 1_000_000;
            if (sending && (elapsedMillis >= in.sendMillis() || !run.simThread().isAlive())) {
                sim.stop();
                run.simThread().join();
                sending = false;
                stopSendingAt = now;
                log(
                        sim.exhausted()
                                ? "every reading of " + in.recorded().file() + " sent; draining the job ..."
                                : "simulator stopped; draining the job ...");
            }
            failure = failure(run);
            if (failure != null) {
                break;
            }
            if (now - lastReport >= s.reportEveryMillis * 1_000_000L) {
                long sent = sim.sent();
                double secs = (now - lastReport) / 1e9;
                report(monitor, elapsedMillis, sim.currentRate(), (sent - lastSent) / secs, sent, sim.badSent(), secs);
                series.add(monitor, elapsedMillis, sim.currentRate(), (sent - lastSent) / secs, secs);
                lastSent = sent;
                lastReport = now;
                monitor.resetInterval();
            }
            if (!sending && now - lastDrainCheck > 500_000_000L) {
                lastDrainCheck = now;
                unread = kafka.uncommitted(TOPICS.get("readings"), groupId);
            }
            if (!sending && unread == 0 && flushPending) {
                // Only now: a jump of the watermark while readings of another partition are still unread
                // would make them late. The windows it releases waited for it: their latency is not timed.
                flushPending = false;
                run.sendTimes().clear();
                sim.sendEndFlush();
                unread = -1;
                lastPrediction = now;
                log("the job has read every reading: end flush sent (one reading per partition, "
                        + StreamSimulator.END_FLUSH_AHEAD_MILLIS / 1000 + " s later) to release the last windows");
            }
            if (!sending && unread == 0 && now - lastPrediction > quietNanos && now - stopSendingAt > quietNanos) {
                break;
            }
            if (!sending && now - stopSendingAt > 60_000_000_000L) {
                log("stopped draining after 60 s: the job has not committed " + unread + " input records");
                break;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (sending) {
            sim.stop();
            run.simThread().join(10_000);
        }
        return new Outcome(seconds, failure, series);
    }

    /** Why the run cannot go on (the simulator failed, the job stopped), or null while both run. */
    private static String failure(Started run) throws Exception {
        if (run.simError().get() != null) {
            return "simulator failed: " + run.simError().get();
        }
        JobStatus status = run.job().getJobStatus().get(10, TimeUnit.SECONDS);
        if (status.isGloballyTerminalState()) {
            return "the job stopped unexpectedly: " + status + jobFailure(run.job());
        }
        return null;
    }

    /** The run's summary, and its time series written when {@code --timeseries-csv} asks for it. */
    private static Map<String, Object> summarise(
            Settings s, Input in, Started run, DemoMonitor monitor, Outcome outcome) throws IOException {
        Map<String, Object> summary = summary(
                s, in.manifest(), run.cfg(), monitor, run.sim(), outcome.seconds(), in.sendMillis(), outcome.failure());
        if (s.timeseriesCsv != null) {
            outcome.series().write(s.timeseriesCsv);
            log("time series (" + outcome.series().size() + " intervals) written to " + s.timeseriesCsv);
        }
        return summary;
    }

    /** Closes the simulator and cancels the job, waiting until it has stopped. */
    private static void stop(Started run) throws Exception {
        run.sim().close();
        log("stopping the job ...");
        try {
            run.job().cancel().get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            // Already finished or failed: its result below says which.
        }
        waitForTerminal(run.job());
    }

    /**
     * Refuses input the bundle cannot classify, before anything starts: a channel count other than the bundle's
     * {@code input.shape[0]}, or labels that are not classes of the bundle (accuracy would count them wrong). The
     * generator's sensors have {@link SensorClasses#CHANNELS} channels and the classes {@link SensorClasses#NAMES}.
     */
    static void checkInputFitsBundle(Manifest manifest, String bundle, RecordedReadings recorded) {
        int channels = manifest.input().shape().get(0);
        List<String> classes = manifest.classes();
        if (recorded == null) {
            if (channels != SensorClasses.CHANNELS || !classes.containsAll(SensorClasses.NAMES)) {
                throw new IllegalArgumentException("bundle " + bundle + " reads " + channels + " channels and knows "
                        + classes + "; the demo's generated sensors send " + SensorClasses.CHANNELS + " channels of "
                        + SensorClasses.NAMES + ": replay the recordings it was built on with --readings FILE");
            }
            return;
        }
        if (recorded.channels() != channels) {
            throw new IllegalArgumentException(recorded.file() + " has " + recorded.channels() + " values per reading, "
                    + "bundle " + bundle + " reads " + channels + " channels (input.shape): convert the readings with "
                    + "--channels naming the bundle's channels in the order it was built with");
        }
        List<String> unknown =
                recorded.labels().stream().filter(l -> !classes.contains(l)).toList();
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(recorded.file() + " has labels " + unknown + " that are not classes of "
                    + "bundle " + bundle + " " + classes + ": give the label column the bundle was built from "
                    + "(--label-column)");
        }
    }

    /**
     * The demo's budget: the windows/s of the schedule's first rate, planned in the bundle's calibrated costs, with
     * room at that rate half-way between "every window leaves at stage 0" and the most accurate plan; when the
     * simulator doubles the rate the controller must move the thresholds towards stage 0, and back afterwards.
     */
    private static void addFeedbackBudget(
            Map<ConfigOption<?>, Object> job, ModelBundle bundle, RateSchedule schedule, int slide, int parallelism) {
        double windowsPerSecond = schedule.rateAt(0) / slide;
        if (!(windowsPerSecond > 0)) {
            return; // an idle first phase gives nothing to size a budget for
        }
        BudgetSizing sizing = BudgetSizing.of(bundle, windowsPerSecond, parallelism, 0.5);
        job.put(JobOptions.BUDGET_RATE, windowsPerSecond);
        job.put(JobOptions.BUDGET_STAGE_COSTS, "bundle");
        job.put(JobOptions.BUDGET_UTILISATION, sizing.utilisation());
        log(String.format(
                Locale.ROOT,
                "feedback loop: budget %.0f windows/s (the first rate), planned in the bundle's"
                        + " costs: %.1f us per window allowed at that rate (stage 0 only %.1f, most accurate plan %.1f);"
                        + " --feedback off to run on the bundle's thresholds",
                windowsPerSecond,
                sizing.allowedNanos() / 1e3,
                sizing.cheapestNanos() / 1e3,
                sizing.unconstrainedNanos() / 1e3));
    }

    /**
     * Deletes the demo's checkpoint folder. Flink may still be discarding a cancelled job's last checkpoint while
     * this runs, so an entry that vanishes under the walk is already where we want it; any other error is thrown.
     */
    static void deleteRecursively(Path dir) throws IOException {
        Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() {
            @Override
            public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes a)
                    throws IOException {
                Files.deleteIfExists(file);
                return java.nio.file.FileVisitResult.CONTINUE;
            }

            @Override
            public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof java.nio.file.NoSuchFileException) {
                    return java.nio.file.FileVisitResult.CONTINUE;
                }
                throw e;
            }

            @Override
            public java.nio.file.FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null && !(e instanceof java.nio.file.NoSuchFileException)) {
                    throw e;
                }
                Files.deleteIfExists(d);
                return java.nio.file.FileVisitResult.CONTINUE;
            }
        });
    }

    /**
     * Starts the embedded schema registry ({@code --schema-registry}).
     *
     * @throws IllegalArgumentException naming the flag, when it cannot start (no Java 21+, no distribution)
     */
    private static EmbeddedSchemaRegistry startSchemaRegistry() throws InterruptedException {
        log("starting the schema registry (Apicurio Registry " + EmbeddedSchemaRegistry.DEFAULT_VERSION
                + ", its own JVM) ...");
        try {
            EmbeddedSchemaRegistry r = EmbeddedSchemaRegistry.start();
            log("schema registry at " + r.url() + ": every topic in the registry wire format");
            return r;
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(
                    "--schema-registry: cannot start the embedded schema registry: " + e.getMessage(), e);
        }
    }

    /** The broker's storage formatter prints its metadata to stdout; the demo's screen is for progress lines. */
    private static EmbeddedKafka startKafkaQuietly() throws Exception {
        java.io.PrintStream out = System.out;
        System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        try {
            return EmbeddedKafka.start();
        } finally {
            System.setOut(out);
        }
    }

    private static String jobFailure(JobClient client) {
        try {
            client.getJobExecutionResult().get(10, TimeUnit.SECONDS);
            return "";
        } catch (Exception e) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            return " (" + root + ")";
        }
    }

    /** Waits for the cancelled job to end (the local cluster shuts down with it). */
    private static void waitForTerminal(JobClient client) throws InterruptedException {
        try {
            client.getJobExecutionResult().get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            // Expected: a cancelled job's result future completes with the cancellation.
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("the job did not stop within 30 s of being cancelled", e);
        }
    }

    private static void report(
            DemoMonitor m, long elapsedMillis, double targetRate, double sentRate, long sent, long bad, double secs) {
        String acc = m.intervalLabelled == 0
                ? "  -  "
                : String.format(Locale.ROOT, "%5.1f%%", 100.0 * m.intervalCorrect / m.intervalLabelled);
        System.out.printf(
                Locale.ROOT,
                "t=%4ds | in %5.0f/s (target %4.0f) | windows %4.0f/s | acc %s | exits %s | thresholds %s"
                        + " | e2e p50 %s p99 %s | dead letters %d | alerts %d%n",
                elapsedMillis / 1000,
                sentRate,
                targetRate,
                m.intervalWindows / secs,
                acc,
                DemoMonitor.shares(m.intervalExits),
                m.thresholdText(),
                ms(m.intervalE2e.quantile(0.5)),
                ms(m.intervalE2e.quantile(0.99)),
                m.deadLetterCount,
                m.alertCount);
    }

    private static String ms(double v) {
        return Double.isNaN(v) ? "   -  " : String.format(Locale.ROOT, "%4.0fms", v);
    }

    private static Map<String, Object> summary(
            Settings s,
            Manifest manifest,
            JobConfig cfg,
            DemoMonitor m,
            StreamSimulator sim,
            double seconds,
            long sendMillis,
            String failure) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ok", failure == null);
        if (failure != null) {
            out.put("failure", failure);
        }
        out.put("model", manifest.modelId() + " " + manifest.modelVersion());
        out.put("mode", cfg.get(JobOptions.MODE));
        out.put("parallelism", s.parallelism);
        if (s.readings != null) {
            out.put("readings", s.readings.toString());
            out.put("loop", s.loop);
        } else {
            out.put("sensors", s.sensors);
        }
        out.put("schedule", s.schedule);
        out.put("schema_registry", cfg.optional(JobOptions.SCHEMA_REGISTRY_URL).orElse(null));
        out.put("seconds", round(seconds, 1));
        out.put("readings_sent", sim.sent());
        out.put("bad_records_sent", sim.badSent());
        out.put("windows_classified", m.windows);
        out.put("windows_per_second", round(m.windows / Math.max(1e-9, Math.min(seconds, sendMillis / 1000.0)), 1));
        out.put("accuracy", m.labelled == 0 ? null : round((double) m.correct / m.labelled, 4));
        out.put("exits_per_stage", m.exits.clone());
        out.put("thresholds_in_force", m.thresholds.clone());
        out.put("threshold_version", m.thresholdVersion);
        out.put("threshold_updates", m.thresholdUpdates);
        Map<String, Object> e2e = new LinkedHashMap<>();
        e2e.put("p50", round(m.e2eLatencyMs.quantile(0.5), 1));
        e2e.put("p99", round(m.e2eLatencyMs.quantile(0.99), 1));
        e2e.put("samples", m.e2eLatencyMs.size());
        e2e.put(
                "what",
                "send of a window's last reading -> its prediction visible to a read_committed consumer "
                        + "(includes the exactly-once commit at checkpoints every "
                        + cfg.get(JobOptions.CHECKPOINT_INTERVAL).toMillis()
                        + " ms)");
        out.put("latency_ms", e2e);
        Map<String, Object> op = new LinkedHashMap<>();
        op.put("p50", round(m.operatorLatencyMs.quantile(0.5), 2));
        op.put("p99", round(m.operatorLatencyMs.quantile(0.99), 2));
        op.put("what", "sum of Prediction.stageLatencyMicros: batching wait plus ONNX time inside the operators");
        out.put("operator_latency_ms", op);
        out.put("dead_letters", m.deadLetterCount);
        out.put("dead_letters_by_reason", m.deadLettersByReason);
        out.put("alerts", m.alertCount);
        return out;
    }

    private static Double round(double v, int digits) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return null;
        }
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    private static void printSummary(Map<String, Object> s) {
        System.out.println();
        System.out.println("==== ExitFlow demo summary ====");
        for (Map.Entry<String, Object> e : s.entrySet()) {
            Object v = e.getValue();
            String text = v instanceof long[] l
                    ? java.util.Arrays.toString(l)
                    : v instanceof float[] f ? java.util.Arrays.toString(f) : String.valueOf(v);
            System.out.printf(Locale.ROOT, "  %-22s %s%n", e.getKey(), text);
        }
    }

    private static void writeJson(Path file, Map<String, Object> summary) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), summary);
    }

    private static void log(String message) {
        System.out.println("[demo] " + message);
    }

    /** The demo's command line: its own settings, the simulator's it shares, then the job settings it passes on. */
    private static CommandLine commandLine() {
        return CommandLine.of(CommandLine.concat(DemoOptions.own(), DemoOptions.jobSettings()));
    }

    /** Usage, with every setting's default and meaning. */
    static String usage() {
        return "usage: ./exitflow-demo [--name value ...]\n\ndemo settings:\n"
                + CommandLine.of(DemoOptions.own()).help() + "\njob settings (passed to the anomaly job):\n"
                + CommandLine.of(DemoOptions.jobSettings()).help();
    }

    /**
     * Reads the command line ({@code --help} prints the usage and exits).
     *
     * @throws IllegalArgumentException naming the flag, for an unknown flag, a bad value or flags that do not go
     *     together
     */
    static Settings parse(String[] args) {
        if (CommandLine.wantsHelp(args)) {
            System.out.println(usage());
            System.exit(0);
        }
        Configuration c = commandLine().parse(args, new Configuration());
        Settings s = new Settings();
        c.getOptional(DemoOptions.DURATION).ifPresent(d -> s.durationMillis = d.toMillis());
        c.getOptional(SimulatorOptions.MAX_EVENTS).ifPresent(n -> s.maxEvents = n);
        s.schedule = c.get(DemoOptions.SCHEDULE);
        s.sensors = c.get(SimulatorOptions.SENSORS);
        s.sensorsGiven = c.containsKey(SimulatorOptions.SENSORS.key());
        s.readings = c.getOptional(SimulatorOptions.READINGS).map(Path::of).orElse(null);
        s.loop = c.get(SimulatorOptions.LOOP).on();
        s.badShare = c.get(SimulatorOptions.BAD_SHARE);
        s.bundle = c.get(DemoOptions.BUNDLE);
        s.summaryJson = c.getOptional(DemoOptions.SUMMARY_JSON).map(Path::of).orElse(null);
        s.timeseriesCsv =
                c.getOptional(DemoOptions.TIMESERIES_CSV).map(Path::of).orElse(null);
        s.reportEveryMillis = c.get(DemoOptions.REPORT_EVERY).toMillis();
        s.parallelism = c.get(DemoOptions.PARALLELISM);
        s.feedback = c.get(DemoOptions.FEEDBACK).on();
        s.schemaRegistry = c.get(DemoOptions.SCHEMA_REGISTRY).on();
        Map<String, String> given = c.toMap();
        for (ConfigOption<?> o : DemoOptions.jobSettings()) {
            if (given.containsKey(o.key())) {
                s.job.put(o, given.get(o.key()));
            }
        }
        StreamSimulator.schedule(s.schedule); // fail early on a bad schedule
        if (s.readings != null && s.sensorsGiven) {
            throw new IllegalArgumentException("--sensors sets the generated sensors; with --readings the file's "
                    + "recordings are sent (drop --sensors)");
        }
        if (s.schemaRegistry && s.job.containsKey(JobOptions.SCHEMA_REGISTRY_URL)) {
            throw new IllegalArgumentException(
                    "--schema-registry starts an embedded registry and --schema-registry-url "
                            + "names another: give one of them");
        }
        if (s.readings == null && s.loop) {
            throw new IllegalArgumentException("--loop applies to --readings only");
        }
        return s;
    }
}
