package io.exitflow.bench.e2e;

import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Where a job run's process CPU goes, by thread: every Java thread's CPU time is polled every
 * {@value #POLL_MILLIS} ms during the run (Flink's task threads end with the job, so the last poll before a thread
 * ends is what it is credited with) and summed per role of the thread (its name says which operator chain, Kafka
 * client or broker thread it is). The JVM's own threads (GC, JIT compilers, VM thread), which the management API
 * does not list, are read from Linux's {@code /proc/self/task/<tid>/schedstat} (on-CPU nanoseconds) where it exists.
 * The rest of the process CPU (threads that ended between polls, native threads) is reported as a remainder.
 *
 * <p>The span is from {@link #start()} to {@link #close()} unless {@link #mark()} moves its start (a mark after the
 * job's warm-up, so start-up and JIT compilation stay out) and {@link #end()} its end (before the job's shutdown).
 */
@SuppressWarnings("try") // close() joins the sampling thread: an interrupt during teardown must surface, not vanish
final class ThreadCpuSplit implements AutoCloseable {
    private static final long POLL_MILLIS = 100;
    /** The role of HotSpot's compiler threads ({@link #vmRole}): what {@link #jitShare} reads. */
    static final String JIT_ROLE = "JVM: JIT compilers";
    /** The role of the benchmarks' own progress readers (threads named {@code bench-progress-reader...}). */
    static final String PROGRESS_READER_ROLE = "bench progress reader";

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final OperatingSystemMXBean OS =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private final Map<Long, Long> baseline = new HashMap<>();
    private final Map<Long, Long> latest = new HashMap<>();
    private final Map<Long, String> names = new HashMap<>();
    private final Map<String, Long> vmBaseline = new HashMap<>();
    private final Map<String, Long> vmLatest = new HashMap<>();
    private long processCpu0 = OS.getProcessCpuTime();
    private long gcMillis0 = gcMillis();
    private final Thread poller;
    private long processCpu1 = -1;
    private long gcMillis1 = -1;
    private volatile boolean running = true;
    /** Set by {@link #end()}: the poller stops updating, the span is closed. */
    private boolean ended;

    private ThreadCpuSplit() {
        if (!THREADS.isThreadCpuTimeEnabled()) {
            THREADS.setThreadCpuTimeEnabled(true);
        }
        poll(baseline);
        pollVmThreads(vmBaseline);
        poller = new Thread(
                () -> {
                    while (running) {
                        synchronized (this) {
                            if (ended) {
                                return;
                            }
                            poll(latest);
                            pollVmThreads(vmLatest);
                        }
                        try {
                            Thread.sleep(POLL_MILLIS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        }
                    }
                },
                "bench-thread-cpu-poller");
        poller.setDaemon(true);
        poller.start();
    }

    /** Starts polling now; {@link #close()} at the end of the run, then read {@link #split()}. */
    static ThreadCpuSplit start() {
        return new ThreadCpuSplit();
    }

    private synchronized void poll(Map<Long, Long> into) {
        for (ThreadInfo t : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
            if (t == null) {
                continue; // ended since getAllThreadIds
            }
            long cpu = THREADS.getThreadCpuTime(t.getThreadId());
            if (cpu >= 0) {
                into.put(t.getThreadId(), cpu);
                names.putIfAbsent(t.getThreadId(), t.getThreadName());
            }
        }
    }

    /** CPU of the JVM's internal threads by tid ("tid name" keys), from /proc; nothing where there is no /proc. */
    private synchronized void pollVmThreads(Map<String, Long> into) {
        Path tasks = Path.of("/proc/self/task");
        if (!Files.isDirectory(tasks)) {
            return;
        }
        try (Stream<Path> list = Files.list(tasks)) {
            for (Path task : (Iterable<Path>) list::iterator) {
                try {
                    String comm = Files.readString(task.resolve("comm")).trim();
                    String role = vmRole(comm);
                    if (role != null) {
                        String schedstat = Files.readString(task.resolve("schedstat"));
                        into.put(
                                task.getFileName() + " " + role,
                                Long.parseLong(schedstat.substring(0, schedstat.indexOf(' '))));
                    }
                } catch (IOException | RuntimeException e) {
                    // the thread ended while being read: its last poll stands
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + tasks, e);
        }
    }

    /** The JVM-internal threads (named by HotSpot, at most 15 characters in /proc), or null for others. */
    static String vmRole(String comm) {
        if (comm.startsWith("GC Thread") || comm.startsWith("G1 ")) {
            return "JVM: garbage collector";
        }
        if (comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre")) {
            return JIT_ROLE;
        }
        if (comm.startsWith("VM Thread")
                || comm.startsWith("VM Periodic")
                || comm.startsWith("JFR ")
                || comm.equals("Sweeper thread")) {
            return "JVM: VM thread, safepoints, JFR";
        }
        return null;
    }

    /**
     * Starts the span now instead of at {@link #start()}: every live thread's CPU so far, and the process's, becomes
     * the baseline, and threads that ended before now are forgotten. Call it at most once, before {@link #end()}.
     */
    synchronized void mark() {
        if (ended) {
            throw new IllegalStateException("mark() after end()");
        }
        baseline.clear();
        poll(baseline);
        latest.clear();
        latest.putAll(baseline);
        vmBaseline.clear();
        pollVmThreads(vmBaseline);
        vmLatest.clear();
        vmLatest.putAll(vmBaseline);
        processCpu0 = OS.getProcessCpuTime();
        gcMillis0 = gcMillis();
    }

    /** Ends the span now (a last poll of every thread); later polls and {@link #close()} change nothing. */
    synchronized void end() {
        if (ended) {
            return;
        }
        poll(latest);
        pollVmThreads(vmLatest);
        processCpu1 = OS.getProcessCpuTime();
        gcMillis1 = gcMillis();
        ended = true;
    }

    /** Process CPU nanoseconds of the span (from the start or the mark to the end). */
    synchronized long processCpuNanos() {
        return processCpu1 - processCpu0;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        poller.join();
        end();
    }

    /**
     * CPU nanoseconds of the run per thread role (most first; the poller's own CPU is {@code bench poller}), then
     * the rest of the process CPU, which no polled thread accounts for.
     */
    synchronized Map<String, Long> split() {
        Map<String, Long> byRole = new TreeMap<>();
        long java = 0;
        for (Map.Entry<Long, Long> e : latest.entrySet()) {
            long cpu = e.getValue() - baseline.getOrDefault(e.getKey(), 0L);
            byRole.merge(role(names.get(e.getKey())), cpu, Long::sum);
            java += cpu;
        }
        long accounted = java;
        for (Map.Entry<String, Long> e : vmLatest.entrySet()) {
            long cpu = e.getValue() - vmBaseline.getOrDefault(e.getKey(), 0L);
            byRole.merge(e.getKey().substring(e.getKey().indexOf(' ') + 1), cpu, Long::sum);
            accounted += cpu;
        }
        long process = processCpu1 - processCpu0;
        Map<String, Long> out = new LinkedHashMap<>();
        byRole.entrySet().stream()
                .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
                .forEach(e -> out.put(e.getKey(), e.getValue()));
        out.put("rest (threads ended between polls, native threads)", Math.max(0, process - accounted));
        return out;
    }

    /**
     * The JIT compilers' share of the CPU in {@code split} (nanoseconds by role, as {@link #split()} gives them):
     * their CPU over the sum of every role's, the remainder included; 0 when the split is empty.
     */
    static double jitShare(Map<String, Long> split) {
        long total = 0;
        for (long v : split.values()) {
            total += v;
        }
        return total <= 0 ? 0 : split.getOrDefault(JIT_ROLE, 0L) / (double) total;
    }

    /** Above this JIT share of a span's CPU a run is not at steady state (issue 13 item 3: under a tenth). */
    static final double JIT_SHARE_LIMIT = 0.1;

    /**
     * A span's CPU per window, as the benchmarks report it: process CPU, the JIT compilers' share of the roles'
     * CPU ({@link #jitShare}), the process CPU without them, and each role's, in microseconds per window (rounded
     * to 0.1 us; the share to 4 decimals).
     */
    record PerWindow(double cpuUs, double jitShare, double cpuUsWithoutJit, Map<String, Double> byRoleUs) {
        /** Adds this span's CPU to a benchmark's result row, under the keys every benchmark's JSON uses. */
        void putInto(Map<String, Object> row) {
            row.put("cpu_us_per_window", cpuUs);
            row.put("jit_share_of_cpu", jitShare);
            // JIT compilation is a start-up cost a long-running job no longer pays: the rest beside it
            row.put("cpu_us_per_window_without_jit", cpuUsWithoutJit);
            row.put("cpu_us_per_window_by_thread", byRoleUs);
        }

        /**
         * The warning for a span whose JIT share is over {@link #JIT_SHARE_LIMIT}, naming {@code what} was measured
         * and {@code remedy} (the flags that lengthen or delay the span); empty at steady state.
         */
        java.util.Optional<String> jitWarning(String what, String remedy) {
            if (jitShare <= JIT_SHARE_LIMIT) {
                return java.util.Optional.empty();
            }
            return java.util.Optional.of(String.format(
                    java.util.Locale.ROOT,
                    "WARNING %s: JIT compilers took %.1f%% of the measured CPU, over %.0f%%: not steady state; %s",
                    what,
                    100 * jitShare,
                    100 * JIT_SHARE_LIMIT,
                    remedy));
        }
    }

    /**
     * The span's CPU per window, for {@code windows} windows answered in it and {@code cpuNanos} of process CPU
     * ({@link #processCpuNanos()}, or the caller's own reading of the same span); call after {@link #end()} or
     * {@link #close()}.
     *
     * @throws IllegalArgumentException when {@code windows} is not positive
     */
    PerWindow perWindow(long cpuNanos, long windows) {
        if (windows <= 0) {
            throw new IllegalArgumentException("CPU per window needs windows in the span, got " + windows);
        }
        Map<String, Long> byRole = split();
        Map<String, Double> byRoleUs = new LinkedHashMap<>();
        byRole.forEach((role, ns) -> byRoleUs.put(role, tenths(ns / 1e3 / windows)));
        long jitNanos = byRole.getOrDefault(JIT_ROLE, 0L);
        return new PerWindow(
                tenths(cpuNanos / 1e3 / windows),
                Math.round(jitShare(byRole) * 1e4) / 1e4,
                tenths((cpuNanos - jitNanos) / 1e3 / windows),
                byRoleUs);
    }

    private static double tenths(double v) {
        return Math.round(v * 10) / 10.0;
    }

    /** Young and old GC time of the span, milliseconds (wall time of collections, not CPU). */
    long gcMillisSinceStart() {
        return gcMillis1 - gcMillis0;
    }

    private static long gcMillis() {
        long sum = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            sum += Math.max(0, gc.getCollectionTime());
        }
        return sum;
    }

    /** The role of a thread from its name (Flink names task threads after their operator chain). */
    static String role(String name) {
        if (name == null) {
            return "unknown";
        }
        if (name.startsWith("Source Data Fetcher")) {
            return "Kafka consumer (source fetcher thread)";
        }
        if (name.startsWith("kafka-producer-network-thread")) {
            return "Kafka producers (sink network threads)";
        }
        if (name.startsWith("AsyncOperations-thread")) {
            return "checkpoints (async snapshot threads)";
        }
        if (name.equals("bench-thread-cpu-poller")) {
            return "bench poller";
        }
        if (name.startsWith("bench-progress-reader")) {
            return PROGRESS_READER_ROLE;
        }
        if (name.matches(".* \\(\\d+/\\d+\\)#\\d+") && !name.contains(" for ")) {
            // A Flink task thread: "<chain> (i/n)#attempt"; the chain's first operator names it.
            String chain = name.substring(0, name.lastIndexOf(" ("));
            int arrow = chain.indexOf(" -> ");
            return "task: " + (arrow < 0 ? chain : chain.substring(0, arrow) + " -> ...");
        }
        if (name.startsWith("flink-")
                || name.startsWith("Flink-")
                || name.contains("pekko")
                || name.startsWith("jobmanager")
                || name.startsWith("taskmanager")
                || name.startsWith("resourcemanager")
                || name.startsWith("mini-cluster")
                || name.startsWith("Checkpoint Timer")
                || name.startsWith("SourceCoordinator")
                || name.contains("Time Trigger for")
                || name.startsWith("OutputFlusher for")
                || name.startsWith("IOManager")
                || name.startsWith("channel-state")
                || name.startsWith("kafka-admin-client-thread | exitflow")) {
            return "Flink runtime (coordination, timers, flushers, enumerator)";
        }
        if (name.startsWith("main")) {
            return "main";
        }
        return "broker (and other Java threads)";
    }
}
