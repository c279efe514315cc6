package io.exitflow.runtime.exit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Scores from logits as docs/bundle-contract.md defines them, checked against values worked out by hand. */
class ScoreRuleTest {
    private static final double EPS = 1e-6;

    @Test
    void uniformLogitsAreLeastConfident() {
        float[] uniform = {2f, 2f, 2f, 2f};
        assertEquals(0.25, ScoreRule.MAXPROB.fromLogits(uniform, 0, 4), EPS);
        assertEquals(0.0, ScoreRule.ENTROPY.fromLogits(uniform, 0, 4), EPS);
        assertEquals(0.0, ScoreRule.MARGIN.fromLogits(uniform, 0, 4), EPS);
    }

    @Test
    void twoClassValuesMatchTheClosedForm() {
        // softmax([ln 3, 0]) = [0.75, 0.25]
        float[] l = {(float) Math.log(3), 0f};
        assertEquals(0.75, ScoreRule.MAXPROB.fromLogits(l, 0, 2), EPS);
        assertEquals(0.5, ScoreRule.MARGIN.fromLogits(l, 0, 2), EPS);
        double h = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
        assertEquals(1 - h / Math.log(2), ScoreRule.ENTROPY.fromLogits(l, 0, 2), EPS);
    }

    @Test
    void rowsAreReadAtTheirOffsetAndLargeLogitsDoNotOverflow() {
        float[] rows = {0f, 0f, 1000f, 1000f, 0f, 0f};
        assertEquals(1.0, ScoreRule.MAXPROB.fromLogits(rows, 3, 3), EPS);
        assertEquals(0, Softmax.argmax(rows, 3, 3));
        assertEquals(2, Softmax.argmax(rows, 0, 3));
        assertEquals(1.0, Softmax.probability(rows, 3, 3, 0), EPS);
    }

    @Test
    void argmaxTakesTheFirstOfEqualLogitsLikeNumpy() {
        assertEquals(1, Softmax.argmax(new float[] {0f, 5f, 5f}, 0, 3));
    }

    @Test
    void theModelRuleComesFromTheGraph() {
        assertEquals(ScoreRule.ENTROPY, ScoreRule.of("entropy"));
        assertThrows(IllegalStateException.class, () -> ScoreRule.MODEL.fromLogits(new float[2], 0, 2));
    }

    @Test
    void thresholdsLetTheLastStageAlwaysAnswer() {
        Thresholds t = new Thresholds("m", "v", 1, new float[] {0.9f, 0.8f, 1f});
        assertEquals(true, t.exits(0, 3, 0.9f));
        assertEquals(false, t.exits(1, 3, 0.79f));
        assertEquals(true, t.exits(2, 3, 0f));
    }
}
