package io.exitflow.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.exitflow.schemas.StageStats;
import java.util.List;
import org.junit.jupiter.api.Test;

class StageStatsWindowTest {
    private static StageStats stats(int subtask, long start, long end, long arrivals) {
        return StageStats.newBuilder()
                .setModelId("m")
                .setOperatorName("cascade")
                .setSubtask(subtask)
                .setIntervalStartMillis(start)
                .setIntervalEndMillis(end)
                .setFirstStage(0)
                .setArrivals(arrivals)
                .setStageArrivals(List.of(arrivals, arrivals / 2))
                .setExits(List.of(arrivals / 2, arrivals / 2))
                .setBatches(List.of(1L, 1L))
                .setBusyNanos(List.of(1_000L, 1_000L))
                .setBacklog(0)
                .setThresholdVersion(1)
                .build();
    }

    @Test
    void throughputIsTheSumOfTheSubtasksRatesWhenTheirIntervalsDoNotLineUp() {
        // Two subtasks at 300 events/s each, 1 s stats intervals, the second's half a second behind the first's:
        // together 600 events/s, although their records span 2.5 s of wall time between them.
        StageStatsWindow w = new StageStatsWindow(2, 0);
        w.add(stats(0, 10_000, 11_000, 300));
        w.add(stats(0, 11_000, 12_000, 300));
        w.add(stats(1, 10_500, 11_500, 300));
        w.add(stats(1, 11_500, 12_500, 300));
        ControlMeasurement m = w.toMeasurement(0);
        assertEquals(600, m.throughput(), 1e-9);
        assertEquals(2, m.workers());
        assertEquals(1200, m.arrivals());
        assertEquals(12_500, m.endMillis());
    }

    @Test
    void aSubtaskWithFewerRecordsInTheWindowCountsAtItsOwnRate() {
        // The first subtask's second record is late (it comes with the next window): its rate is still 300/s.
        StageStatsWindow w = new StageStatsWindow(2, 0);
        w.add(stats(0, 10_000, 11_000, 300));
        w.add(stats(1, 10_000, 11_000, 200));
        w.add(stats(1, 11_000, 12_000, 200));
        assertEquals(500, w.toMeasurement(0).throughput(), 1e-9);
    }
}
