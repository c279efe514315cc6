package io.exitflow.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class LatencyBenchmarkTest {
    private static final long S = 1_000_000_000L;

    /** 1,000 windows: nothing for 2 s (start-up), then 100 per 0.1 s poll, 1,000 windows/s. */
    private static LatencyBenchmark.Progress steadyAfterStartUp() {
        LatencyBenchmark.Progress p = new LatencyBenchmark.Progress();
        p.add(0, 0);
        p.add(2 * S, 0);
        for (int i = 1; i <= 10; i++) {
            p.add(2 * S + i * S / 10, 100L * i);
        }
        return p;
    }

    @Test
    void theRateIsBetweenThePollsThatFirstReachedTheShares() {
        LatencyBenchmark.Progress p = steadyAfterStartUp();
        // 20% reached at 2.2 s with 200, 80% at 2.8 s with 800: 600 in 0.6 s; start-up is outside
        assertEquals(1000, p.rateBetween(1000, 0.2, 0.8), 1e-9);
        assertEquals(200, p.countAt(1000, 0.2));
        assertEquals(800, p.countAt(1000, 0.8));
        // from the start the rate would include the 2 s of start-up
        assertEquals(800 / 2.8, p.rateBetween(1000, 0, 0.8), 1e-9);
    }

    @Test
    void ratesByTenthShowWhereTheRateChanged() {
        LatencyBenchmark.Progress p = new LatencyBenchmark.Progress();
        for (int i = 0; i <= 3; i++) {
            p.add(i * S, 100L * i); // 100/s for 3 s (JIT, a cold cache)
        }
        for (int i = 1; i <= 7; i++) {
            p.add(3 * S + i * S / 10, 300 + 100L * i); // then 1,000/s
        }
        double[] r = p.rates(1000, new double[] {0.1, 0.3, 0.5, 0.9});
        assertArrayEquals(new double[] {100, 1000, 1000}, r, 1e-9);
    }

    @Test
    void aBacklogTooSmallOrNeverDrainedIsAnError() {
        LatencyBenchmark.Progress onePoll = new LatencyBenchmark.Progress();
        onePoll.add(0, 0);
        onePoll.add(S, 1000); // 20% and 80% in the same poll
        IllegalStateException same =
                assertThrows(IllegalStateException.class, () -> onePoll.rateBetween(1000, 0.2, 0.8));
        assertTrue(same.getMessage().contains("--capacity-readings-per-sensor"), same.getMessage());
        LatencyBenchmark.Progress stuck = new LatencyBenchmark.Progress();
        stuck.add(0, 100);
        assertThrows(IllegalStateException.class, () -> stuck.rateBetween(1000, 0.2, 0.8));
        assertTrue(Double.isNaN(stuck.rates(1000, new double[] {0.1, 0.2})[0]));
    }

    @Test
    void everyOtherRoundRunsTheModesInReverse() {
        List<String> modes = List.of("CASCADE", "FULL_DEPTH", "SPLIT");
        assertEquals(modes, LatencyBenchmark.roundOrder(modes, 0));
        assertEquals(List.of("SPLIT", "FULL_DEPTH", "CASCADE"), LatencyBenchmark.roundOrder(modes, 1));
        assertEquals(modes, LatencyBenchmark.roundOrder(modes, 2));
        List<String> given = new java.util.ArrayList<>(List.of("CASCADE", "FULL_DEPTH"));
        LatencyBenchmark.roundOrder(given, 1);
        assertEquals(List.of("CASCADE", "FULL_DEPTH"), given); // the caller's list is not changed
    }

    @Test
    void theCapacityIsTheMedianOfTheRounds() {
        assertEquals(3.0, LatencyBenchmark.median(List.of(5.0, 1.0, 3.0)));
        assertEquals(2.5, LatencyBenchmark.median(List.of(4.0, 1.0, 3.0, 2.0)));
        assertEquals(7.0, LatencyBenchmark.median(List.of(7.0)));
        assertThrows(IllegalArgumentException.class, () -> LatencyBenchmark.median(List.of()));
    }
}
