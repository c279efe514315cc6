package io.exitflow.bench.eos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Peak memory of each TaskManager over a stretch of a run, from the {@link ClusterSampler}'s rows: the most heap used
 * (Flink's {@code Status.JVM.Memory.Heap.Used} metric at each row) and the most resident memory (VmRSS from
 * {@code /proc/<pid>/status} at each row), both in MB (10^6 bytes for heap, MiB for RSS as the sampler writes them),
 * and the kernel's high-water mark of resident memory (VmHWM, MiB): the true peak over the JVM's whole life, start-up
 * included, which rows a few seconds apart can miss. EosBenchmark's capacity measurement puts them into its result
 * ({@code memory_per_taskmanager}); {@link ScaleBenchmark} reads them from there and from a soak's samples.csv.
 */
final class MemoryPeaks {
    /**
     * Row interval of the sampler while a capacity backlog drains, ms: the drain lasts seconds to a few minutes, so
     * the sampler's 2 s tick, not the soak's minute.
     */
    static final long CAPACITY_ROW_EVERY_MS = 2_000;

    private MemoryPeaks() {}

    /**
     * Stops {@code sampler} (its last row is written) and returns each TaskManager's peaks over its rows, with the
     * high-water mark of the TaskManager JVMs that still run.
     */
    static Map<String, Map<String, Object>> of(ClusterSampler sampler, LocalCluster cluster)
            throws IOException, InterruptedException {
        sampler.close();
        Map<String, Map<String, Object>> peaks = peaks(sampler.rows(), cluster.taskManagerRoles());
        for (String tm : cluster.taskManagerRoles()) {
            Optional<Long> pid = cluster.livePid(tm);
            if (pid.isPresent()) {
                Path status = Path.of("/proc", pid.get().toString(), "status");
                OptionalDouble hwm = highWaterMb(Files.readString(status));
                if (hwm.isPresent()) {
                    peaks.get(tm).put("rss_high_water_mb", round(hwm.getAsDouble()));
                }
            }
        }
        return peaks;
    }

    /**
     * Per TaskManager role: {@code peak_heap_mb}, {@code peak_rss_mb} (the largest non-empty cell of its
     * {@code heap_mb_<role>} and {@code rss_mb_<role>} columns; absent when it has none) and {@code samples} (rows with
     * an RSS value).
     */
    static Map<String, Map<String, Object>> peaks(List<Map<String, Double>> rows, List<String> taskManagers) {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        for (String tm : taskManagers) {
            Map<String, Object> m = new LinkedHashMap<>();
            max(rows, "heap_mb_" + tm).ifPresent(v -> m.put("peak_heap_mb", round(v)));
            max(rows, "rss_mb_" + tm).ifPresent(v -> m.put("peak_rss_mb", round(v)));
            m.put(
                    "samples",
                    rows.stream().filter(r -> present(r.get("rss_mb_" + tm))).count());
            out.put(tm, m);
        }
        return out;
    }

    /** VmHWM of a {@code /proc/<pid>/status} text, in MiB (the kernel writes kB); empty when the line is missing. */
    static OptionalDouble highWaterMb(String procStatus) {
        for (String line : procStatus.split("\n")) {
            if (line.startsWith("VmHWM:")) {
                return OptionalDouble.of(Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0);
            }
        }
        return OptionalDouble.empty();
    }

    private static OptionalDouble max(List<Map<String, Double>> rows, String column) {
        return rows.stream()
                .map(r -> r.get(column))
                .filter(MemoryPeaks::present)
                .mapToDouble(Double::doubleValue)
                .max();
    }

    private static boolean present(Double v) {
        return v != null && !Double.isNaN(v);
    }

    private static double round(double x) {
        return Math.round(x * 10) / 10.0;
    }
}
