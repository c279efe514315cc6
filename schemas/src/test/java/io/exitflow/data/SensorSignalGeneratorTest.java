package io.exitflow.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.schemas.SensorReading;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SensorSignalGeneratorTest {

    private static List<SensorReading> take(SensorSignalGenerator g, int n) {
        List<SensorReading> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(g.next());
        }
        return out;
    }

    @Test
    void sameSeedGivesSameReadingsAndOtherSeedDoesNot() {
        List<SensorReading> a = take(new SensorSignalGenerator("s-1", 7, 0), 2000);
        List<SensorReading> b = take(new SensorSignalGenerator("s-1", 7, 0), 2000);
        List<SensorReading> c = take(new SensorSignalGenerator("s-1", 8, 0), 2000);
        assertEquals(a, b);
        assertNotEquals(a, c);
    }

    @Test
    void readingsAdvanceAtTheSamplePeriodAndCarryLabelAndDifficulty() {
        List<SensorReading> r = take(new SensorSignalGenerator("s-2", 1, 1000), 20_000);
        Set<String> labels = new HashSet<>();
        for (int i = 0; i < r.size(); i++) {
            SensorReading x = r.get(i);
            assertEquals(
                    1000 + (long) i * SensorClasses.SAMPLE_PERIOD_MS,
                    x.getEventTime().toEpochMilli());
            assertEquals(SensorClasses.CHANNELS, x.getValues().size());
            assertTrue(SensorClasses.indexOf(x.getLabel()) >= 0, x.getLabel());
            assertTrue(x.getSeverity() >= 0f && x.getSeverity() <= 1f);
            for (float v : x.getValues()) {
                assertTrue(Float.isFinite(v));
            }
            labels.add(x.getLabel());
        }
        // 200 s of one machine visits most regimes.
        assertTrue(labels.size() >= 4, "regimes seen: " + labels);
    }

    @Test
    void faultsChangeTheSignalEnergy() {
        // Mean power of channel 0 per class over many machines: imbalance and bearing faults add radial energy.
        Map<String, double[]> sums = new HashMap<>();
        for (int s = 0; s < 12; s++) {
            for (SensorReading x : take(new SensorSignalGenerator("m-" + s, 3, 0), 6000)) {
                double[] acc = sums.computeIfAbsent(x.getLabel(), k -> new double[2]);
                acc[0] += x.getValues().get(0) * x.getValues().get(0);
                acc[1]++;
            }
        }
        double normal = sums.get("normal")[0] / sums.get("normal")[1];
        for (String fault : List.of("imbalance", "bearing_fault")) {
            double power = sums.get(fault)[0] / sums.get(fault)[1];
            assertTrue(power > normal, fault + " " + power + " vs normal " + normal);
        }
    }

    @Test
    void windowIsChannelsFirstAndLabelledByItsLastReading() {
        List<SensorReading> r = take(new SensorSignalGenerator("s-3", 5, 0), 300);
        SensorWindow w = SensorWindow.of(r, 10, 128);
        assertEquals(r.get(137).getLabel(), w.label());
        assertEquals(r.get(137).getEventTime().toEpochMilli(), w.endTimeMillis());
        assertEquals(r.get(10).getValues().get(0), w.channelsFirst()[0]);
        assertEquals(r.get(11).getValues().get(2), w.channelsFirst()[2 * 128 + 1]);
        float[] f = WindowFeatures.extract(w.channelsFirst(), SensorClasses.CHANNELS, 128);
        assertEquals(36, f.length);
    }

    @Test
    void featuresSeeTheDominantFrequencyBand() {
        // A pure 20 Hz tone at 100 Hz sampling lies in bin ~26 of 64, band 3 of 8.
        float[] tone = new float[3 * 128];
        for (int t = 0; t < 128; t++) {
            tone[t] = (float) Math.sin(2 * Math.PI * 20 * t / 100.0);
        }
        float[] f = WindowFeatures.extract(tone, 3, 128);
        int strongest = 0;
        for (int b = 1; b < WindowFeatures.BANDS; b++) {
            if (f[4 + b] > f[4 + strongest]) {
                strongest = b;
            }
        }
        assertEquals(3, strongest);
        assertEquals(0f, f[WindowFeatures.PER_CHANNEL + 4], 1e-6f); // silent channel has no energy
    }

    @Test
    void rejectsSegmentsShorterThanTheCrossfade() {
        assertThrows(IllegalArgumentException.class, () -> new SensorSignalGenerator("x", 1, 0, 10, 20));
    }
}
