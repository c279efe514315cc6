package io.exitflow.jobs.classification;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.exitflow.runtime.record.InferenceRequest;
import io.exitflow.schemas.FeatureEvent;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class FeatureEventValidatorTest {
    private static FeatureEvent event(Float... features) {
        return FeatureEvent.newBuilder()
                .setEventId("e-1")
                .setKey("k")
                .setEventTime(Instant.ofEpochMilli(42))
                .setFeatures(Arrays.asList(features))
                .setLabel("normal")
                .build();
    }

    @Test
    void acceptsExactlyTheModelsNumberOfFiniteFeatures() {
        FeatureEventValidator v = new FeatureEventValidator(3);
        assertNull(v.problem(event(1f, 2f, 3f)));
        assertEquals("expected 3 features, got 2", v.problem(event(1f, 2f)));
        assertEquals("feature 2 is NaN", v.problem(event(1f, 2f, Float.NaN)));
        assertEquals("feature 0 is -Infinity", v.problem(event(Float.NEGATIVE_INFINITY, 2f, 3f)));
        assertEquals(
                "empty eventId",
                v.problem(FeatureEvent.newBuilder(event(1f, 2f, 3f))
                        .setEventId("")
                        .build()));
    }

    @Test
    void requestCarriesIdKeyTimeFeaturesAndLabel() {
        InferenceRequest r = ClassificationJob.toRequest(event(1f, 2f, 3f));
        assertEquals("e-1", r.eventId);
        assertEquals("k", r.key);
        assertEquals(42L, r.eventTime);
        assertArrayEquals(new float[] {1f, 2f, 3f}, r.input);
        assertEquals("normal", r.label);
        assertEquals(List.of(1f, 2f, 3f), event(1f, 2f, 3f).getFeatures());
    }
}
