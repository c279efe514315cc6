package io.exitflow.jobs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.exitflow.data.SensorSignalGenerator;
import io.exitflow.data.SensorWindow;
import io.exitflow.jobs.anomaly.SensorAnomalyJob;
import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.runtime.bundle.Manifest;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.schemas.Prediction;
import io.exitflow.schemas.SensorReading;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The anomaly job on a real local cluster, started by the deploy/local scripts exactly as README describes:
 * a Kafka broker JVM, a Flink JobManager and two TaskManager JVMs on loopback, the shaded job JAR submitted over
 * REST with the bundled models/sensor-cnn, once in CASCADE and once in SPLIT mode. Sensor readings from
 * {@link SensorSignalGenerator} go in; for each job the test checks that every window the readings make comes out
 * once as an Avro {@link Prediction}, committed, with fields that agree with the bundle and the window, that both
 * TaskManagers run part of the job, and finally that stopping leaves no process behind.
 */
class LocalClusterIT {
    private static final Logger LOG = LoggerFactory.getLogger(LocalClusterIT.class);
    private static final int SENSORS = 4;
    private static final int READINGS_PER_SENSOR = 1000;
    private static final int PARTITIONS = 2;
    private static final long SEED = 42;
    /**
     * Windows ending within this much event time of a sensor's last reading may legitimately wait for a watermark
     * that never comes (the stream just stops); the test demands only the windows before it. Far above the job's
     * out-of-orderness bound.
     */
    private static final long TAIL_MILLIS = 1_000;
    private static final Duration OUTPUT_TIMEOUT = Duration.ofSeconds(120);

    private static Path root;
    private static Path bundle;
    private static Manifest manifest;
    private static LocalStack stack;
    private static Map<String, ExpectedWindow> expected;

    @BeforeAll
    static void startClusterAndProduce() throws Exception {
        root = ClusterPaths.repositoryRoot();
        bundle = root.resolve("models/sensor-cnn");
        manifest = ModelBundle.load(bundle).manifest();
        Path work = ClusterPaths.buildDirectory().resolve("local-cluster-it");
        stack = new LocalStack(root, work);
        // A previous run that died before its cleanup may have left processes and data behind.
        stack.run("stop.sh", "--purge");
        stack.run("start.sh");
        assertEquals(2, stack.rest("/overview").path("taskmanagers").asInt(), "two TaskManagers registered");
        stack.run("create-topics.sh", "--partitions", String.valueOf(PARTITIONS), "sensor-readings", "predictions",
                "predictions-split", "alerts", "dead-letters", "stage-stats", "threshold-updates");
        expected = produceReadings(manifest.input().window());
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (stack == null) {
            return;
        }
        List<Long> pids = stack.recordedPids();
        stack.run("stop.sh");
        for (long pid : pids) {
            ProcessHandle.of(pid).ifPresent(p -> fail("process " + pid + " (" + p.info().commandLine().orElse("?")
                    + ") still runs after stop.sh"));
        }
        assertFalse(Files.exists(stack.work().resolve("flink/web-upload")), "stop.sh cleans web.upload.dir");
    }

    @Test
    void cascadeModePredictsEveryWindowOnce() throws Exception {
        runAndCheck("predictions");
    }

    /** Every stage its own operator: survivors travel between tasks (and TaskManagers) as in-flight events. */
    @Test
    void splitModePredictsEveryWindowOnce() throws Exception {
        runAndCheck("predictions-split", "--mode", "SPLIT",
                "--group-id", "exitflow-anomaly-split", "--transactional-id-prefix", "exitflow-anomaly-split");
    }

    private void runAndCheck(String predictionTopic, String... extraArgs) throws Exception {
        List<String> args = new ArrayList<>(List.of("--jar", jobJar().toString(), SensorAnomalyJob.class.getName(),
                "--bootstrap-servers", stack.bootstrapServers(),
                "--bundle", bundle.toString(),
                "--prediction-topic", predictionTopic,
                "--parallelism", String.valueOf(PARTITIONS),
                "--starting-offsets", "earliest",
                "--checkpoint-interval-ms", "1000"));
        args.addAll(List.of(extraArgs));
        String submitted = stack.run("submit.sh", args.toArray(String[]::new));
        Matcher m = Pattern.compile("JOB_ID=([0-9a-f]{32})").matcher(submitted);
        assertTrue(m.find(), "submit.sh prints the job id:\n" + submitted);
        String jobId = m.group(1);

        Map<String, Prediction> predictions = readPredictions(predictionTopic);

        for (Map.Entry<String, ExpectedWindow> e : expected.entrySet()) {
            if (!e.getValue().required) {
                continue;
            }
            Prediction p = predictions.get(e.getKey());
            assertTrue(p != null, "no prediction for window " + e.getKey() + " on " + predictionTopic + " within "
                    + OUTPUT_TIMEOUT + "; got " + predictions.size() + " (logs: " + stack.work().resolve("log") + ")");
            checkPrediction(p, e.getValue());
        }

        int[] exits = new int[manifest.numStages()];
        long correct = 0;
        for (Prediction p : predictions.values()) {
            exits[p.getExitStage()]++;
            correct += p.getPredictedClass().equals(p.getLabel()) ? 1 : 0;
        }
        LOG.info("{}: {} predictions for {} windows; exits per stage {}; {} match the generator's label",
                predictionTopic, predictions.size(), expected.size(), Arrays.toString(exits), correct);

        // The job runs, has not restarted, and used both TaskManagers.
        JsonNode job = stack.rest("/jobs/" + jobId);
        assertEquals("RUNNING", job.path("state").asText());
        for (JsonNode tm : stack.rest("/taskmanagers").path("taskmanagers")) {
            assertTrue(tm.path("freeSlots").asInt() < tm.path("slotsNumber").asInt(),
                    "every TaskManager runs part of the job: " + tm);
        }
    }

    /** One window the produced readings make, keyed by the job's event id {@code <sensor>@<end time>}. */
    private record ExpectedWindow(String sensorId, long endTime, String label, boolean required) {}

    private static Map<String, ExpectedWindow> produceReadings(Manifest.Window window) throws Exception {
        long start = System.currentTimeMillis() - READINGS_PER_SENSOR * window.samplePeriodMs();
        List<List<SensorReading>> bySensor = new ArrayList<>();
        for (int s = 0; s < SENSORS; s++) {
            SensorSignalGenerator generator = new SensorSignalGenerator("sensor-" + s, SEED, start);
            List<SensorReading> readings = new ArrayList<>(READINGS_PER_SENSOR);
            for (int i = 0; i < READINGS_PER_SENSOR; i++) {
                readings.add(generator.next());
            }
            bySensor.add(readings);
        }

        AvroCodec<SensorReading> codec = AvroCodec.of(SensorReading.class);
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            List<Future<RecordMetadata>> sends = new ArrayList<>();
            // In time order across sensors, as sensors send: a partition's event time must not jump back, or the
            // watermark would make the later sensors' readings late. Sensors spread over both partitions, so
            // every source subtask has data and its watermark advances.
            for (int i = 0; i < READINGS_PER_SENSOR; i++) {
                for (int s = 0; s < SENSORS; s++) {
                    SensorReading r = bySensor.get(s).get(i);
                    sends.add(producer.send(new ProducerRecord<>("sensor-readings", s % PARTITIONS,
                            r.getSensorId().getBytes(StandardCharsets.UTF_8), codec.encode(r))));
                }
            }
            producer.flush();
            for (Future<RecordMetadata> send : sends) {
                send.get(); // fails the test if any reading was not written
            }
        }

        Map<String, ExpectedWindow> windows = new HashMap<>();
        for (List<SensorReading> readings : bySensor) {
            long last = readings.get(readings.size() - 1).getEventTime().toEpochMilli();
            for (int from = 0; from + window.size() <= readings.size(); from += window.slide()) {
                SensorWindow w = SensorWindow.of(readings, from, window.size());
                windows.put(w.sensorId() + "@" + w.endTimeMillis(), new ExpectedWindow(w.sensorId(), w.endTimeMillis(),
                        w.label(), w.endTimeMillis() <= last - TAIL_MILLIS));
            }
        }
        return windows;
    }

    /** Reads committed predictions until every required window has one (or the timeout passes). */
    private static Map<String, Prediction> readPredictions(String topic) {
        long required = expected.values().stream().filter(ExpectedWindow::required).count();
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
            while (found < required && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(Duration.ofMillis(500))) {
                    Prediction p;
                    try {
                        p = codec.decode(rec.value());
                    } catch (Exception e) {
                        throw new AssertionError("undecodable record on " + topic + " at offset " + rec.offset(), e);
                    }
                    ExpectedWindow w = expected.get(p.getEventId());
                    assertTrue(w != null, "prediction for a window that was never produced: " + p);
                    Prediction previous = byEvent.put(p.getEventId(), p);
                    assertTrue(previous == null, "window " + p.getEventId() + " predicted twice (exactly-once sink)");
                    if (w.required) {
                        found++;
                    }
                }
            }
        }
        return byEvent;
    }

    private static void checkPrediction(Prediction p, ExpectedWindow w) {
        assertEquals(w.sensorId, p.getKey());
        assertEquals(w.endTime, p.getEventTime().toEpochMilli());
        assertEquals(w.label, p.getLabel(), "label of the window's last reading is carried through");
        assertEquals(manifest.modelId(), p.getModelId());
        assertEquals(manifest.modelVersion(), p.getModelVersion());
        assertTrue(p.getClassIndex() >= 0 && p.getClassIndex() < manifest.numClasses(), p.toString());
        assertEquals(manifest.classes().get(p.getClassIndex()), p.getPredictedClass());
        assertTrue(p.getProbability() > 0f && p.getProbability() <= 1f, p.toString());
        assertTrue(p.getExitStage() >= 0 && p.getExitStage() < manifest.numStages(), p.toString());
        assertTrue(p.getStagesRun() >= p.getExitStage() + 1 && p.getStagesRun() <= manifest.numStages(), p.toString());
        assertEquals(p.getStagesRun(), p.getStageLatencyMicros().size(), "one latency per stage run");
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
