package io.exitflow.jobs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.exitflow.data.SensorSignalGenerator;
import io.exitflow.jobs.anomaly.SensorAnomalyJob;
import io.exitflow.jobs.cluster.SensorStreams.ExpectedWindow;
import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.schemas.Prediction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The anomaly job on a real local cluster, started by the deploy/local scripts exactly as README describes:
 * a Kafka broker JVM, a Flink JobManager and two TaskManager JVMs on loopback, the shaded job JAR submitted over
 * REST with the bundled models/sensor-cnn. Sensor readings from {@link SensorSignalGenerator} go in; each job must
 * answer every window the readings make exactly once, as a committed Avro {@link Prediction} whose fields agree with
 * the bundle and the window: in CASCADE mode, in SPLIT mode, and across the loss of a TaskManager (killed with
 * SIGKILL mid-stream). Finally, stop.sh must leave no process behind.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LocalClusterIT {
    private static final Logger LOG = LoggerFactory.getLogger(LocalClusterIT.class);
    private static final int SENSORS = 4;
    private static final int READINGS_PER_SENSOR = 1000;
    private static final int PARTITIONS = 2;
    private static final Duration OUTPUT_TIMEOUT = Duration.ofSeconds(120);
    private static final Pattern JOB_ID = Pattern.compile("JOB_ID=([0-9a-f]{32})");

    private static Path bundle;
    private static Manifest manifest;
    private static LocalStack stack;
    /** Readings all sent before the CASCADE and SPLIT jobs start. */
    private static SensorStreams sensors;

    @BeforeAll
    static void startClusterAndProduce() throws Exception {
        Path root = ClusterPaths.repositoryRoot();
        bundle = root.resolve("models/sensor-cnn");
        manifest = ModelBundle.load(bundle).manifest();
        stack = new LocalStack(root, ClusterPaths.buildDirectory().resolve("local-cluster-it"));
        // A previous run that died before its cleanup may have left processes and data behind.
        stack.run("stop.sh", "--purge");
        stack.run("start.sh");
        assertEquals(2, stack.rest("/overview").path("taskmanagers").asInt(), "two TaskManagers registered");
        stack.run(
                "create-topics.sh",
                "--partitions",
                String.valueOf(PARTITIONS),
                "sensor-readings",
                "predictions",
                "predictions-split",
                "sensor-readings-failover",
                "predictions-failover",
                "alerts",
                "dead-letters",
                "stage-stats",
                "threshold-updates",
                "predictions-metrics",
                "threshold-updates-metrics");
        sensors = new SensorStreams(
                "sensor", SENSORS, READINGS_PER_SENSOR, 42, manifest.input().window());
        sensors.send(stack.bootstrapServers(), "sensor-readings", PARTITIONS, 0, READINGS_PER_SENSOR);
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (stack == null) {
            return;
        }
        List<Long> pids = stack.recordedPids();
        stack.run("stop.sh");
        for (long pid : pids) {
            ProcessHandle.of(pid)
                    .ifPresent(p -> fail("process " + pid + " ("
                            + p.info().commandLine().orElse("?") + ") still runs after stop.sh"));
        }
        assertFalse(Files.exists(stack.work().resolve("flink/web-upload")), "stop.sh cleans web.upload.dir");
    }

    @Test
    @Order(1)
    void cascadeModePredictsEveryWindowOnce() throws Exception {
        String jobId = submit("sensor-readings", "predictions");
        checkAll(
                "predictions",
                awaitPredictions("predictions", sensors, sensors.requiredAfter(READINGS_PER_SENSOR)),
                sensors.requiredAfter(READINGS_PER_SENSOR));
        assertRunningOnBothTaskManagers(jobId);
        // Durable checkpoints under the work dir (start-flink.sh's config.yaml), not in the JobManager's memory.
        assertEquals(
                "FileSystemCheckpointStorage",
                stack.rest("/jobs/" + jobId + "/checkpoints/config")
                        .path("checkpoint_storage")
                        .asText());
        try (Stream<Path> chk =
                Files.list(stack.work().resolve("flink/checkpoints").resolve(jobId))) {
            assertTrue(
                    chk.anyMatch(p -> p.getFileName().toString().startsWith("chk-")),
                    "a completed checkpoint on disk under flink/checkpoints/" + jobId);
        }
    }

    /** Every stage its own operator: survivors travel between tasks (and TaskManagers) as in-flight events. */
    @Test
    @Order(2)
    void splitModePredictsEveryWindowOnce() throws Exception {
        String jobId = submit(
                "sensor-readings",
                "predictions-split",
                "--mode",
                "SPLIT",
                "--group-id",
                "exitflow-anomaly-split",
                "--transactional-id-prefix",
                "exitflow-anomaly-split");
        checkAll(
                "predictions-split",
                awaitPredictions("predictions-split", sensors, sensors.requiredAfter(READINGS_PER_SENSOR)),
                sensors.requiredAfter(READINGS_PER_SENSOR));
        assertRunningOnBothTaskManagers(jobId);
    }

    /**
     * The anomaly job with a budget (so its controller runs) as Prometheus sees it: the Prometheus reporter of every
     * process of the cluster serves the ExitFlow metrics, exits per stage (label stage) add up to the windows
     * answered, the threshold gauges equal the thresholds in force, and every metric the Grafana dashboard queries
     * is there ({@link PrometheusMetricsCheck}).
     */
    @Test
    @Order(3)
    void prometheusReporterServesTheExitFlowMetrics() throws Exception {
        cancelRunningJobs(); // two slots for this one
        double budgetRate = 100;
        String jobId = submit(
                "sensor-readings",
                "predictions-metrics",
                "--group-id",
                "exitflow-anomaly-metrics",
                "--transactional-id-prefix",
                "exitflow-anomaly-metrics",
                "--control-topic",
                "threshold-updates-metrics",
                "--budget-rate",
                String.valueOf(budgetRate));
        awaitPredictions("predictions-metrics", sensors, sensors.requiredAfter(READINGS_PER_SENSOR));
        new PrometheusMetricsCheck(stack, manifest, jobId, 2)
                .check("predictions-metrics", "threshold-updates-metrics", budgetRate, OUTPUT_TIMEOUT);
    }

    /**
     * A TaskManager JVM dies (SIGKILL) while the job runs: Flink restarts the job from its last checkpoint on the
     * remaining TaskManager, and the exactly-once sinks still give every window once, the ones answered before the
     * crash, around it and after it.
     */
    @Test
    @Order(4)
    void survivesTheLossOfATaskManager() throws Exception {
        // Room for this job on the TaskManager that survives: the others go.
        cancelRunningJobs();
        SensorStreams stream = new SensorStreams(
                "failover", SENSORS, READINGS_PER_SENSOR, 7, manifest.input().window());
        String jobId = submit(
                "sensor-readings-failover",
                "predictions-failover",
                "--group-id",
                "exitflow-anomaly-failover",
                "--transactional-id-prefix",
                "exitflow-anomaly-failover");
        assertRunningOnBothTaskManagers(jobId);

        int half = READINGS_PER_SENSOR / 2;
        stream.send(stack.bootstrapServers(), "sensor-readings-failover", PARTITIONS, 0, half);
        awaitPredictions("predictions-failover", stream, stream.requiredAfter(half));

        stack.kill("taskmanager-2");
        stream.send(stack.bootstrapServers(), "sensor-readings-failover", PARTITIONS, half, READINGS_PER_SENSOR);
        Map<String, ExpectedWindow> required = stream.requiredAfter(READINGS_PER_SENSOR);
        checkAll("predictions-failover", awaitPredictions("predictions-failover", stream, required), required);

        assertEquals("RUNNING", stack.rest("/jobs/" + jobId).path("state").asText());
        assertEquals(1, stack.rest("/overview").path("taskmanagers").asInt(), "one TaskManager left");
        JsonNode failures = stack.rest("/jobs/" + jobId + "/exceptions")
                .path("exceptionHistory")
                .path("entries");
        assertTrue(failures.size() >= 1, "the job restarted after losing a TaskManager");
    }

    /** Cancels every running job and waits until all slots are free again. */
    private static void cancelRunningJobs() throws Exception {
        for (JsonNode job : stack.rest("/jobs/overview").path("jobs")) {
            if ("RUNNING".equals(job.path("state").asText())) {
                stack.cancel(job.path("jid").asText());
            }
        }
        // The resource manager learns of freed slots asynchronously; spreading needs all of them free.
        long deadline = System.nanoTime() + OUTPUT_TIMEOUT.toNanos();
        JsonNode overview;
        while ((overview = stack.rest("/overview")).path("slots-available").asInt()
                < overview.path("slots-total").asInt()) {
            assertTrue(System.nanoTime() < deadline, "slots not freed after cancelling: " + overview);
            Thread.sleep(200);
        }
    }

    private String submit(String inputTopic, String predictionTopic, String... extraArgs) throws Exception {
        List<String> args = new ArrayList<>(List.of(
                "--jar",
                jobJar().toString(),
                SensorAnomalyJob.class.getName(),
                "--bootstrap-servers",
                stack.bootstrapServers(),
                "--bundle",
                bundle.toString(),
                "--input-topic",
                inputTopic,
                "--prediction-topic",
                predictionTopic,
                "--parallelism",
                String.valueOf(PARTITIONS),
                "--starting-offsets",
                "earliest",
                "--checkpoint-interval-ms",
                "1000"));
        args.addAll(List.of(extraArgs));
        String submitted = stack.run("submit.sh", args.toArray(String[]::new));
        Matcher m = JOB_ID.matcher(submitted);
        assertTrue(m.find(), "submit.sh prints the job id:\n" + submitted);
        return m.group(1);
    }

    /**
     * Reads the topic's committed predictions from the start until every required window has one (or the timeout
     * passes), failing on a prediction for a window the readings do not make, or on a second one for a window.
     */
    private static Map<String, Prediction> awaitPredictions(
            String topic, SensorStreams stream, Map<String, ExpectedWindow> required) {
        Map<String, ExpectedWindow> known = stream.windows();
        AvroCodec<Prediction> codec = AvroCodec.of(Prediction.class);
        Map<String, Prediction> byEvent = new HashMap<>();
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                partitions.add(new TopicPartition(topic, p));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + OUTPUT_TIMEOUT.toNanos();
            long found = 0;
            while (found < required.size() && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(Duration.ofMillis(500))) {
                    Prediction p;
                    try {
                        p = codec.decode(rec.value());
                    } catch (Exception e) {
                        throw new AssertionError("undecodable record on " + topic + " at offset " + rec.offset(), e);
                    }
                    assertTrue(known.containsKey(p.getEventId()), "prediction for a window never produced: " + p);
                    Prediction previous = byEvent.put(p.getEventId(), p);
                    assertTrue(
                            previous == null,
                            "window " + p.getEventId() + " predicted twice on " + topic + " (exactly-once sink):\n"
                                    + previous + "\n" + p);
                    if (required.containsKey(p.getEventId())) {
                        found++;
                    }
                }
            }
        }
        for (String id : required.keySet()) {
            assertTrue(
                    byEvent.containsKey(id),
                    "no prediction for window " + id + " on " + topic + " within " + OUTPUT_TIMEOUT + "; got "
                            + byEvent.size() + " (logs: " + stack.work().resolve("log") + ")");
        }
        return byEvent;
    }

    /** Checks every required window's prediction against the window and the bundle, and logs a summary. */
    private static void checkAll(
            String topic, Map<String, Prediction> predictions, Map<String, ExpectedWindow> required) {
        int[] exits = new int[manifest.numStages()];
        long correct = 0;
        for (Map.Entry<String, ExpectedWindow> e : required.entrySet()) {
            Prediction p = predictions.get(e.getKey());
            checkPrediction(p, e.getValue());
            exits[p.getExitStage()]++;
            correct += p.getPredictedClass().equals(p.getLabel()) ? 1 : 0;
        }
        LOG.info(
                "{}: {} predictions, {} required windows; their exits per stage {}; {} match the generator's label",
                topic,
                predictions.size(),
                required.size(),
                Arrays.toString(exits),
                correct);
    }

    private static void checkPrediction(Prediction p, ExpectedWindow w) {
        assertEquals(w.sensorId(), p.getKey());
        assertEquals(w.endTime(), p.getEventTime().toEpochMilli());
        assertEquals(w.label(), p.getLabel(), "label of the window's last reading is carried through");
        assertEquals(manifest.modelId(), p.getModelId());
        assertEquals(manifest.modelVersion(), p.getModelVersion());
        assertTrue(p.getClassIndex() >= 0 && p.getClassIndex() < manifest.numClasses(), p.toString());
        assertEquals(manifest.classes().get(p.getClassIndex()), p.getPredictedClass());
        assertTrue(p.getProbability() > 0f && p.getProbability() <= 1f, p.toString());
        assertTrue(p.getExitStage() >= 0 && p.getExitStage() < manifest.numStages(), p.toString());
        assertTrue(p.getStagesRun() >= p.getExitStage() + 1 && p.getStagesRun() <= manifest.numStages(), p.toString());
        assertEquals(p.getStagesRun(), p.getStageLatencyMicros().size(), "one latency per stage run");
    }

    /**
     * Waits until the job and all its tasks run and each TaskManager holds part of it (slots spread, so data crosses
     * JVMs). A job reports RUNNING before its slots are allocated and its tasks deployed, so this polls rather than
     * looks once.
     */
    private static void assertRunningOnBothTaskManagers(String jobId) throws Exception {
        long deadline = System.nanoTime() + OUTPUT_TIMEOUT.toNanos();
        while (true) {
            JsonNode job = stack.rest("/jobs/" + jobId);
            JsonNode tms = stack.rest("/taskmanagers").path("taskmanagers");
            String waitingFor = runningEverywhere(job, tms);
            if (waitingFor == null) {
                return;
            }
            if (System.nanoTime() > deadline) {
                fail("job " + jobId + " not running on both TaskManagers within " + OUTPUT_TIMEOUT + ": " + waitingFor
                        + "\njob: " + job + "\ntaskmanagers: " + tms);
            }
            Thread.sleep(200);
        }
    }

    /** What the job still lacks to run on both TaskManagers, or null when it does. */
    private static String runningEverywhere(JsonNode job, JsonNode tms) {
        if (!"RUNNING".equals(job.path("state").asText())) {
            return "job state " + job.path("state").asText();
        }
        for (JsonNode vertex : job.path("vertices")) {
            if (!"RUNNING".equals(vertex.path("status").asText())) {
                return "vertex " + vertex.path("name").asText() + " is "
                        + vertex.path("status").asText();
            }
        }
        if (tms.size() != 2) {
            return tms.size() + " TaskManagers registered";
        }
        for (JsonNode tm : tms) {
            if (tm.path("freeSlots").asInt() >= tm.path("slotsNumber").asInt()) {
                return "TaskManager " + tm.path("id").asText() + " runs no part of the job";
            }
        }
        return null;
    }

    /** The shaded job JAR of this build (mvn verify packages it before integration tests run). */
    private static Path jobJar() throws IOException {
        try (Stream<Path> files = Files.list(ClusterPaths.buildDirectory())) {
            return files.filter(f -> f.getFileName().toString().matches("exitflow-jobs-.*-job\\.jar"))
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException("no exitflow-jobs-*-job.jar in "
                            + ClusterPaths.buildDirectory() + ": run this test with mvn verify (it packages the jar)"));
        }
    }
}
