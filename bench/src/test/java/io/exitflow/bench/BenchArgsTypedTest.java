package io.exitflow.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.common.JobOptions;
import io.exitflow.runtime.api.EarlyExit;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.junit.jupiter.api.Test;

/** A benchmark's typed settings through the one parser: the job's own options keep their defaults and errors. */
class BenchArgsTypedTest {
    private static final ConfigOption<Long> EVENTS =
            ConfigOptions.key("bench.events").longType().defaultValue(5L).withDescription("events");
    private static final List<ConfigOption<?>> OPTIONS = List.of(EVENTS, JobOptions.MAX_BATCH_SIZE, JobOptions.MODE);

    @Test
    void typedValuesAndTheSharedDefaults() {
        BenchArgs a = BenchArgs.parse(new String[] {"--events", "12", "--mode", "split"}, "bench", OPTIONS)
                .orElseThrow();
        assertEquals(12L, a.get(EVENTS));
        assertEquals(EarlyExit.Mode.SPLIT, a.get(JobOptions.MODE));
        assertEquals(EarlyExit.DEFAULT_MAX_BATCH_SIZE, a.get(JobOptions.MAX_BATCH_SIZE));
    }

    @Test
    void badValuesNameTheFlagWhatItAcceptsAndTheUsage() {
        String msg = assertThrows(
                        IllegalArgumentException.class,
                        () -> BenchArgs.parse(new String[] {"--max-batch-size", "big"}, "bench", OPTIONS))
                .getMessage();
        assertTrue(
                msg.startsWith("--max-batch-size must be an integer, got 'big'") && msg.endsWith("usage: bench"), msg);
        msg = assertThrows(
                        IllegalArgumentException.class,
                        () -> BenchArgs.parse(new String[] {"--mode", "x"}, "bench", OPTIONS))
                .getMessage();
        assertTrue(msg.startsWith("--mode must be one of CASCADE, SPLIT, FULL_DEPTH, ROW_AT_A_TIME"), msg);
    }
}
