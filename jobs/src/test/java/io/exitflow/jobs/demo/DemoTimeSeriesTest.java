package io.exitflow.jobs.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CSV that ./exitflow-demo --plot hands to the toolkit's exitflow.demo_plot (tests/python/test_demo_plot.py). */
class DemoTimeSeriesTest {
    /** The header tests/python/test_demo_plot.py writes for a 4-stage bundle: keep both in step. */
    static final String HEADER_4_STAGES = "t_s,input_rate,target_rate,windows_per_s,accuracy,exits_0,exits_1,exits_2,"
            + "exits_3,threshold_0,threshold_1,threshold_2,threshold_version,e2e_p50_ms,e2e_p99_ms,dead_letters";

    @Test
    void writesOneRowPerIntervalWithEmptyCellsForMissingValues(@TempDir Path dir) throws Exception {
        DemoTimeSeries series = new DemoTimeSeries(4);
        series.add(new DemoTimeSeries.Row(
                2.0,
                1500,
                1500,
                46.5,
                0.95,
                new double[] {40, 4, 2, 0.5},
                new float[] {0.9f, 0.8f, 0.7f, 0f},
                0,
                120.5,
                900,
                3));
        series.add(new DemoTimeSeries.Row(
                4.0,
                2990.2,
                3000,
                0,
                Double.NaN,
                new double[] {0, 0, 0, 0},
                new float[] {0.5f, 0.8f, 0.7f, 0f},
                1_796_085_378_922L,
                Double.NaN,
                Double.NaN,
                3));
        Path file = dir.resolve("sub/series.csv");
        series.write(file);
        List<String> lines = Files.readAllLines(file);
        assertEquals(
                List.of(
                        HEADER_4_STAGES,
                        "2.00000,1500.00,1500.00,46.5000,0.950000,40.0000,4.00000,2.00000,0.500000,0.900000,0.800000,0.700000,"
                                + "0,120.500,900.000,3",
                        "4.00000,2990.20,3000.00,0.00000,,0.00000,0.00000,0.00000,0.00000,0.500000,0.800000,0.700000,"
                                + "1796085378922,,,3"),
                lines);
        assertEquals(2, series.size());
    }

    @Test
    void refusesARowOfAnotherStageCount() {
        DemoTimeSeries series = new DemoTimeSeries(2);
        assertThrows(
                IllegalArgumentException.class,
                () -> series.add(new DemoTimeSeries.Row(
                        2, 1, 1, 1, 1, new double[] {1, 2, 3}, new float[] {0.5f, 0f}, 0, 1, 1, 0)));
        assertThrows(IllegalArgumentException.class, () -> new DemoTimeSeries(0));
    }
}
