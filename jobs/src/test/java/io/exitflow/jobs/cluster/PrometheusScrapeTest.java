package io.exitflow.jobs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The text exposition format as Flink's Prometheus reporter writes it, and lines that must not parse. */
class PrometheusScrapeTest {
    private static final String SCRAPE = """
            # HELP flink_taskmanager_job_task_operator_stage_exits exits (scope: taskmanager_job_task_operator_stage)
            # TYPE flink_taskmanager_job_task_operator_stage_exits gauge
            flink_taskmanager_job_task_operator_stage_exits{stage="0",operator_name="early-exit: a \\"b\\" \\\\ c",subtask_index="0",} 12.0
            flink_taskmanager_job_task_operator_stage_exits{stage="1",operator_name="x",subtask_index="0",} 3.0
            flink_taskmanager_job_task_operator_latencyMicros{quantile="0.99",} NaN
            flink_jobmanager_numRegisteredTaskManagers 2.0 1700000000000
            up{a="multi\\nline"} +Inf
            down -Inf
            """;

    @Test
    void readsNamesLabelsAndValuesAsFlinkWritesThem() {
        PrometheusScrape s = PrometheusScrape.parse(SCRAPE);
        assertEquals(6, s.samples().size());
        assertEquals(
                Set.of(
                        "flink_taskmanager_job_task_operator_stage_exits",
                        "flink_taskmanager_job_task_operator_latencyMicros",
                        "flink_jobmanager_numRegisteredTaskManagers",
                        "up",
                        "down"),
                s.names());
        List<PrometheusScrape.Sample> exits = s.samples("flink_taskmanager_job_task_operator_stage_exits");
        assertEquals(
                Map.of("stage", "0", "operator_name", "early-exit: a \"b\" \\ c", "subtask_index", "0"),
                exits.get(0).labels());
        assertEquals(12.0, exits.get(0).value());
        assertEquals(15.0, s.sum("flink_taskmanager_job_task_operator_stage_exits", x -> true));
        assertEquals(3.0, s.sum("flink_taskmanager_job_task_operator_stage_exits", x -> "1".equals(x.label("stage"))));
        assertTrue(Double.isNaN(s.samples("flink_taskmanager_job_task_operator_latencyMicros")
                .get(0)
                .value()));
        assertEquals(
                2.0,
                s.samples("flink_jobmanager_numRegisteredTaskManagers").get(0).value(),
                "timestamp ignored");
        assertEquals("multi\nline", s.samples("up").get(0).label("a"));
        assertEquals(Double.POSITIVE_INFINITY, s.samples("up").get(0).value());
        assertEquals(Double.NEGATIVE_INFINITY, s.samples("down").get(0).value());
        assertEquals(0.0, s.sum("absent", x -> true));
    }

    @Test
    void refusesLinesOutsideTheFormatWithTheirLineNumber() {
        for (String bad : List.of(
                "m{a=\"1\"",
                "m{a=1} 2",
                "m{a=\"1\" b=\"2\"} 3",
                "m{a=\"\\x\"} 1",
                "m",
                "m 1 2 3",
                "m one",
                "{a=\"1\"} 2",
                "m{a=\"1\",a=\"2\"} 3")) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class, () -> PrometheusScrape.parse("# TYPE m gauge\n" + bad + "\n"), bad);
            assertTrue(e.getMessage().startsWith("line 2: "), e.getMessage());
        }
    }
}
