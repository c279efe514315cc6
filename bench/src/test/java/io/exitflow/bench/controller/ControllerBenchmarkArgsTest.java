package io.exitflow.bench.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.bench.BenchArgs;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ControllerBenchmark's command line through the one parser: run.sh's spellings, defaults stated once. */
class ControllerBenchmarkArgsTest {
    private static BenchArgs parse(String... args) {
        return BenchArgs.parse(args, "ControllerBenchmark", ControllerBenchmark.OPTIONS)
                .orElseThrow();
    }

    @Test
    void runShsSpellingsKeepWorking() {
        BenchArgs a = parse(
                "--out-dir",
                "bench/controller/out",
                "--bundle",
                "models/sensor-cnn",
                "--bundle",
                "models/x",
                "--task-busy");
        assertEquals(List.of("models/sensor-cnn", "models/x"), a.get(ControllerBenchmark.BUNDLES));
        assertEquals("bench/controller/out", a.get(ControllerBenchmark.OUT_DIR));
        assertTrue(a.get(ControllerBenchmark.TASK_BUSY).on());
    }

    @Test
    void withoutBundlesItRunsTheDefaultOnes() {
        // bench/controller/run.sh --task-busy (RESULTS.md) gives no --bundle: the option's default applies
        BenchArgs a = parse("--task-busy");
        assertEquals(List.of("models/sensor-cnn", "models/features-mlp"), a.get(ControllerBenchmark.BUNDLES));
        assertFalse(parse().get(ControllerBenchmark.TASK_BUSY).on());
    }

    @Test
    void mistakesNameTheFlag() {
        String msg = assertThrows(IllegalArgumentException.class, () -> parse("--bundles", "x"))
                .getMessage();
        assertTrue(msg.startsWith("unknown setting --bundles"), msg);
        msg = assertThrows(IllegalArgumentException.class, () -> parse("--task-busy", "yes"))
                .getMessage();
        assertTrue(msg.startsWith("--task-busy must be on or off, got 'yes'"), msg);
    }
}
