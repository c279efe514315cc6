package io.exitflow.jobs.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives the deploy/local scripts as a user would, on free loopback ports and a work dir of its own, so a
 * test cluster never collides with a developer's cluster on the default ports. Shared with the bench module (the
 * exactly-once and soak harness, bench/eos) through this module's test jar.
 */
public final class LocalStack {
    private static final Logger LOG = LoggerFactory.getLogger(LocalStack.class);
    private static final long SCRIPT_TIMEOUT_SECONDS = 300;
    /** TaskManagers whose Prometheus reporter ports {@link #LocalStack} keeps free. */
    private static final int MAX_TASKMANAGERS = 8;

    private final Path root;
    private final Path work;
    private final Map<String, String> env = new HashMap<>();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ObjectMapper json = new ObjectMapper();

    /**
     * @param root repository root (holds deploy/local)
     * @param work the scripts' work dir (logs, pid files, Kafka data)
     */
    public LocalStack(Path root, Path work) throws IOException {
        this.root = root;
        this.work = work;
        env.put("EXITFLOW_WORK", work.toString());
        // Beside the work dir, so a purge between runs keeps the resolved classpaths.
        env.put(
                "EXITFLOW_CLASSPATH_DIR",
                work.resolveSibling(work.getFileName() + "-classpath").toString());
        int[] ports = freePorts(4);
        env.put("KAFKA_PORT", String.valueOf(ports[0]));
        env.put("KAFKA_CONTROLLER_PORT", String.valueOf(ports[1]));
        env.put("FLINK_REST_PORT", String.valueOf(ports[2]));
        env.put("FLINK_RPC_PORT", String.valueOf(ports[3]));
        // Prometheus reporter: JobManager on this port, TaskManager N on port+N (room for 8 TaskManagers).
        env.put("FLINK_PROMETHEUS_PORT", String.valueOf(freePortBlock(1 + MAX_TASKMANAGERS, ports)));
        env.put("FLINK_TASKMANAGERS", "2");
        env.put("FLINK_TM_SLOTS", "2");
        // The scripts resolve classpaths with Maven, from this build's local repository (failsafe passes it, see
        // jobs/pom.xml); the broker's jars (kafka_2.13, kafka-tools), which the build does not use, land there on
        // first use.
        String repo = System.getProperty("exitflow.mvn.repo", "");
        if (!repo.isBlank()) {
            env.put("EXITFLOW_MVN_ARGS", "-Dmaven.repo.local=" + repo);
        }
    }

    /**
     * Sets one of the scripts' environment variables (deploy/local/lib.sh lists them, e.g. FLINK_TM_MEMORY) for
     * every later {@link #run}.
     */
    public LocalStack with(String variable, String value) {
        env.put(variable, value);
        return this;
    }

    /** {@code 127.0.0.1:<port>} of the broker. */
    public String bootstrapServers() {
        return "127.0.0.1:" + env.get("KAFKA_PORT");
    }

    /** The scripts' work dir: logs in {@code log/}, pid files in {@code pids/}. */
    public Path work() {
        return work;
    }

    /** Runs deploy/local/{script} with arguments; returns its output, or fails with it. */
    public String run(String script, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("bash");
        command.add(root.resolve("deploy/local").resolve(script).toString());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(root.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Path output = Files.createTempFile(script, ".out");
        pb.redirectOutput(output.toFile());
        Process p = pb.start();
        if (!p.waitFor(SCRIPT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(
                    script + " did not finish within " + SCRIPT_TIMEOUT_SECONDS + " s:\n" + Files.readString(output));
        }
        String text = Files.readString(output, StandardCharsets.UTF_8);
        Files.delete(output);
        LOG.info("{} {}:\n{}", script, String.join(" ", args), text);
        if (p.exitValue() != 0) {
            throw new IllegalStateException(script + " failed (exit " + p.exitValue() + "):\n" + text);
        }
        return text;
    }

    /** GET on the Flink REST API, parsed. */
    public JsonNode rest(String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + env.get("FLINK_REST_PORT") + path))
                .timeout(Duration.ofSeconds(10))
                .build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException(
                    "GET " + path + " answered " + response.statusCode() + ": " + response.body());
        }
        return json.readTree(response.body());
    }

    /** Cancels a job over REST and waits until Flink reports it CANCELED. */
    public void cancel(String jobId) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(
                        "http://127.0.0.1:" + env.get("FLINK_REST_PORT") + "/jobs/" + jobId + "?mode=cancel"))
                .method("PATCH", HttpRequest.BodyPublishers.noBody())
                .timeout(Duration.ofSeconds(10))
                .build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 202) {
            throw new IllegalStateException(
                    "cancel " + jobId + " answered " + response.statusCode() + ": " + response.body());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!"CANCELED".equals(rest("/jobs/" + jobId).path("state").asText())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("job " + jobId + " not CANCELED within 60 s");
            }
            Thread.sleep(200);
        }
    }

    /** Kills the process the scripts recorded for {@code role} (SIGKILL, as a crash) and waits until it is gone. */
    public void kill(String role) throws IOException, InterruptedException {
        long pid = pid(role);
        ProcessHandle process = ProcessHandle.of(pid)
                .orElseThrow(() -> new IllegalStateException(role + " (pid " + pid + ") is not running"));
        LOG.info("killing {} (pid {})", role, pid);
        process.destroyForcibly();
        try {
            process.onExit().get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(role + " (pid " + pid + ") did not die", e);
        }
    }

    /** The pid the scripts recorded for {@code role} (kafka, jobmanager, taskmanager-N). */
    public long pid(String role) throws IOException {
        return Long.parseLong(
                Files.readString(work.resolve("pids").resolve(role + ".pid")).trim());
    }

    /** Pids recorded by the scripts for the processes they started. */
    public List<Long> recordedPids() throws IOException {
        Path dir = work.resolve("pids");
        List<Long> pids = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    pids.add(Long.parseLong(Files.readString(f).trim()));
                }
            }
        }
        return pids;
    }

    /**
     * The Prometheus reporter's {@code /metrics} URI of process {@code index} (0: the JobManager, N: TaskManager N),
     * as deploy/local/lib.sh assigns ports from {@code FLINK_PROMETHEUS_PORT}.
     */
    public URI prometheusUri(int index) {
        if (index < 0 || index > MAX_TASKMANAGERS) {
            throw new IllegalArgumentException("process index 0.." + MAX_TASKMANAGERS + ", got " + index);
        }
        return URI.create(
                "http://127.0.0.1:" + (Integer.parseInt(env.get("FLINK_PROMETHEUS_PORT")) + index) + "/metrics");
    }

    /** The first of {@code n} consecutive ports that are free now and hold none of {@code taken}. */
    private static int freePortBlock(int n, int[] taken) throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int first;
            try (ServerSocket s = new ServerSocket(0)) {
                first = s.getLocalPort();
            }
            int block = first;
            if (first + n > 65_535 || java.util.Arrays.stream(taken).anyMatch(p -> p >= block && p < block + n)) {
                continue;
            }
            List<ServerSocket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < n; i++) {
                    sockets.add(new ServerSocket(first + i));
                }
                return first;
            } catch (IOException inUse) {
                // some port of the block is in use: try another block
            } finally {
                for (ServerSocket s : sockets) {
                    s.close();
                }
            }
        }
        throw new IOException("no " + n + " consecutive free ports found in 50 attempts");
    }

    /** Distinct free ports: all sockets stay open until every port is chosen. */
    private static int[] freePorts(int n) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0);
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket s : sockets) {
                s.close();
            }
        }
    }
}
