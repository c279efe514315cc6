package io.exitflow.runtime.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.runtime.TestBundles;
import io.exitflow.runtime.onnx.OrtConfig;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** {@code EarlyExit.build()}: every setting checked once, the result an immutable settings record. */
class EarlyExitSettingsTest {
    private static EarlyExit.Builder tiny() {
        return EarlyExit.builder().bundlePath(TestBundles.tiny().toString());
    }

    @Test
    void theBuilderDefaultsAreTheDeclaredOnes() {
        EarlyExit.Settings s = tiny().build().settings();
        assertEquals(EarlyExit.DEFAULT_MODE, s.mode());
        assertEquals(EarlyExit.DEFAULT_MAX_BATCH_SIZE, s.maxBatchSize());
        assertEquals(EarlyExit.DEFAULT_MAX_WAIT, s.maxWait());
        assertEquals(EarlyExit.DEFAULT_FULL_DEPTH_SAMPLE_RATE, s.fullDepthSampleRate());
        assertEquals(EarlyExit.DEFAULT_MAX_SAMPLES_PER_INTERVAL, s.maxSamplesPerInterval());
        assertEquals(EarlyExit.DEFAULT_STATS_INTERVAL, s.statsInterval());
        assertEquals(
                new OrtConfig(
                        EarlyExit.DEFAULT_DEVICE, OrtConfig.FROM_EXTERNAL_RESOURCE, EarlyExit.DEFAULT_INTRA_OP_THREADS),
                s.ort());
        assertEquals(EarlyExit.DEFAULT_NAME, s.name());
        assertEquals(3, s.numStages());
        assertTrue(s.stageParallelism().isEmpty()
                && s.slotSharingGroups().isEmpty()
                && s.stageDevices().isEmpty());
    }

    @Test
    void eachBadSettingFailsAtBuildNamingIt() {
        List<Case> cases = List.of(
                new Case("maxBatchSize", b -> b.maxBatchSize(0)),
                new Case("maxWait", b -> b.maxWait(Duration.ofMillis(-1))),
                new Case("fullDepthSampleRate", b -> b.fullDepthSampleRate(1.5)),
                new Case("maxSamplesPerInterval", b -> b.maxSamplesPerInterval(-1)),
                new Case("statsInterval", b -> b.statsInterval(Duration.ZERO)),
                new Case("intraOpThreads", b -> b.intraOpThreads(0)),
                new Case("gpuIndex", b -> b.gpuIndex(-2)),
                new Case("Mode.SPLIT only", b -> b.stageParallelism(1, 1, 1)),
                new Case("slotSharingGroups", b -> b.mode(EarlyExit.Mode.SPLIT).slotSharingGroups("a", "b")));
        for (Case c : cases) {
            String msg = assertThrows(
                            IllegalArgumentException.class,
                            () -> c.change().apply(tiny()).build(),
                            c.names())
                    .getMessage();
            assertTrue(msg.contains(c.names()), msg);
        }
    }

    @Test
    void theSettingsStayAsBuiltWhenTheBuilderChangesAfterwards() {
        EarlyExit.Builder b =
                tiny().mode(EarlyExit.Mode.SPLIT).stageParallelism(2, 1, 1).maxBatchSize(8);
        EarlyExit built = b.build();
        b.maxBatchSize(32).stageParallelism(4, 4, 4);
        assertEquals(8, built.settings().maxBatchSize());
        assertEquals(List.of(2, 1, 1), built.settings().stageParallelism());
        assertThrows(
                UnsupportedOperationException.class,
                () -> built.settings().stageParallelism().set(0, 9));
    }

    private record Case(String names, UnaryOperator<EarlyExit.Builder> change) {}
}
