package io.exitflow.runtime.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.runtime.TestBundles;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.junit.jupiter.api.Test;

/** Shared, reference-counted sessions; GPU selection; the CUDA request falling back to CPU on a CPU build. */
class SessionsAndDevicesTest {
    private static final Path STAGE0 = TestBundles.tiny().resolve("stage0.onnx");

    @Test
    void slotsShareOneSessionPerStageUntilTheLastLeaseCloses() {
        int before = SharedSessions.openSessions();
        SessionLease a = SharedSessions.acquire(STAGE0, Optional.empty(), 1);
        SessionLease b = SharedSessions.acquire(STAGE0, Optional.empty(), 1);
        assertSame(a.session(), b.session());
        assertEquals(before + 1, SharedSessions.openSessions());
        a.close();
        a.close(); // idempotent: one lease, one reference
        assertEquals(before + 1, SharedSessions.openSessions(), "b still holds it");
        b.close();
        assertEquals(before, SharedSessions.openSessions());
        assertThrows(IllegalStateException.class, b::session);
    }

    @Test
    void cudaOnACpuBuildRunsOnCpu() {
        try (SessionLease lease = SharedSessions.acquire(STAGE0, Optional.of(0), 1)) {
            assertFalse(lease.onGpu(), "the CPU onnxruntime jar has no CUDA provider");
            assertTrue(lease.session().getInputNames().contains("state_in"));
        }
    }

    private static ExternalResourceInfo gpu(String index) {
        return new ExternalResourceInfo() {
            @Override
            public Optional<String> getProperty(String key) {
                return "index".equals(key) ? Optional.of(index) : Optional.empty();
            }

            @Override
            public java.util.Collection<String> getKeys() {
                return Set.of("index");
            }
        };
    }

    @Test
    void subtasksSpreadOverFlinksGpusAndAConfiguredIndexWins() {
        OrtConfig fromFlink = new OrtConfig(OrtConfig.Device.CUDA, OrtConfig.FROM_EXTERNAL_RESOURCE, 1);
        List<ExternalResourceInfo> gpus = List.of(gpu("3"), gpu("1"));
        assertEquals(Optional.of(1), GpuSelector.pick(fromFlink, gpus, 0));
        assertEquals(Optional.of(3), GpuSelector.pick(fromFlink, gpus, 1));
        assertEquals(Optional.of(1), GpuSelector.pick(fromFlink, gpus, 2));
        assertEquals(Optional.empty(), GpuSelector.pick(fromFlink, List.of(), 0));
        assertEquals(Optional.of(2), GpuSelector.pick(fromFlink.withGpuIndex(2), gpus, 1));
    }

    @Test
    void badSettingsFailAtConstruction() {
        assertThrows(IllegalArgumentException.class, () -> new OrtConfig(OrtConfig.Device.CPU, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> new OrtConfig(null, -1, 1));
    }
}
