package io.exitflow.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class KafkaJobBenchmarkTest {
    @Test
    void theMarkIsTheShareOfTheExpectedWindowsRoundedUp() {
        assertEquals(0, KafkaJobBenchmark.markCount(29_952, 0));
        assertEquals(8_986, KafkaJobBenchmark.markCount(29_952, 0.3)); // 8985.6
        assertEquals(1, KafkaJobBenchmark.markCount(10, 0.01));
        assertEquals(10, KafkaJobBenchmark.markCount(10, 0.95));
    }

    @Test
    void aShareOutsideZeroToOneIsRefusedNamingTheFlag() {
        for (double bad : new double[] {-0.1, 1, 1.5, Double.NaN}) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> KafkaJobBenchmark.markCount(100, bad));
            assertTrue(e.getMessage().startsWith("--measure-from"), e.getMessage());
        }
    }

    @Test
    void recordsAtOrPastTheMarkPositionsAreAfterIt() {
        Map<Integer, Long> positions = Map.of(0, 120L, 1, 95L);
        assertFalse(KafkaJobBenchmark.afterMark(positions, 0, 119));
        assertTrue(KafkaJobBenchmark.afterMark(positions, 0, 120));
        assertTrue(KafkaJobBenchmark.afterMark(positions, 1, 95));
        assertFalse(KafkaJobBenchmark.afterMark(positions, 1, 3));
        // a partition the reader had nothing from at the mark: all of it came after
        assertTrue(KafkaJobBenchmark.afterMark(positions, 2, 0));
    }

    @Test
    void aTallyCountsAccuracyExitsAndLatencyQuantiles() {
        KafkaJobBenchmark.Tally t = new KafkaJobBenchmark.Tally(4);
        assertTrue(Double.isNaN(t.accuracy()));
        assertTrue(Double.isNaN(t.latencyQuantile(0.5)));
        t.add(0, true, 3.0);
        t.add(0, true, 1.0);
        t.add(2, false, 4.0);
        t.add(3, true, 2.0);
        assertEquals(4, t.windows);
        assertEquals(0.75, t.accuracy(), 1e-12);
        assertArrayEquals(new long[] {2, 0, 1, 1}, t.exits);
        assertEquals(2.0, t.latencyQuantile(0.5), 0); // nearest rank: the 2nd of 1, 2, 3, 4
        assertEquals(4.0, t.latencyQuantile(0.99), 0);
    }
}
