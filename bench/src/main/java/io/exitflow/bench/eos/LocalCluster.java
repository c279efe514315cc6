package io.exitflow.bench.eos;

import com.fasterxml.jackson.databind.JsonNode;
import io.exitflow.jobs.cluster.LocalStack;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The local cluster of deploy/local (a Kafka broker JVM, a Flink JobManager, {@code taskManagers} TaskManager JVMs),
 * driven through {@link LocalStack} on free ports and a work dir of the harness's own: start, topics, job submission,
 * SIGKILL and restart of a TaskManager, and what the harness samples (which TaskManager is which, their pids).
 */
@SuppressWarnings("try") // close() runs stop.sh and waits for it: an interrupt during teardown must surface
final class LocalCluster implements AutoCloseable {
    private static final Pattern JOB_ID = Pattern.compile("JOB_ID=([0-9a-f]{32})");
    private static final Pattern RESOURCE_ID = Pattern.compile("Starting TaskManager with ResourceID: (\\S+)");

    /** A TaskManager JVM's resource id, and how many id lines its log held when it was read. */
    private record KnownId(long pid, int lines, String id) {}

    private final LocalStack stack;
    private final int taskManagers;
    private final Map<String, KnownId> knownIds = new HashMap<>();
    private boolean started;

    /**
     * @param root repository root (deploy/local, models/)
     * @param work the scripts' work dir; emptied first
     * @param taskManagers TaskManager JVMs to start
     * @param slots slots per TaskManager
     */
    LocalCluster(Path root, Path work, int taskManagers, int slots) throws IOException {
        this.taskManagers = taskManagers;
        this.stack = new LocalStack(root, work)
                .with("FLINK_TASKMANAGERS", String.valueOf(taskManagers))
                .with("FLINK_TM_SLOTS", String.valueOf(slots))
                // The metric reporter's fixed ports would clash with another local cluster; the harness reads REST.
                .with("FLINK_PROMETHEUS_PORT", "off");
    }

    /** Stops what an earlier run left in the work dir, then starts the broker and Flink. */
    void start() throws IOException, InterruptedException {
        stack.run("stop.sh", "--purge");
        started = true;
        stack.run("start.sh");
        int registered = stack.rest("/overview").path("taskmanagers").asInt();
        if (registered != taskManagers) {
            throw new IllegalStateException(registered + " TaskManagers registered, expected " + taskManagers);
        }
    }

    void createTopics(int partitions, String... topics) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("--partitions", String.valueOf(partitions)));
        args.addAll(List.of(topics));
        stack.run("create-topics.sh", args.toArray(String[]::new));
    }

    /** Submits a job with submit.sh and returns its id once it runs. */
    String submit(Path jobJar, String mainClass, List<String> programArgs) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("--jar", jobJar.toString(), mainClass));
        args.addAll(programArgs);
        String out = stack.run("submit.sh", args.toArray(String[]::new));
        Matcher m = JOB_ID.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("submit.sh printed no job id:\n" + out);
        }
        return m.group(1);
    }

    String bootstrapServers() {
        return stack.bootstrapServers();
    }

    Path work() {
        return stack.work();
    }

    JsonNode rest(String path) throws IOException, InterruptedException {
        return stack.rest(path);
    }

    void cancel(String jobId) throws IOException, InterruptedException {
        stack.cancel(jobId);
    }

    /** The roles the scripts start: kafka, jobmanager, taskmanager-1..N. */
    List<String> roles() {
        List<String> roles = new ArrayList<>(List.of("kafka", "jobmanager"));
        roles.addAll(taskManagerRoles());
        return roles;
    }

    List<String> taskManagerRoles() {
        List<String> roles = new ArrayList<>();
        for (int i = 1; i <= taskManagers; i++) {
            roles.add("taskmanager-" + i);
        }
        return roles;
    }

    /** The pid of a role's JVM, when its process runs. */
    Optional<Long> livePid(String role) {
        try {
            long pid = stack.pid(role);
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(p -> pid);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Flink's resource id of each TaskManager role's current JVM: the id the REST API names it by. Read from the
     * newest "Starting TaskManager with ResourceID" line of its log, which every start of the role appends to; a
     * restarted JVM's id counts once its own line is there (one line more than when the previous JVM was seen).
     * Roles whose JVM does not run, or has not logged its id yet, are left out.
     */
    synchronized Map<String, String> resourceIds() throws IOException {
        Map<String, String> ids = new LinkedHashMap<>();
        for (String role : taskManagerRoles()) {
            Optional<Long> pid = livePid(role);
            if (pid.isEmpty()) {
                continue;
            }
            KnownId known = knownIds.get(role);
            if (known != null && known.pid() == pid.get()) {
                ids.put(role, known.id());
                continue;
            }
            Path log = stack.work().resolve("log").resolve(role + ".log");
            if (!Files.exists(log)) {
                continue;
            }
            String last = null;
            int lines = 0;
            Matcher m = RESOURCE_ID.matcher(Files.readString(log));
            while (m.find()) {
                last = m.group(1);
                lines++;
            }
            if (last != null && (known == null || lines > known.lines())) {
                knownIds.put(role, new KnownId(pid.get(), lines, last));
                ids.put(role, last);
            }
        }
        return ids;
    }

    /** TaskManager roles that run part of a job now (a slot in use). */
    List<String> busyTaskManagers() throws IOException, InterruptedException {
        Map<String, String> ids = resourceIds();
        List<String> busy = new ArrayList<>();
        for (JsonNode tm : stack.rest("/taskmanagers").path("taskmanagers")) {
            if (tm.path("freeSlots").asInt() < tm.path("slotsNumber").asInt()) {
                ids.forEach((role, id) -> {
                    if (id.equals(tm.path("id").asText()) && livePid(role).isPresent()) {
                        busy.add(role);
                    }
                });
            }
        }
        return busy;
    }

    /** SIGKILL, as a crash; returns once the process is gone. */
    void kill(String role) throws IOException, InterruptedException {
        stack.kill(role);
    }

    /** Starts a killed TaskManager again (deploy/local/start-taskmanager.sh), once it has registered. */
    void restart(String role) throws IOException, InterruptedException {
        stack.run("start-taskmanager.sh", role.substring("taskmanager-".length()));
    }

    /**
     * Null when the job and every one of its vertices are RUNNING, else what is not (the job reports RUNNING before
     * its tasks are deployed).
     */
    String notRunning(String jobId) throws IOException, InterruptedException {
        JsonNode job = stack.rest("/jobs/" + jobId);
        if (!"RUNNING".equals(job.path("state").asText())) {
            return "job " + job.path("state").asText();
        }
        for (JsonNode vertex : job.path("vertices")) {
            if (!"RUNNING".equals(vertex.path("status").asText())) {
                return vertex.path("name").asText() + " "
                        + vertex.path("status").asText();
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        if (started) {
            stack.run("stop.sh");
        }
    }
}
