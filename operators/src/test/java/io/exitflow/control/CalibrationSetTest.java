package io.exitflow.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

class CalibrationSetTest {
    @Test
    void keepsTheMostRecentSamplesAndTargetsLabelOrFullDepthClass() {
        CalibrationSet set = new CalibrationSet(2, 3);
        for (int i = 0; i < 5; i++) set.add(new float[] {i / 10f, 0.5f}, new int[] {i, 7}, i % 2 == 0 ? i : null);
        assertEquals(3, set.size());
        assertEquals(5, set.added());
        float min = 1;
        for (int i = 0; i < set.size(); i++) min = Math.min(min, set.score(i, 0));
        assertEquals(0.2f, min, 1e-6, "samples 0 and 1 were replaced");
        for (int i = 0; i < set.size(); i++) {
            int sample = Math.round(set.score(i, 0) * 10);
            assertEquals(sample % 2 == 0 ? sample : 7, set.target(i));
        }
        assertEquals(2 / 3.0, set.labelledShare(), 1e-12);
    }

    @Test
    void rejectsBadSamples() {
        CalibrationSet set = new CalibrationSet(2, 3);
        assertThrows(IllegalArgumentException.class, () -> set.add(new float[] {0.5f}, new int[] {1}, null));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> set.add(new float[] {0.5f, 1.5f}, new int[] {1, 1}, null));
        assertTrue(e.getMessage().contains("out of [0,1]"));
        assertThrows(
                IllegalArgumentException.class, () -> set.add(new float[] {Float.NaN, 0.5f}, new int[] {1, 1}, null));
        assertEquals(0, set.size());
    }

    @Test
    void budgetBuilderValidates() {
        Budget rate = Budget.builder().targetRate(100).maxAccuracyLoss(0.01).build();
        assertEquals(Budget.Kind.RATE, rate.kind());
        assertEquals(OptionalDouble.of(0.01), rate.maxAccuracyLoss());
        assertFalse(Budget.builder().costFraction(0.3).build().maxAccuracyLoss().isPresent());
        assertThrows(IllegalArgumentException.class, () -> Budget.builder().build());
        assertThrows(
                IllegalArgumentException.class,
                () -> Budget.builder().targetRate(10).costFraction(0.5));
        assertThrows(IllegalArgumentException.class, () -> Budget.builder().costFraction(1.5));
        assertThrows(IllegalArgumentException.class, () -> Budget.builder().targetRate(-1));
        assertThrows(IllegalStateException.class, () -> rate.costFraction());
    }
}
