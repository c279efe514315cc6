package io.exitflow.bench.eos;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.exitflow.bench.BenchArgs;
import io.exitflow.runtime.api.EarlyExit;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.manifest.Manifest;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * Scale and memory of the anomaly job on the real local cluster of deploy/local (issue 13 item 6), for one bundle per
 * run. Every measurement is a run of {@link EosBenchmark} in a child JVM (its own fresh cluster, its own files under
 * {@code --out}); this class plans them, reads what they wrote and the TaskManagers' logs, and summarises.
 *
 * <ul>
 *   <li><b>Capacity</b>, for each parallelism P of {@code --parallelisms}, each ONNX Runtime intra-op thread count T of
 *       {@code --intra-op-threads} (the job's {@code --intra-op-threads}, threads per stage session) and each
 *       slots-per-TaskManager S of {@code --slots} (at most P; a cluster of ceil(P/S) TaskManagers x S slots):
 *       {@code EosBenchmark capacity} with a backlog of {@code --probe-readings} readings. Windows/s and readings/s
 *       between 20% and 80% of the backlog's windows answered (start-up excluded); each TaskManager's peak heap and
 *       RSS while it drains and its RSS high-water mark ({@link MemoryPeaks}); and from each TaskManager's log the
 *       inference subtasks it ran ("Received task early-exit", Flink's TaskExecutor) and the ONNX sessions it opened
 *       ("Opened ONNX session", SharedSessions). Sessions are shared per JVM when a TaskManager running two inference
 *       subtasks opened each model file once; the RSS of a TaskManager with one subtask against one with two (S = 1
 *       against S = P) shows what a slot costs.</li>
 *   <li><b>Soak</b>, unless {@code --minutes 0}: {@code EosBenchmark soak} for {@code --minutes} at its
 *       {@code --capacity-share} of the capacity it measures first, at the largest P with the most slots per
 *       TaskManager and the first T; heap and RSS per TaskManager every {@code --sample-s}, and {@link Drift}'s
 *       verdict on whether they stay flat.</li>
 * </ul>
 *
 * Writes {@code --out}: summary.json, table.md (also printed), and one folder per child run
 * ({@code capacity-p<P>-t<T>-s<S>/}, {@code soak/}). Exit status 0 when every child run succeeded (a capacity
 * measured; the soak exactly once), 1 when not, 2 on a usage error. Launched by {@code bench/eos/run.sh scale}, which
 * also draws the soak's plot (bench/eos/plot.py) and scale.png (bench/eos/plot_scale.py).
 */
public final class ScaleBenchmark {
    static final ConfigOption<String> JOB_JAR = ConfigOptions.key("bench.job-jar")
            .stringType()
            .noDefaultValue()
            .withDescription("The anomaly job's shaded JAR (required; bench/eos/run.sh passes it).");
    static final ConfigOption<String> BUNDLE = ConfigOptions.key("bench.bundle")
            .stringType()
            .defaultValue("models/sensor-cnn")
            .withDescription("Model bundle directory; the production-size one is built by bench/models/build-large.sh"
                    + " (~/.cache/exitflow/models/sensor-resnet-l).");
    static final ConfigOption<String> PARALLELISMS = ConfigOptions.key("bench.parallelisms")
            .stringType()
            .defaultValue("1,2")
            .withDescription("Job parallelisms to measure, comma-separated.");
    static final ConfigOption<String> INTRA_OP_THREADS = ConfigOptions.key("bench.intra-op-threads")
            .stringType()
            .defaultValue("1,2")
            .withDescription("ONNX Runtime intra-op threads per stage session to measure, comma-separated (passed to"
                    + " the job as its --intra-op-threads).");
    static final ConfigOption<String> SLOTS = ConfigOptions.key("bench.slots")
            .stringType()
            .defaultValue("1,2")
            .withDescription("Slots per TaskManager, comma-separated; at parallelism P each S <= P runs on"
                    + " ceil(P/S) TaskManagers (S > P counts as P).");
    static final ConfigOption<Long> PROBE_READINGS = ConfigOptions.key("bench.probe-readings")
            .longType()
            .defaultValue(2_000_000L)
            .withDescription("Backlog of each capacity run and of the soak's capacity probe, readings (2,000,000"
                    + " readings are 62,500 windows at slide 32: about 25 s of the 100 MFLOPs model at 2,500"
                    + " windows/s, so the 20-80% span is not a moment).");
    static final ConfigOption<Double> MINUTES = ConfigOptions.key("bench.minutes")
            .doubleType()
            .defaultValue(10.0)
            .withDescription("Soak length, minutes; 0 skips the soak.");
    static final ConfigOption<Double> SAMPLE_S = ConfigOptions.key("bench.sample-s")
            .doubleType()
            .defaultValue(15.0)
            .withDescription("Soak: seconds between samples (40 rows over 10 minutes).");
    static final ConfigOption<String> CAPACITY_SHARE = ConfigOptions.key("bench.capacity-share")
            .stringType()
            .noDefaultValue()
            .withDescription("Soak: share of the measured capacity to send; EosBenchmark's default when not given.");
    static final ConfigOption<String> JOB_ARGS = ConfigOptions.key("bench.job-args")
            .stringType()
            .defaultValue("")
            .withDescription("More arguments for the anomaly job, e.g. '--mode CASCADE' (not --parallelism or"
                    + " --intra-op-threads: this harness sets them).");
    static final ConfigOption<String> OUT = ConfigOptions.key("bench.out")
            .stringType()
            .noDefaultValue()
            .withDescription("Results folder (default bench/eos/runs/scale-<UTC time>).");
    static final ConfigOption<String> WORK = ConfigOptions.key("bench.work")
            .stringType()
            .noDefaultValue()
            .withDescription("The clusters' work dir (required; bench/eos/run.sh passes it; the TaskManagers' logs"
                    + " are read from its log/ after each run).");
    static final List<ConfigOption<?>> OPTIONS = List.of(
            JOB_JAR,
            BUNDLE,
            PARALLELISMS,
            INTRA_OP_THREADS,
            SLOTS,
            PROBE_READINGS,
            MINUTES,
            SAMPLE_S,
            CAPACITY_SHARE,
            JOB_ARGS,
            OUT,
            WORK);
    static final String USAGE = "bench/eos/run.sh scale [--bundle DIR] [--parallelisms 1,2] [--intra-op-threads 1,2]"
            + " [--slots 1,2] [--probe-readings 2000000] [--minutes 10] [--sample-s 15] [--capacity-share S]"
            + " [--job-args '...'] [--out DIR]";

    /** Flink's TaskExecutor logs this for each task deployed to it; the inference operator's default name follows. */
    private static final Pattern INFERENCE_TASK =
            Pattern.compile("Received task " + Pattern.quote(EarlyExit.DEFAULT_NAME) + "[ (]");
    /** SharedSessions logs this line once for each ONNX session it opens (a lease of an open one logs nothing). */
    private static final Pattern SESSION_OPENED =
            Pattern.compile("Opened ONNX session (\\S+) on \\S+ \\((\\d+) intra-op threads\\)");

    private ScaleBenchmark() {}

    /** One capacity run's cluster and job: parallelism P, intra-op threads T, slots per TaskManager S. */
    record Layout(int parallelism, int intraOpThreads, int slots) {
        int taskManagers() {
            return (parallelism + slots - 1) / slots;
        }

        String name() {
            return "capacity-p" + parallelism + "-t" + intraOpThreads + "-s" + slots;
        }
    }

    /** What one TaskManager's log says about inference: subtasks deployed, sessions opened, threads they got. */
    record TaskManagerLog(int inferenceSubtasks, int sessionsOpened, int modelFiles, Set<Integer> intraOpThreads) {}

    /**
     * One TaskManager of a capacity run; memory in MB (heap: 10^6 bytes; RSS: MiB), null where not measured (left
     * out of summary.json).
     */
    record TaskManagerResult(
            String role,
            int inferenceSubtasks,
            int onnxSessionsOpened,
            int modelFiles,
            Set<Integer> intraOpThreadsSeen,
            Double peakHeapMb,
            Double peakRssMb,
            Double rssHighWaterMb) {}

    /** One capacity run: windows/s and readings/s between 20% and 80% of the backlog, null when not measured. */
    record CapacityResult(
            Layout layout,
            int taskManagers,
            int exitCode,
            Double windowsPerS,
            Long readingsPerS,
            Double secondsToEightyPercent,
            List<TaskManagerResult> perTaskManager,
            Boolean sessionsShared,
            Double loadAverageStart,
            Double loadAverageEnd,
            String error) {}

    /** One TaskManager over the soak: Drift's thirds and slope (per 10 minutes) and the peaks of the samples. */
    record SoakTaskManager(
            String role,
            Double rssFirstThirdMb,
            Double rssLastThirdMb,
            Double rssSlopeMbPerTenMin,
            Boolean rssFlat,
            Double heapMinFirstThirdMb,
            Double heapMinLastThirdMb,
            Double heapMinSlopeMbPerTenMin,
            Boolean heapMinFlat,
            Double peakHeapMb,
            Double peakRssMb) {}

    /**
     * The soak: its layout, the capacity its probe measured, the rate it sent, its verdicts ({@code notFlat}: the
     * series Drift judged growing, the broker's and JobManager's included).
     */
    record SoakResult(
            Layout layout,
            int exitCode,
            Double minutes,
            Double capacityReadingsPerS,
            Double capacityShare,
            Double rateReadingsPerS,
            Boolean exactlyOnce,
            Boolean allFlat,
            List<String> notFlat,
            List<SoakTaskManager> perTaskManager,
            Double loadAverageStart,
            Double loadAverageEnd) {}

    public static void main(String[] argv) throws Exception {
        BenchArgs args;
        List<Layout> plan;
        Layout soakLayout;
        try {
            Optional<BenchArgs> parsed = BenchArgs.parse(argv, USAGE, OPTIONS);
            if (parsed.isEmpty()) {
                return;
            }
            args = parsed.get();
            List<Integer> parallelisms = positiveInts("--parallelisms", args.get(PARALLELISMS));
            List<Integer> threads = positiveInts("--intra-op-threads", args.get(INTRA_OP_THREADS));
            plan = plan(parallelisms, threads, positiveInts("--slots", args.get(SLOTS)));
            soakLayout = soakLayout(plan);
            checkJobArgs(args.get(JOB_ARGS));
            required(args, JOB_JAR);
            required(args, WORK);
            if (args.get(MINUTES) < 0) {
                throw new IllegalArgumentException("--minutes must be 0 (no soak) or more, got " + args.get(MINUTES));
            }
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        System.exit(run(argv, args, plan, soakLayout) ? 0 : 1);
    }

    private static boolean run(String[] argv, BenchArgs args, List<Layout> plan, Layout soakLayout)
            throws IOException, InterruptedException {
        Path root = Path.of("").toAbsolutePath();
        Path bundle = root.resolve(args.get(BUNDLE));
        Manifest manifest = ModelBundle.load(bundle).manifest();
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                .withZone(ZoneOffset.UTC)
                .format(Instant.now());
        Path out = root.resolve(Optional.ofNullable(args.get(OUT)).orElse("bench/eos/runs/scale-" + stamp));
        Path work = root.resolve(args.get(WORK));
        Files.createDirectories(out);
        int partitions = plan.stream().mapToInt(Layout::parallelism).max().orElseThrow();
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("mode", "scale");
        summary.put("command", "bench/eos/run.sh scale " + String.join(" ", argv));
        summary.put("started", Instant.now().toString());
        summary.put("bundle", bundle.toString());
        summary.put("model", manifest.modelId() + " " + manifest.modelVersion());
        summary.put("input_partitions", partitions);
        summary.put("probe_readings", args.get(PROBE_READINGS));
        summary.put("job_args", args.get(JOB_ARGS));
        List<CapacityResult> capacities = new ArrayList<>();
        summary.put("capacity", capacities);
        Child child = new Child(root, Path.of(args.get(JOB_JAR)).toAbsolutePath(), bundle, work, partitions, args);
        boolean ok = true;
        for (Layout layout : plan) {
            log(String.format(
                    Locale.ROOT,
                    "%s: parallelism %d, %d intra-op threads, %d TaskManagers x %d slots (%d of %d)",
                    layout.name(),
                    layout.parallelism(),
                    layout.intraOpThreads(),
                    layout.taskManagers(),
                    layout.slots(),
                    capacities.size() + 1,
                    plan.size()));
            Path dir = out.resolve(layout.name());
            int exit = child.run("capacity", layout, dir, List.of());
            JsonNode s = readJson(dir.resolve("summary.json"));
            summary.putIfAbsent("machine", s.path("machine"));
            CapacityResult r = capacityResult(layout, exit, s, taskManagerLogs(work, layout.taskManagers()));
            capacities.add(r);
            ok &= exit == 0 && r.windowsPerS() != null;
            writeSummary(out, summary);
        }
        double minutes = args.get(MINUTES);
        SoakResult soak = null;
        if (minutes > 0) {
            log(String.format(
                    Locale.ROOT,
                    "soak: %.1f minutes, parallelism %d, %d intra-op threads, %d TaskManagers x %d slots",
                    minutes,
                    soakLayout.parallelism(),
                    soakLayout.intraOpThreads(),
                    soakLayout.taskManagers(),
                    soakLayout.slots()));
            Path dir = out.resolve("soak");
            List<String> extra = new ArrayList<>(
                    List.of("--minutes", String.valueOf(minutes), "--sample-s", String.valueOf(args.get(SAMPLE_S))));
            Optional.ofNullable(args.get(CAPACITY_SHARE)).ifPresent(v -> extra.addAll(List.of("--capacity-share", v)));
            int exit = child.run("soak", soakLayout, dir, extra);
            Path samples = dir.resolve("samples.csv");
            soak = soakResult(
                    soakLayout,
                    exit,
                    readJson(dir.resolve("summary.json")),
                    Files.exists(samples) ? readSamples(Files.readString(samples)) : List.of());
            summary.put("soak", soak);
            ok &= exit == 0;
        }
        summary.put("finished", Instant.now().toString());
        writeSummary(out, summary);
        String table = table(String.valueOf(summary.get("model")), capacities, soak);
        Files.writeString(out.resolve("table.md"), table);
        System.out.println(table);
        log("results in " + out);
        return ok;
    }

    /** Runs EosBenchmark in a child JVM like this one (its heap, logging and classpath) and returns its exit status. */
    private record Child(Path root, Path jobJar, Path bundle, Path work, int partitions, BenchArgs args) {
        int run(String mode, Layout layout, Path dir, List<String> extra) throws IOException, InterruptedException {
            Path argfile = Files.createTempFile("scale-bench-cp", ".args");
            try {
                Files.writeString(argfile, "-cp\n" + System.getProperty("java.class.path") + "\n");
                List<String> cmd = new ArrayList<>();
                cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
                for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
                    if (!a.startsWith("-Djava.class.path=")) {
                        cmd.add(a);
                    }
                }
                cmd.add("@" + argfile);
                cmd.add(EosBenchmark.class.getName());
                cmd.add(mode);
                cmd.addAll(List.of(
                        "--job-jar", jobJar.toString(),
                        "--bundle", bundle.toString(),
                        "--work", work.toString(),
                        "--out", dir.toString(),
                        "--partitions", String.valueOf(partitions),
                        "--parallelism", String.valueOf(layout.parallelism()),
                        "--taskmanagers", String.valueOf(layout.taskManagers()),
                        "--slots", String.valueOf(layout.slots()),
                        "--probe-readings", String.valueOf(args.get(PROBE_READINGS)),
                        "--job-args", (args.get(JOB_ARGS) + " --intra-op-threads " + layout.intraOpThreads()).trim()));
                cmd.addAll(extra);
                Process p = new ProcessBuilder(cmd)
                        .directory(root.toFile())
                        .inheritIO()
                        .start();
                int exit = p.waitFor();
                log(mode + " run " + dir.getFileName() + " exited with " + exit);
                return exit;
            } finally {
                Files.delete(argfile);
            }
        }
    }

    // --- pure parts (ScaleBenchmarkTest) -----------------------------------------------------------------------

    /** "1,2" as [1, 2]: positive, distinct, in the order given; anything else fails naming {@code flag}. */
    static List<Integer> positiveInts(String flag, String text) {
        Set<Integer> values = new LinkedHashSet<>();
        for (String part : text.split(",", -1)) {
            int v;
            try {
                v = Integer.parseInt(part.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        flag + " must be positive whole numbers separated by commas, got '" + text + "'", e);
            }
            if (v < 1) {
                throw new IllegalArgumentException(
                        flag + " must be positive whole numbers separated by commas, got '" + text + "'");
            }
            values.add(v);
        }
        return List.copyOf(values);
    }

    /**
     * Every (P, T, S): for each parallelism, each slots-per-TaskManager capped at it (duplicates dropped), each thread
     * count.
     */
    static List<Layout> plan(List<Integer> parallelisms, List<Integer> threads, List<Integer> slots) {
        List<Layout> plan = new ArrayList<>();
        for (int p : parallelisms) {
            Set<Integer> capped = new LinkedHashSet<>();
            slots.forEach(s -> capped.add(Math.min(s, p)));
            for (int s : capped) {
                for (int t : threads) {
                    plan.add(new Layout(p, t, s));
                }
            }
        }
        return plan;
    }

    /** The soak's layout: the largest parallelism, the most slots per TaskManager it was planned with, first T. */
    static Layout soakLayout(List<Layout> plan) {
        int p = plan.stream().mapToInt(Layout::parallelism).max().orElseThrow();
        int s = plan.stream()
                .filter(l -> l.parallelism() == p)
                .mapToInt(Layout::slots)
                .max()
                .orElseThrow();
        return new Layout(p, plan.get(0).intraOpThreads(), s);
    }

    static void checkJobArgs(String jobArgs) {
        for (String flag : List.of("--parallelism", "--intra-op-threads")) {
            if (Arrays.asList(jobArgs.trim().split("\\s+")).contains(flag)) {
                throw new IllegalArgumentException("--job-args must not hold " + flag
                        + ": the scale harness sets it per run (--parallelisms, --intra-op-threads)");
            }
        }
    }

    /** Inference subtasks deployed and ONNX sessions opened, from one TaskManager's log text. */
    static TaskManagerLog readLog(String text) {
        int subtasks = 0;
        for (String line : text.split("\n")) {
            if (INFERENCE_TASK.matcher(line).find()) {
                subtasks++;
            }
        }
        Matcher m = SESSION_OPENED.matcher(text);
        int opened = 0;
        Set<String> files = new TreeSet<>();
        Set<Integer> threads = new TreeSet<>();
        while (m.find()) {
            opened++;
            files.add(m.group(1));
            threads.add(Integer.parseInt(m.group(2)));
        }
        return new TaskManagerLog(subtasks, opened, files.size(), threads);
    }

    /**
     * One capacity run from its summary.json ({@code capacity}: windows/s, readings/s, memory per TaskManager) and
     * the TaskManagers' logs (role to what they say). Sessions count as shared when some TaskManager ran two or more
     * inference subtasks and every TaskManager opened each model file once; null when none ran two.
     */
    static CapacityResult capacityResult(
            Layout layout, int exitCode, JsonNode summary, Map<String, TaskManagerLog> logs) {
        JsonNode c = summary.path("capacity");
        List<TaskManagerResult> tms = new ArrayList<>();
        boolean several = false;
        boolean oncePerFile = true;
        for (Map.Entry<String, TaskManagerLog> e : logs.entrySet()) {
            TaskManagerLog l = e.getValue();
            JsonNode mem = c.path("memory_per_taskmanager").path(e.getKey());
            tms.add(new TaskManagerResult(
                    e.getKey(),
                    l.inferenceSubtasks(),
                    l.sessionsOpened(),
                    l.modelFiles(),
                    l.intraOpThreads(),
                    number(mem, "peak_heap_mb"),
                    number(mem, "peak_rss_mb"),
                    number(mem, "rss_high_water_mb")));
            several |= l.inferenceSubtasks() >= 2;
            oncePerFile &= l.sessionsOpened() == l.modelFiles();
        }
        Double windows = number(c, "windows_per_s_20_to_80");
        Double readings = number(c, "readings_per_s");
        return new CapacityResult(
                layout,
                layout.taskManagers(),
                exitCode,
                windows == null ? null : round(windows, 1),
                readings == null ? null : readings.longValue(),
                number(c, "to_80pct_after_s") == null ? null : round(number(c, "to_80pct_after_s"), 1),
                tms,
                several ? oncePerFile : null,
                number(summary.path("machine"), "load_average_at_start"),
                number(summary, "load_average_at_end"),
                c.has("error") ? c.path("error").asText() : c.isMissingNode() ? "no capacity in summary.json" : null);
    }

    /** The soak from its summary.json ({@code probe}, {@code flat}, {@code verdict}) and its samples.csv rows. */
    static SoakResult soakResult(Layout layout, int exitCode, JsonNode summary, List<Map<String, Double>> samples) {
        List<String> roles = new ArrayList<>();
        for (int i = 1; i <= layout.taskManagers(); i++) {
            roles.add("taskmanager-" + i);
        }
        Map<String, Map<String, Object>> peaks = MemoryPeaks.peaks(samples, roles);
        JsonNode flat = summary.path("flat");
        List<SoakTaskManager> tms = new ArrayList<>();
        for (String tm : roles) {
            JsonNode rss = flat.path("rss_mb_" + tm);
            JsonNode heap = flat.path("heap_min_mb_" + tm);
            tms.add(new SoakTaskManager(
                    tm,
                    number(rss, "first_third_mean"),
                    number(rss, "last_third_mean"),
                    number(rss, "slope_per_10min"),
                    bool(rss, "flat"),
                    number(heap, "first_third_mean"),
                    number(heap, "last_third_mean"),
                    number(heap, "slope_per_10min"),
                    bool(heap, "flat"),
                    (Double) peaks.get(tm).get("peak_heap_mb"),
                    (Double) peaks.get(tm).get("peak_rss_mb")));
        }
        List<String> notFlat = new ArrayList<>();
        flat.fields().forEachRemaining(e -> {
            if (Boolean.FALSE.equals(bool(e.getValue(), "flat"))) {
                notFlat.add(e.getKey());
            }
        });
        return new SoakResult(
                layout,
                exitCode,
                number(summary, "minutes"),
                number(summary.path("probe"), "readings_per_s"),
                number(summary, "capacity_share"),
                number(summary, "rate_asked"),
                bool(summary.path("verdict"), "exactly_once"),
                bool(summary, "all_flat"),
                notFlat,
                tms,
                number(summary.path("machine"), "load_average_at_start"),
                number(summary, "load_average_at_end"));
    }

    /** A sampler's CSV (header line, then rows) as rows of numbers; empty cells and the time column are left out. */
    static List<Map<String, Double>> readSamples(String csv) {
        String[] lines = csv.split("\n");
        List<Map<String, Double>> rows = new ArrayList<>();
        if (lines.length == 0 || lines[0].isBlank()) {
            return rows;
        }
        String[] header = lines[0].trim().split(",", -1);
        for (int i = 1; i < lines.length; i++) {
            if (lines[i].isBlank()) {
                continue;
            }
            String[] cells = lines[i].trim().split(",", -1);
            Map<String, Double> row = new LinkedHashMap<>();
            for (int c = 0; c < header.length && c < cells.length; c++) {
                if (!header[c].equals("time") && !cells[c].isEmpty()) {
                    row.put(header[c], Double.parseDouble(cells[c]));
                }
            }
            rows.add(row);
        }
        return rows;
    }

    /**
     * What one inference subtask more in a TaskManager costs, per intra-op thread count: the mean RSS high-water
     * mark of TaskManagers that ran one inference subtask against those that ran the most, and the sessions each
     * opened. One line per thread count that has both; empty when none has.
     */
    static List<String> slotCost(List<CapacityResult> runs) {
        TreeMap<Integer, TreeMap<Integer, List<TaskManagerResult>>> byThreads = new TreeMap<>();
        for (CapacityResult r : runs) {
            for (TaskManagerResult tm : r.perTaskManager()) {
                if (tm.inferenceSubtasks() > 0 && tm.rssHighWaterMb() != null) {
                    byThreads
                            .computeIfAbsent(r.layout().intraOpThreads(), k -> new TreeMap<>())
                            .computeIfAbsent(tm.inferenceSubtasks(), k -> new ArrayList<>())
                            .add(tm);
                }
            }
        }
        List<String> lines = new ArrayList<>();
        byThreads.forEach((threads, bySubtasks) -> {
            int most = bySubtasks.lastKey();
            if (most < 2 || !bySubtasks.containsKey(1)) {
                return;
            }
            List<TaskManagerResult> one = bySubtasks.get(1);
            List<TaskManagerResult> many = bySubtasks.get(most);
            double rssOne = mean(one, TaskManagerResult::rssHighWaterMb);
            double rssMany = mean(many, TaskManagerResult::rssHighWaterMb);
            lines.add(String.format(
                    Locale.ROOT,
                    "%d intra-op thread(s): a TaskManager with 1 inference subtask peaked at %.0f MiB RSS (mean of %d),"
                            + " one with %d at %.0f MiB (mean of %d): %+.0f MiB; ONNX sessions opened %s against %s",
                    threads,
                    rssOne,
                    one.size(),
                    most,
                    rssMany,
                    many.size(),
                    rssMany - rssOne,
                    sessions(one),
                    sessions(many)));
        });
        return lines;
    }

    /** Markdown tables of the capacity runs and the soak, for bench/RESULTS.md. */
    static String table(String model, List<CapacityResult> runs, SoakResult soak) {
        StringBuilder sb = new StringBuilder();
        sb.append("Capacity and memory, ").append(model).append(":\n\n");
        sb.append("| parallelism | intra-op threads | TaskManagers x slots | windows/s | readings/s | TaskManager:"
                + " inference subtasks, ONNX sessions opened (model files) | peak heap MB | peak RSS MiB sampled /"
                + " high-water | load average start / end |\n");
        sb.append("|---:|---:|---|---:|---:|---|---|---|---|\n");
        for (CapacityResult r : runs) {
            Layout l = r.layout();
            sb.append(String.format(
                    Locale.ROOT,
                    "| %d | %d | %d x %d | %s | %s | %s | %s | %s | %s / %s |%n",
                    l.parallelism(),
                    l.intraOpThreads(),
                    r.taskManagers(),
                    l.slots(),
                    r.windowsPerS() == null
                            ? "not measured (" + (r.error() == null ? "exit " + r.exitCode() : r.error()) + ")"
                            : String.format(Locale.ROOT, "%,.0f", r.windowsPerS()),
                    r.readingsPerS() == null ? "-" : String.format(Locale.ROOT, "%,d", r.readingsPerS()),
                    perTm(
                            r,
                            tm -> tm.inferenceSubtasks() + ", " + tm.onnxSessionsOpened() + " (" + tm.modelFiles()
                                    + ")"),
                    perTm(r, tm -> fmt(tm.peakHeapMb())),
                    perTm(r, tm -> fmt(tm.peakRssMb()) + " / " + fmt(tm.rssHighWaterMb())),
                    fmt2(r.loadAverageStart()),
                    fmt2(r.loadAverageEnd())));
        }
        List<String> cost = slotCost(runs);
        if (!cost.isEmpty()) {
            sb.append('\n');
            cost.forEach(c -> sb.append("- ").append(c).append('\n'));
        }
        Set<Boolean> shared = runs.stream()
                .map(CapacityResult::sessionsShared)
                .filter(b -> b != null)
                .collect(Collectors.toSet());
        if (!shared.isEmpty()) {
            sb.append("- ONNX sessions shared per TaskManager (each model file opened once in runs with two or more"
                            + " inference subtasks in one TaskManager): ")
                    .append(shared.equals(Set.of(true)) ? "yes" : "NO (see summary.json)")
                    .append('\n');
        }
        if (soak != null) {
            Layout l = soak.layout();
            sb.append(String.format(
                    Locale.ROOT,
                    "%nSoak, %s minutes at %s readings/s (%s of %s measured), parallelism %d, %d intra-op threads,"
                            + " %d TaskManagers x %d slots: exactly once %s, every series flat %s%s%n%n",
                    fmt2(soak.minutes()),
                    fmt(soak.rateReadingsPerS()),
                    soak.capacityShare() == null
                            ? "-"
                            : String.format(Locale.ROOT, "%.0f%%", soak.capacityShare() * 100),
                    fmt(soak.capacityReadingsPerS()),
                    l.parallelism(),
                    l.intraOpThreads(),
                    l.taskManagers(),
                    l.slots(),
                    yesNo(soak.exactlyOnce()),
                    yesNo(soak.allFlat()),
                    soak.notFlat().isEmpty() ? "" : " (not flat: " + String.join(", ", soak.notFlat()) + ")"));
            sb.append("| TaskManager | RSS MiB first third / last third | RSS slope / 10 min | RSS flat | heap MB least"
                    + " used, first / last third | heap slope / 10 min | heap flat | peak RSS MiB | peak heap MB |\n");
            sb.append("|---|---|---:|---|---|---:|---|---:|---:|\n");
            for (SoakTaskManager tm : soak.perTaskManager()) {
                sb.append(String.format(
                        Locale.ROOT,
                        "| %s | %s / %s | %s | %s | %s / %s | %s | %s | %s | %s |%n",
                        tm.role(),
                        fmt(tm.rssFirstThirdMb()),
                        fmt(tm.rssLastThirdMb()),
                        signed(tm.rssSlopeMbPerTenMin()),
                        yesNo(tm.rssFlat()),
                        fmt(tm.heapMinFirstThirdMb()),
                        fmt(tm.heapMinLastThirdMb()),
                        signed(tm.heapMinSlopeMbPerTenMin()),
                        yesNo(tm.heapMinFlat()),
                        fmt(tm.peakRssMb()),
                        fmt(tm.peakHeapMb())));
            }
        }
        return sb.toString();
    }

    // --- helpers ------------------------------------------------------------------------------------------------

    private static Map<String, TaskManagerLog> taskManagerLogs(Path work, int taskManagers) throws IOException {
        Map<String, TaskManagerLog> logs = new LinkedHashMap<>();
        for (int i = 1; i <= taskManagers; i++) {
            String role = "taskmanager-" + i;
            Path file = work.resolve("log").resolve(role + ".log");
            logs.put(
                    role,
                    Files.exists(file)
                            ? readLog(Files.readString(file, StandardCharsets.UTF_8))
                            : new TaskManagerLog(0, 0, 0, Set.of()));
        }
        return logs;
    }

    private static String perTm(CapacityResult r, java.util.function.Function<TaskManagerResult, String> f) {
        return r.perTaskManager().stream()
                .map(tm -> "tm" + tm.role().substring("taskmanager-".length()) + " " + f.apply(tm))
                .collect(Collectors.joining("; "));
    }

    private static String sessions(List<TaskManagerResult> tms) {
        return tms.stream()
                .map(tm -> tm.onnxSessionsOpened() + " (" + tm.modelFiles() + " files)")
                .collect(Collectors.joining(", "));
    }

    private static double mean(List<TaskManagerResult> tms, java.util.function.Function<TaskManagerResult, Double> f) {
        OptionalDouble m = tms.stream().mapToDouble(tm -> f.apply(tm)).average();
        return m.orElse(Double.NaN);
    }

    private static void required(BenchArgs args, ConfigOption<String> option) {
        if (args.get(option) == null) {
            throw new IllegalArgumentException(
                    "--" + option.key().substring("bench.".length()) + " is required\nusage: " + USAGE);
        }
    }

    private static Double number(JsonNode node, String field) {
        JsonNode v = node.path(field);
        return v.isNumber() ? v.asDouble() : null;
    }

    private static Boolean bool(JsonNode node, String field) {
        JsonNode v = node.path(field);
        return v.isBoolean() ? v.asBoolean() : null;
    }

    private static JsonNode readJson(Path file) throws IOException {
        return Files.exists(file) ? new ObjectMapper().readTree(file.toFile()) : new ObjectMapper().createObjectNode();
    }

    private static void writeSummary(Path out, Map<String, Object> summary) throws IOException {
        ObjectMapper json = new ObjectMapper()
                .enable(SerializationFeature.INDENT_OUTPUT)
                .setSerializationInclusion(JsonInclude.Include.NON_NULL) // null: not measured
                .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
        Files.writeString(out.resolve("summary.json"), json.writeValueAsString(summary) + "\n");
    }

    private static double round(double x, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(x * f) / f;
    }

    private static String fmt(Double x) {
        return x == null ? "-" : String.format(Locale.ROOT, "%,.0f", x);
    }

    private static String fmt2(Double x) {
        return x == null ? "-" : String.format(Locale.ROOT, "%.1f", x);
    }

    private static String signed(Double x) {
        return x == null ? "-" : String.format(Locale.ROOT, "%+.1f", x);
    }

    private static String yesNo(Boolean b) {
        return b == null ? "-" : b ? "yes" : "no";
    }

    private static void log(String line) {
        System.out.println("[scale-bench] " + line);
    }
}
