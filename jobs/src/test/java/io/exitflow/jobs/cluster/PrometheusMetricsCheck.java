package io.exitflow.jobs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.schemas.ThresholdUpdate;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What Flink's Prometheus reporter serves for a running ExitFlow job on the local cluster (deploy/local), read as
 * Prometheus reads it: GET /metrics on the JobManager's and every TaskManager's reporter port. Checks that the
 * ExitFlow metrics are there with values that agree with the job's outputs: exits per stage (label {@code stage})
 * add up to the windows the assembler emitted and to the predictions committed; each operator subtask's threshold
 * gauges equal the thresholds of the version it reports (the bundle's for version 0, else that update from the
 * control topic), and that version is the controller's; the controller's budget gauge is the budget given. Also
 * checks that every metric the Grafana dashboard queries (deploy/grafana/dashboard-metrics.txt) is served, and saves
 * the scrape (one sample per metric and label set) for tests/python/test_grafana_dashboard.py.
 */
final class PrometheusMetricsCheck {
    private static final Logger LOG = LoggerFactory.getLogger(PrometheusMetricsCheck.class);
    static final String OPERATOR = "flink_taskmanager_job_task_operator_";
    static final String EXITS = OPERATOR + "stage_exits";
    static final String THRESHOLD = OPERATOR + "stage_threshold";
    static final String WINDOWS = OPERATOR + "windowsEmitted";
    static final String VERSION = OPERATOR + "thresholdVersion";
    static final String BUDGET_RATE = OPERATOR + "budgetTargetRate";
    static final String CONTROLLER = "exitflow_controller"; // the controller's operator name as the reporter writes it
    /** Saves the reduced scrape into deploy/grafana/testdata too (not only the build dir) when "true". */
    static final String UPDATE_PROPERTY = "exitflow.update-scrape";

    private final LocalStack stack;
    private final Manifest manifest;
    private final String jobId;
    private final int taskManagers;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    PrometheusMetricsCheck(LocalStack stack, Manifest manifest, String jobId, int taskManagers) {
        this.stack = stack;
        this.manifest = manifest;
        this.jobId = jobId;
        this.taskManagers = taskManagers;
    }

    /** The JobManager's and every TaskManager's scrape, one after the other. */
    PrometheusScrape scrape() throws IOException, InterruptedException {
        StringBuilder all = new StringBuilder();
        for (int i = 0; i <= taskManagers; i++) {
            all.append(PrometheusScrape.fetch(http, stack.prometheusUri(i)).text())
                    .append('\n');
        }
        return PrometheusScrape.parse(all.toString());
    }

    /**
     * Waits (up to {@code timeout}) until the job has answered every window it emitted, its predictions are
     * committed and the operators run on the controller's thresholds, then checks the scrape as the class comment
     * says.
     *
     * @param predictionTopic the job's prediction topic
     * @param controlTopic the job's control topic (its controller's threshold updates)
     * @param budgetRate the job's {@code --budget-rate}
     * @return the last scrape
     */
    PrometheusScrape check(String predictionTopic, String controlTopic, double budgetRate, Duration timeout)
            throws Exception {
        Predicate<PrometheusScrape.Sample> ours = s -> jobId.equals(s.label("job_id"));
        long deadline = System.nanoTime() + timeout.toNanos();
        PrometheusScrape scrape;
        long committed;
        Map<Long, List<Float>> updates;
        while (true) {
            scrape = scrape();
            committed = countCommitted(predictionTopic);
            updates = thresholdUpdates(controlTopic);
            String waitingFor = waitingFor(scrape, ours, committed, updates);
            if (waitingFor == null) {
                break;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        "the scrape does not agree with the job within " + timeout + ": " + waitingFor);
            }
            Thread.sleep(1000);
        }
        long exits = (long) scrape.sum(EXITS, ours);
        LOG.info(
                "scrape of job {}: {} exits per stage {}, {} windows emitted, {} predictions committed, "
                        + "{} threshold updates on {}",
                jobId,
                exits,
                exitsPerStage(scrape, ours),
                (long) scrape.sum(WINDOWS, ours),
                committed,
                updates.size(),
                controlTopic);
        assertTrue(exits > 0, "the job answered windows");

        // The stage index is a label, every stage has its series, and none is in a metric name.
        Set<String> stages = new TreeSet<>();
        scrape.samples(EXITS).stream().filter(ours).forEach(s -> stages.add(s.label("stage")));
        Set<String> all = new TreeSet<>();
        for (int k = 0; k < manifest.numStages(); k++) {
            all.add(String.valueOf(k));
        }
        assertEquals(all, stages, "one exits series per stage, labelled stage=\"k\"");
        assertFalse(scrape.names().stream().anyMatch(n -> n.matches(".*stage_\\d.*")), "no stage index in a name");

        checkThresholds(scrape, ours, updates);

        List<PrometheusScrape.Sample> budget =
                scrape.samples(BUDGET_RATE).stream().filter(ours).toList();
        assertEquals(1, budget.size(), "one controller");
        assertEquals(budgetRate, budget.get(0).value(), "budgetTargetRate is the --budget-rate");
        for (String gauge : List.of("budgetInfeasible", "warmingUp")) {
            double v = scrape.sum(OPERATOR + gauge, ours);
            assertTrue(v == 0 || v == 1, gauge + " is 0 or 1: " + v);
        }
        for (PrometheusScrape.Sample s : scrape.samples(OPERATOR + "estimatedAccuracy")) {
            assertTrue(Double.isNaN(s.value()) || s.value() >= 0 && s.value() <= 1, "estimatedAccuracy " + s.value());
        }

        Path listFile = ClusterPaths.repositoryRoot().resolve("deploy/grafana/dashboard-metrics.txt");
        Set<String> dashboardMetrics = Files.readAllLines(listFile).stream()
                .map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .collect(Collectors.toCollection(LinkedHashSet::new));
        assertFalse(dashboardMetrics.isEmpty(), listFile + " lists the dashboard's metrics");
        Set<String> missing = new TreeSet<>(dashboardMetrics);
        missing.removeAll(scrape.names());
        assertTrue(
                missing.isEmpty(),
                "metrics the Grafana dashboard queries that the reporter does not serve: " + missing);
        save(scrape);
        return scrape;
    }

    /** Why the scrape does not agree with the outputs yet, or null when it does. */
    private String waitingFor(
            PrometheusScrape scrape,
            Predicate<PrometheusScrape.Sample> ours,
            long committed,
            Map<Long, List<Float>> updates) {
        long exits = (long) scrape.sum(EXITS, ours);
        long windows = (long) scrape.sum(WINDOWS, ours);
        if (exits == 0 || exits != windows) {
            return exits + " exits for " + windows + " windows emitted";
        }
        if (committed != exits) {
            return committed + " predictions committed for " + exits + " exits";
        }
        Set<Double> versions = new TreeSet<>();
        double controller = Double.NaN;
        for (PrometheusScrape.Sample s : scrape.samples(VERSION)) {
            if (ours.test(s)) {
                if (CONTROLLER.equals(s.label("operator_name"))) {
                    controller = s.value();
                } else {
                    versions.add(s.value());
                }
            }
        }
        if (Double.isNaN(controller) || !versions.equals(Set.of(controller))) {
            return "operators on threshold versions " + versions + ", the controller on " + controller;
        }
        // The control topic is read after the scrape: an update published in between is not in the scrape yet.
        long newest = updates.keySet().stream().mapToLong(Long::longValue).max().orElse(0L);
        if ((long) controller != newest) {
            return "the controller on version " + (long) controller + ", the control topic's newest is " + newest;
        }
        return null;
    }

    /** Each subtask's threshold gauges against the thresholds of the version it reports. */
    private void checkThresholds(
            PrometheusScrape scrape, Predicate<PrometheusScrape.Sample> ours, Map<Long, List<Float>> updates) {
        float[] defaults = manifest.exit().thresholds();
        long newest = updates.keySet().stream().mapToLong(Long::longValue).max().orElse(0L);
        int checked = 0;
        for (PrometheusScrape.Sample v : scrape.samples(VERSION)) {
            if (!ours.test(v)) {
                continue;
            }
            long version = (long) v.value();
            if (CONTROLLER.equals(v.label("operator_name"))) {
                assertEquals(newest, version, "the controller's version is its newest update on the control topic");
                continue;
            }
            List<Float> expected = new ArrayList<>();
            if (version == 0) {
                for (float t : defaults) {
                    expected.add(t);
                }
            } else {
                assertTrue(
                        updates.containsKey(version),
                        "operator " + v.labels() + " reports version " + version
                                + ", which is not on the control topic: " + updates.keySet());
                expected = updates.get(version);
            }
            for (PrometheusScrape.Sample t : scrape.samples(THRESHOLD)) {
                if (ours.test(t)
                        && t.label("operator_name").equals(v.label("operator_name"))
                        && t.label("subtask_index").equals(v.label("subtask_index"))) {
                    int stage = Integer.parseInt(t.label("stage"));
                    assertEquals(
                            (double) expected.get(stage),
                            t.value(),
                            "threshold of stage " + stage + " of "
                                    + v.label("operator_name") + " subtask " + v.label("subtask_index") + " (version "
                                    + version + ")");
                    checked++;
                }
            }
        }
        assertTrue(checked >= manifest.numStages(), "threshold gauges checked: " + checked);
    }

    private static Map<String, Long> exitsPerStage(PrometheusScrape scrape, Predicate<PrometheusScrape.Sample> ours) {
        Map<String, Long> out = new java.util.TreeMap<>();
        scrape.samples(EXITS).stream()
                .filter(ours)
                .forEach(s -> out.merge(s.label("stage"), (long) s.value(), Long::sum));
        return out;
    }

    /** Committed records on {@code topic} (read_committed, from the start to the end). */
    private long countCommitted(String topic) {
        long[] n = {0};
        consume(topic, r -> n[0]++);
        return n[0];
    }

    /** The thresholds of every update on the control topic, by version. */
    private Map<Long, List<Float>> thresholdUpdates(String topic) {
        AvroCodec<ThresholdUpdate> codec = AvroCodec.of(ThresholdUpdate.class);
        Map<Long, List<Float>> out = new HashMap<>();
        consume(topic, r -> {
            ThresholdUpdate u;
            try {
                u = codec.decode(r.value());
            } catch (Exception e) {
                throw new AssertionError("undecodable threshold update at offset " + r.offset() + " of " + topic, e);
            }
            if (u.getModelId().equals(manifest.modelId())) {
                out.put(u.getUpdateVersion(), List.copyOf(u.getThresholds()));
            }
        });
        return out;
    }

    private void consume(String topic, java.util.function.Consumer<ConsumerRecord<byte[], byte[]>> each) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions); // read_committed: the last stable offsets
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                assertTrue(System.nanoTime() < deadline, "reading " + topic + " to its end took over 30 s");
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    each.accept(r);
                }
            }
        }
    }

    /** One sample per metric and label set, into the build dir (and deploy/grafana/testdata when asked). */
    private void save(PrometheusScrape scrape) throws IOException {
        String reduced = reduced(scrape);
        Path build = ClusterPaths.buildDirectory().resolve("local-cluster-it/flink-scrape.prom");
        Files.createDirectories(build.getParent());
        Files.writeString(build, reduced);
        LOG.info("reduced scrape written to {}", build);
        if (Boolean.getBoolean(UPDATE_PROPERTY)) {
            Path resource = ClusterPaths.repositoryRoot().resolve("deploy/grafana/testdata/flink-scrape.prom");
            Files.writeString(resource, reduced);
            LOG.info("and to {}", resource);
        }
    }

    /** The scrape with one sample per metric name and set of label names, in the text format. */
    static String reduced(PrometheusScrape scrape) {
        StringBuilder out = new StringBuilder("# One sample per metric and label set of a scrape of the local cluster"
                + " running the anomaly job with a budget (LocalClusterIT, PrometheusMetricsCheck).\n");
        Set<String> seen = new java.util.HashSet<>();
        for (PrometheusScrape.Sample s : scrape.samples()) {
            if (!seen.add(s.name() + new TreeSet<>(s.labels().keySet()))) {
                continue;
            }
            out.append(s.name());
            if (!s.labels().isEmpty()) {
                out.append(s.labels().entrySet().stream()
                        .map(e -> e.getKey() + "=\""
                                + e.getValue()
                                        .replace("\\", "\\\\")
                                        .replace("\"", "\\\"")
                                        .replace("\n", "\\n") + "\"")
                        .collect(Collectors.joining(",", "{", "}")));
            }
            double v = s.value();
            out.append(' ')
                    .append(
                            Double.isNaN(v)
                                    ? "NaN"
                                    : Double.isInfinite(v) ? (v > 0 ? "+Inf" : "-Inf") : Double.toString(v))
                    .append('\n');
        }
        return out.toString();
    }
}
