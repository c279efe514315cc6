package io.exitflow.bench.eos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Peaks of the sampler's rows and the RSS high-water mark of /proc/<pid>/status. */
class MemoryPeaksTest {
    private static Map<String, Double> row(double heap, double rss) {
        Map<String, Double> r = new HashMap<>();
        r.put("heap_mb_taskmanager-1", heap);
        r.put("rss_mb_taskmanager-1", rss);
        return r;
    }

    @Test
    void thePeakOfEachColumnSkippingEmptyCells() {
        List<Map<String, Double>> rows = List.of(row(120.04, 700), row(Double.NaN, 812.26), row(300, Double.NaN));
        Map<String, Map<String, Object>> p = MemoryPeaks.peaks(rows, List.of("taskmanager-1", "taskmanager-2"));
        assertEquals(300.0, p.get("taskmanager-1").get("peak_heap_mb"));
        assertEquals(812.3, p.get("taskmanager-1").get("peak_rss_mb"));
        assertEquals(2L, p.get("taskmanager-1").get("samples"));
        // a TaskManager without a value in any row: no peak, no samples
        assertFalse(p.get("taskmanager-2").containsKey("peak_rss_mb"));
        assertEquals(0L, p.get("taskmanager-2").get("samples"));
    }

    @Test
    void highWaterMarkInMibFromTheKernelsKilobytes() {
        String status = "Name:\tjava\nVmPeak:\t 9000000 kB\nVmHWM:\t  838656 kB\nVmRSS:\t  800000 kB\n";
        assertEquals(819.0, MemoryPeaks.highWaterMb(status).getAsDouble(), 1e-9);
        assertTrue(MemoryPeaks.highWaterMb("Name:\tjava\n").isEmpty());
    }
}
