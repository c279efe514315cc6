package io.exitflow.bench.eos;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Samples the running job and its cluster on a timer and writes one CSV row (and one progress line) per sample:
 * readings sent, windows answered, output lag (event time of the newest reading sent minus that of the newest window
 * answered), the input's consumer-group lag, job state and restarts, the newest completed checkpoint's size and
 * duration, each TaskManager's heap (newest, and the least seen since the previous row: the live set after
 * collections) and metaspace from Flink's metrics, and the resident memory (VmRSS) of every JVM of the cluster. A
 * faster tick collects every checkpoint ({@link CheckpointLog}) and the heap minimum. A value that could not be read
 * (a TaskManager just killed, a REST call refused) is an empty cell, and the progress line names the error.
 */
@SuppressWarnings("try") // close() joins the sampling thread: an interrupt during teardown must surface, not vanish
final class ClusterSampler implements AutoCloseable {
    private static final long TICK_MS = 2_000;

    private final LocalCluster cluster;
    private final String jobId;
    private final PredictionAudit audit;
    private final LongSupplier sent;
    private final LongSupplier lastSentEventMillis;
    private final String groupId;
    private final String inputTopic;
    private final String label;
    private final long startNanos = System.nanoTime();
    private final long startMillis = System.currentTimeMillis();
    private final CheckpointLog checkpoints = new CheckpointLog();
    private final Admin admin;
    private final BufferedWriter csv;
    private final List<String> columns = new ArrayList<>();
    private final List<Map<String, Double>> rows = new ArrayList<>();
    private final Map<String, Double> heapMin = new HashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "cluster-sampler");
        t.setDaemon(true);
        return t;
    });
    private long lastRowNanos = startNanos;
    private long lastRowSent;
    private String lastError = "";
    private long errors;
    private long errorsAtLastRow;

    /**
     * @param label run name for the progress lines (eos, soak)
     * @param rowEveryMs how often a row is written (at least the 2 s tick)
     */
    ClusterSampler(
            LocalCluster cluster,
            String jobId,
            PredictionAudit audit,
            LongSupplier sent,
            LongSupplier lastSentEventMillis,
            String groupId,
            String inputTopic,
            Path csvFile,
            long rowEveryMs,
            String label)
            throws IOException {
        this.cluster = cluster;
        this.jobId = jobId;
        this.audit = audit;
        this.sent = sent;
        this.lastSentEventMillis = lastSentEventMillis;
        this.groupId = groupId;
        this.inputTopic = inputTopic;
        this.label = label;
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        this.admin = Admin.create(p);
        columns.addAll(List.of(
                "elapsed_s",
                "readings_sent",
                "send_rate",
                "windows_answered",
                "duplicates",
                "output_lag_s",
                "group_lag",
                "job_running",
                "restarts",
                "taskmanagers",
                "checkpoints_completed",
                "checkpoints_failed",
                "last_checkpoint_id",
                "last_checkpoint_mb",
                "last_checkpoint_state_mb",
                "last_checkpoint_ms"));
        for (String tm : cluster.taskManagerRoles()) {
            columns.addAll(List.of("heap_mb_" + tm, "heap_min_mb_" + tm, "metaspace_mb_" + tm));
        }
        for (String role : cluster.roles()) {
            columns.add("rss_mb_" + role);
        }
        columns.add("load1");
        this.csv = Files.newBufferedWriter(csvFile);
        csv.write("time," + String.join(",", columns));
        csv.newLine();
        csv.flush();
        long every = Math.max(TICK_MS, rowEveryMs);
        timer.scheduleAtFixedRate(this::tick, 0, TICK_MS, TimeUnit.MILLISECONDS);
        timer.scheduleAtFixedRate(this::row, every, every, TimeUnit.MILLISECONDS);
    }

    long startMillis() {
        return startMillis;
    }

    double elapsedSeconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    CheckpointLog checkpoints() {
        return checkpoints;
    }

    /** The rows written so far (column name to value; NaN where a value could not be read). */
    synchronized List<Map<String, Double>> rows() {
        return List.copyOf(rows);
    }

    /** Samples that failed in part (empty cells), and the last reason. */
    synchronized String errors() {
        return errors == 0 ? "none" : errors + " (last: " + lastError + ")";
    }

    private void tick() {
        try {
            checkpoints.update(cluster.rest("/jobs/" + jobId + "/checkpoints"));
        } catch (Exception e) {
            error("checkpoints", e);
        }
        for (Map.Entry<String, String> tm : resourceIds().entrySet()) {
            double heap = tmMetrics(tm.getValue()).getOrDefault("Status.JVM.Memory.Heap.Used", Double.NaN);
            if (!Double.isNaN(heap)) {
                synchronized (this) {
                    heapMin.merge(tm.getKey(), heap, Math::min);
                }
            }
        }
    }

    private synchronized void row() {
        try {
            Map<String, Double> v = new LinkedHashMap<>();
            long now = System.nanoTime();
            long sentNow = sent.getAsLong();
            v.put("elapsed_s", (now - startNanos) / 1e9);
            v.put("readings_sent", (double) sentNow);
            v.put("send_rate", (sentNow - lastRowSent) / ((now - lastRowNanos) / 1e9));
            lastRowNanos = now;
            lastRowSent = sentNow;
            v.put("windows_answered", (double) audit.distinct());
            v.put("duplicates", (double) audit.duplicates());
            long newest = audit.newestEndMillis();
            long lastSent = lastSentEventMillis.getAsLong();
            v.put(
                    "output_lag_s",
                    newest == Long.MIN_VALUE || lastSent == Long.MIN_VALUE
                            ? Double.NaN
                            : Math.max(0, lastSent - newest) / 1000.0);
            v.put("group_lag", groupLag());
            jobState(v);
            CheckpointLog.Checkpoint last = checkpoints.lastCompleted();
            v.put("checkpoints_completed", (double) checkpoints.completed());
            v.put("checkpoints_failed", (double) checkpoints.failed());
            v.put("last_checkpoint_id", last == null ? Double.NaN : last.id());
            v.put("last_checkpoint_mb", last == null ? Double.NaN : last.checkpointedBytes() / 1e6);
            v.put("last_checkpoint_state_mb", last == null ? Double.NaN : last.stateBytes() / 1e6);
            v.put("last_checkpoint_ms", last == null ? Double.NaN : last.durationMillis());
            Map<String, String> ids = resourceIds();
            for (String tm : cluster.taskManagerRoles()) {
                Map<String, Double> m =
                        ids.containsKey(tm) && cluster.livePid(tm).isPresent() ? tmMetrics(ids.get(tm)) : Map.of();
                v.put("heap_mb_" + tm, m.getOrDefault("Status.JVM.Memory.Heap.Used", Double.NaN) / 1e6);
                v.put("heap_min_mb_" + tm, heapMin.getOrDefault(tm, Double.NaN) / 1e6);
                v.put("metaspace_mb_" + tm, m.getOrDefault("Status.JVM.Memory.Metaspace.Used", Double.NaN) / 1e6);
            }
            heapMin.clear();
            for (String role : cluster.roles()) {
                v.put("rss_mb_" + role, rssMb(role));
            }
            v.put("load1", loadAverage());
            rows.add(v);
            writeRow(v);
            System.out.println(progress(v));
        } catch (Exception e) {
            error("row", e);
            System.out.println("[" + label + "] sample failed: " + e);
        }
    }

    private void jobState(Map<String, Double> v) {
        try {
            String notRunning = cluster.notRunning(jobId);
            v.put("job_running", notRunning == null ? 1.0 : 0.0);
            JsonNode restarts = cluster.rest("/jobs/" + jobId + "/metrics?get=numRestarts");
            v.put(
                    "restarts",
                    restarts.size() > 0 ? restarts.get(0).path("value").asDouble() : Double.NaN);
            v.put("taskmanagers", cluster.rest("/overview").path("taskmanagers").asDouble());
        } catch (Exception e) {
            error("job state", e);
            v.putIfAbsent("job_running", Double.NaN);
            v.putIfAbsent("restarts", Double.NaN);
            v.putIfAbsent("taskmanagers", Double.NaN);
        }
    }

    private double groupLag() {
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId)
                    .partitionsToOffsetAndMetadata()
                    .get(10, TimeUnit.SECONDS);
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (var p : admin.describeTopics(List.of(inputTopic))
                    .allTopicNames()
                    .get(10, TimeUnit.SECONDS)
                    .get(inputTopic)
                    .partitions()) {
                latest.put(new TopicPartition(inputTopic, p.partition()), OffsetSpec.latest());
            }
            var ends = admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS);
            long lag = 0;
            for (var e : ends.entrySet()) {
                OffsetAndMetadata c = committed.get(e.getKey());
                lag += e.getValue().offset() - (c == null ? 0 : c.offset());
            }
            return lag;
        } catch (Exception e) {
            error("group lag", e);
            return Double.NaN;
        }
    }

    private Map<String, String> resourceIds() {
        try {
            return cluster.resourceIds();
        } catch (IOException e) {
            error("TaskManager ids", e);
            return Map.of();
        }
    }

    /** Metric name to value of one TaskManager; empty when it does not answer. */
    private Map<String, Double> tmMetrics(String resourceId) {
        Map<String, Double> out = new HashMap<>();
        try {
            JsonNode metrics = cluster.rest("/taskmanagers/" + URLEncoder.encode(resourceId, StandardCharsets.UTF_8)
                    + "/metrics?get=Status.JVM.Memory.Heap.Used,Status.JVM.Memory.Metaspace.Used");
            for (JsonNode m : metrics) {
                out.put(m.path("id").asText(), m.path("value").asDouble());
            }
        } catch (Exception e) {
            error("metrics of " + resourceId, e);
        }
        return out;
    }

    private double rssMb(String role) {
        Optional<Long> pid = cluster.livePid(role);
        if (pid.isEmpty()) {
            return Double.NaN;
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc", pid.get().toString(), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
            return Double.NaN;
        } catch (IOException | NumberFormatException e) {
            error("RSS of " + role, e);
            return Double.NaN;
        }
    }

    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    private synchronized void error(String what, Exception e) {
        errors++;
        lastError = what + ": " + e.getMessage();
    }

    private void writeRow(Map<String, Double> v) throws IOException {
        StringBuilder sb = new StringBuilder(Instant.now().toString());
        for (String c : columns) {
            double x = v.getOrDefault(c, Double.NaN);
            sb.append(',');
            if (!Double.isNaN(x)) {
                sb.append(
                        x == Math.rint(x) && Math.abs(x) < 1e15
                                ? String.valueOf((long) x)
                                : String.format(Locale.ROOT, "%.3f", x));
            }
        }
        csv.write(sb.toString());
        csv.newLine();
        csv.flush();
    }

    private String progress(Map<String, Double> v) {
        StringBuilder sb = new StringBuilder(String.format(
                Locale.ROOT,
                "[%s %s] sent %,d (%.0f/s) windows %,d dup %d lag %s s group-lag %s | job %s restarts %s | ckpt #%s %s MB"
                        + " %s ms |",
                label,
                clock(v.get("elapsed_s")),
                v.get("readings_sent").longValue(),
                v.get("send_rate"),
                v.get("windows_answered").longValue(),
                v.get("duplicates").longValue(),
                fmt(v.get("output_lag_s"), "%.1f"),
                fmt(v.get("group_lag"), "%,.0f"),
                v.get("job_running") == 1.0 ? "RUNNING" : "not running",
                fmt(v.get("restarts"), "%.0f"),
                fmt(v.get("last_checkpoint_id"), "%.0f"),
                fmt(v.get("last_checkpoint_mb"), "%.2f"),
                fmt(v.get("last_checkpoint_ms"), "%.0f")));
        for (String tm : cluster.taskManagerRoles()) {
            String shortName = "tm" + tm.substring("taskmanager-".length());
            sb.append(String.format(
                    Locale.ROOT,
                    " %s heap %s MB rss %s MB",
                    shortName,
                    fmt(v.get("heap_mb_" + tm), "%.0f"),
                    fmt(v.get("rss_mb_" + tm), "%.0f")));
        }
        sb.append(String.format(Locale.ROOT, " | load %.1f", v.get("load1")));
        if (errors > errorsAtLastRow) {
            sb.append(" | ")
                    .append(errors - errorsAtLastRow)
                    .append(" values unread, last: ")
                    .append(lastError);
        }
        errorsAtLastRow = errors;
        return sb.toString();
    }

    static String clock(double seconds) {
        long s = (long) seconds;
        return String.format(Locale.ROOT, "%02d:%02d", s / 60, s % 60);
    }

    private static String fmt(Double x, String format) {
        return x == null || Double.isNaN(x) ? "-" : String.format(Locale.ROOT, format, x);
    }

    /** Writes a last row now, stops the timer, closes the CSV; a second call does nothing. */
    @Override
    public void close() throws IOException, InterruptedException {
        if (timer.isShutdown()) {
            return;
        }
        timer.shutdown();
        timer.awaitTermination(30, TimeUnit.SECONDS);
        tick();
        row();
        csv.close();
        admin.close();
    }
}
