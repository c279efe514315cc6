package io.exitflow.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.runtime.manifest.Fixtures;
import io.exitflow.schemas.Prediction;

/** Checks a prediction against a bundle's fixtures.json: same exit stage and class as the toolkit computed. */
public final class FixtureCheck {
    private FixtureCheck() {}

    /**
     * Asserts {@code p} (the answer to fixture input {@code i}) took the fixture's exit and class. A different exit is
     * accepted only when the deciding score lies within the fixture tolerance of its threshold (float noise between
     * runtimes); returns whether that happened, so callers can bound how often.
     */
    public static boolean assertMatches(Fixtures fx, float[] thresholds, int i, Prediction p, String where) {
        int want = fx.expectedExit()[i];
        if (p.getExitStage() != want) {
            int k = Math.min(want, p.getExitStage());
            float s = fx.stages().get(k).score()[i];
            assertTrue(
                    Math.abs(s - thresholds[k]) <= fx.tolerance(),
                    where + " input " + i + " exits at " + p.getExitStage() + ", fixtures say " + want);
            return true;
        }
        assertEquals(fx.expectedClass()[i], p.getClassIndex(), where + " class of input " + i);
        return false;
    }
}
