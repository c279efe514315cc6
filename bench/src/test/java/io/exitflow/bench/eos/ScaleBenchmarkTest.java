package io.exitflow.bench.eos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.exitflow.bench.BenchArgs;
import io.exitflow.bench.eos.ScaleBenchmark.CapacityResult;
import io.exitflow.bench.eos.ScaleBenchmark.Layout;
import io.exitflow.bench.eos.ScaleBenchmark.SoakResult;
import io.exitflow.bench.eos.ScaleBenchmark.TaskManagerLog;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The scale harness's plan, log reading and summaries, without a cluster. */
class ScaleBenchmarkTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void listsOfPositiveNumbersNameTheFlag() {
        assertEquals(List.of(1, 2), ScaleBenchmark.positiveInts("--slots", " 1,2,1"));
        for (String bad : List.of("", "1,,2", "0", "two", "1,-2")) {
            String msg = assertThrows(IllegalArgumentException.class, () -> ScaleBenchmark.positiveInts("--slots", bad))
                    .getMessage();
            assertTrue(msg.startsWith("--slots must be positive whole numbers"), msg);
        }
    }

    @Test
    void slotsAreCappedAtTheParallelismAndTheSoakTakesTheMostSharing() {
        List<Layout> plan = ScaleBenchmark.plan(List.of(1, 2), List.of(1, 2), List.of(1, 2));
        assertEquals(
                List.of(
                        new Layout(1, 1, 1),
                        new Layout(1, 2, 1),
                        new Layout(2, 1, 1),
                        new Layout(2, 2, 1),
                        new Layout(2, 1, 2),
                        new Layout(2, 2, 2)),
                plan);
        assertEquals(2, new Layout(2, 1, 1).taskManagers());
        assertEquals(1, new Layout(2, 1, 2).taskManagers());
        assertEquals(2, new Layout(3, 1, 2).taskManagers());
        assertEquals("capacity-p2-t1-s2", new Layout(2, 1, 2).name());
        assertEquals(new Layout(2, 1, 2), ScaleBenchmark.soakLayout(plan));
        assertEquals(
                new Layout(2, 4, 1),
                ScaleBenchmark.soakLayout(ScaleBenchmark.plan(List.of(2), List.of(4), List.of(1))));
    }

    @Test
    void theHarnessOwnsParallelismAndThreads() {
        ScaleBenchmark.checkJobArgs("--mode CASCADE --max-batch-size 64");
        String msg = assertThrows(
                        IllegalArgumentException.class,
                        () -> ScaleBenchmark.checkJobArgs("--mode CASCADE --intra-op-threads 2"))
                .getMessage();
        assertTrue(msg.startsWith("--job-args must not hold --intra-op-threads"), msg);
    }

    @Test
    void optionsParseWithTheirDefaults() {
        BenchArgs a = BenchArgs.parse(
                        new String[] {"--job-jar", "j.jar", "--job-args", "--mode CASCADE", "--minutes", "1"},
                        ScaleBenchmark.USAGE,
                        ScaleBenchmark.OPTIONS)
                .orElseThrow();
        assertEquals("--mode CASCADE", a.get(ScaleBenchmark.JOB_ARGS));
        assertEquals(1.0, a.get(ScaleBenchmark.MINUTES));
        assertEquals("1,2", a.get(ScaleBenchmark.PARALLELISMS));
        assertNull(a.get(ScaleBenchmark.CAPACITY_SHARE));
    }

    private static final String TM_LOG = String.join(
            "\n",
            "2026-12-01 01:42:22,254 INFO  o.a.f.r.t.TaskExecutor [] - Received task Source: readings -> decode (1/2)#0 (a)",
            "2026-12-01 01:42:22,963 INFO  o.a.f.r.t.TaskExecutor [] - Received task early-exit -> (predictions sink:"
                    + " Writer -> predictions sink: Committer, alerts) (1/2)#0 (b), deploy into slot",
            "2026-12-01 01:42:22,964 INFO  o.a.f.r.t.TaskExecutor [] - Received task early-exit -> (predictions sink:"
                    + " Writer) (2/2)#0 (c), deploy into slot",
            "2026-12-01 01:42:29,969 INFO  io.exitflow.runtime.onnx.SharedSessions [] - Opened ONNX session"
                    + " /m/stage0.onnx on CPU (2 intra-op threads)",
            "2026-12-01 01:42:29,986 INFO  io.exitflow.runtime.onnx.SharedSessions [] - Opened ONNX session"
                    + " /m/stage1.onnx on CPU (2 intra-op threads)",
            "");

    @Test
    void subtasksAndSessionsFromATaskManagerLog() {
        assertEquals(new TaskManagerLog(2, 2, 2, Set.of(2)), ScaleBenchmark.readLog(TM_LOG));
        String twice = TM_LOG + TM_LOG.lines().filter(l -> l.contains("Opened")).reduce("", (x, y) -> x + y + "\n");
        assertEquals(new TaskManagerLog(2, 4, 2, Set.of(2)), ScaleBenchmark.readLog(twice));
        assertEquals(new TaskManagerLog(0, 0, 0, Set.of()), ScaleBenchmark.readLog(""));
    }

    private static JsonNode capacitySummary() throws Exception {
        return JSON.readTree(
                "{\"machine\": {\"load_average_at_start\": 1.5}, \"load_average_at_end\": 2.25,"
                        + " \"capacity\": {\"windows_per_s_20_to_80\": 2500.04, \"readings_per_s\": 80001,"
                        + " \"to_80pct_after_s\": 31.27, \"memory_per_taskmanager\": {\"taskmanager-1\":"
                        + " {\"peak_heap_mb\": 300.5, \"peak_rss_mb\": 810.0, \"rss_high_water_mb\": 830.0, \"samples\": 9}}}}");
    }

    @Test
    void aCapacityRunFromItsSummaryAndLogs() throws Exception {
        Layout layout = new Layout(2, 1, 2);
        CapacityResult r = ScaleBenchmark.capacityResult(
                layout, 0, capacitySummary(), Map.of("taskmanager-1", ScaleBenchmark.readLog(TM_LOG)));
        assertEquals(2500.0, r.windowsPerS());
        assertEquals(80001L, r.readingsPerS());
        assertEquals(31.3, r.secondsToEightyPercent());
        assertEquals(1, r.taskManagers());
        assertEquals(830.0, r.perTaskManager().get(0).rssHighWaterMb());
        assertEquals(Boolean.TRUE, r.sessionsShared(), "2 subtasks, each of 2 files opened once");
        assertEquals(1.5, r.loadAverageStart());
        assertNull(r.error());

        Map<String, TaskManagerLog> onePerSubtask = Map.of("taskmanager-1", new TaskManagerLog(2, 4, 2, Set.of(1)));
        assertEquals(
                Boolean.FALSE,
                ScaleBenchmark.capacityResult(layout, 0, capacitySummary(), onePerSubtask)
                        .sessionsShared());
        Map<String, TaskManagerLog> single = Map.of("taskmanager-1", new TaskManagerLog(1, 2, 2, Set.of(1)));
        assertNull(
                ScaleBenchmark.capacityResult(new Layout(1, 1, 1), 0, capacitySummary(), single)
                        .sessionsShared(),
                "one subtask per TaskManager shows nothing about sharing");

        CapacityResult failed = ScaleBenchmark.capacityResult(layout, 1, JSON.readTree("{}"), Map.of());
        assertNull(failed.windowsPerS());
        assertEquals("no capacity in summary.json", failed.error());
    }

    @Test
    void samplesCsvAndTheSoak() throws Exception {
        List<Map<String, Double>> rows =
                ScaleBenchmark.readSamples("time,elapsed_s,heap_mb_taskmanager-1,rss_mb_taskmanager-1\n"
                        + "2026-12-01T00:00:00Z,15,100.5,700\n2026-12-01T00:00:15Z,30,,720.5\n\n");
        assertEquals(2, rows.size());
        assertEquals(Map.of("elapsed_s", 30.0, "rss_mb_taskmanager-1", 720.5), rows.get(1));
        JsonNode summary = JSON.readTree("{\"minutes\": 10.0, \"rate_asked\": 56000.0, \"capacity_share\": 0.7,"
                + " \"probe\": {\"readings_per_s\": 80000}, \"verdict\": {\"exactly_once\": true},"
                + " \"all_flat\": true, \"flat\": {\"rss_mb_taskmanager-1\": {\"first_third_mean\": 700.0,"
                + " \"last_third_mean\": 702.0, \"slope_per_10min\": 1.5, \"flat\": true},"
                + " \"rss_mb_kafka\": {\"flat\": false}}}");
        SoakResult s = ScaleBenchmark.soakResult(new Layout(2, 1, 2), 0, summary, rows);
        assertEquals(80000.0, s.capacityReadingsPerS());
        assertEquals(Boolean.TRUE, s.exactlyOnce());
        assertEquals(1, s.perTaskManager().size());
        assertEquals(702.0, s.perTaskManager().get(0).rssLastThirdMb());
        assertEquals(720.5, s.perTaskManager().get(0).peakRssMb());
        assertEquals(100.5, s.perTaskManager().get(0).peakHeapMb());
        assertNull(s.perTaskManager().get(0).heapMinFlat(), "not in the summary: unknown, not false");
        assertEquals(List.of("rss_mb_kafka"), s.notFlat());
        String table = ScaleBenchmark.table("m", List.of(), s);
        assertTrue(table.contains("every series flat yes (not flat: rss_mb_kafka)"), table);
        assertTrue(table.contains("| taskmanager-1 | 700 / 702 | +1.5 | yes | - / - | - | - | 721 | 101 |"), table);
    }

    @Test
    void theSlotCostAndTheTable() throws Exception {
        Map<String, TaskManagerLog> oneEach = new LinkedHashMap<>();
        oneEach.put("taskmanager-1", new TaskManagerLog(1, 2, 2, Set.of(1)));
        CapacityResult one = ScaleBenchmark.capacityResult(new Layout(1, 1, 1), 0, capacitySummary(), oneEach);
        JsonNode twoSummary = JSON.readTree(
                capacitySummary().toString().replace("\"rss_high_water_mb\":830.0", "\"rss_high_water_mb\":850.0"));
        CapacityResult two = ScaleBenchmark.capacityResult(
                new Layout(2, 1, 2), 0, twoSummary, Map.of("taskmanager-1", new TaskManagerLog(2, 2, 2, Set.of(1))));
        List<String> cost = ScaleBenchmark.slotCost(List.of(one, two));
        assertEquals(1, cost.size());
        assertTrue(
                cost.get(0).contains("1 inference subtask peaked at 830 MiB")
                        && cost.get(0).contains("+20 MiB"),
                cost.get(0));
        String table = ScaleBenchmark.table("m 1", List.of(one, two), null);
        assertTrue(
                table.contains("| 2 | 1 | 1 x 2 | 2,500 | 80,001 | tm1 2, 2 (2) | tm1 301 | tm1 810 / 850 |"), table);
        assertTrue(table.contains("ONNX sessions shared per TaskManager") && table.contains(": yes"), table);
    }
}
