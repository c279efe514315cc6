package io.exitflow.jobs.anomaly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.schemas.Alert;
import io.exitflow.schemas.Prediction;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;

class AlertRuleTest {
    private static final List<String> MACHINE = List.of("normal", "imbalance", "misalignment");
    private static final List<String> ACTIVITY = List.of("standing", "walking", "running", "badminton");

    private static String error(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void defaultIsEveryClassButNormalWhenTheBundleHasIt() {
        AlertRule.Choice c = AlertRule.choose("m", MACHINE, null, null);
        assertArrayEquals(new boolean[] {false, true, true}, c.alerting());
        assertTrue(c.description().contains("[imbalance, misalignment]"), c.description());
    }

    @Test
    void aBundleWithoutNormalMustSayWhatAlerts() {
        String msg = error(() -> AlertRule.choose("basic-motions", ACTIVITY, null, null));
        for (String part : new String[] {
            "basic-motions",
            "no class named 'normal'",
            ACTIVITY.toString(),
            "--normal-class NAME",
            "--alert-classes a,b",
            "--alert-classes none"
        }) {
            assertTrue(msg.contains(part), "'" + part + "' in: " + msg);
        }
    }

    @Test
    void normalClassNamesTheClassThatDoesNotAlert() {
        assertArrayEquals(
                new boolean[] {false, true, true, true},
                AlertRule.choose("m", ACTIVITY, "standing", null).alerting());
        assertArrayEquals(
                new boolean[] {true, false, true},
                AlertRule.choose("m", MACHINE, " imbalance ", null).alerting());
        String msg = error(() -> AlertRule.choose("m", ACTIVITY, "idle", null));
        assertTrue(
                msg.contains("--normal-class 'idle' is not one of the bundle's classes") && msg.contains("walking"),
                msg);
    }

    @Test
    void alertClassesNameTheClassesThatAlertOrNone() {
        assertArrayEquals(
                new boolean[] {false, false, true, true},
                AlertRule.choose("m", ACTIVITY, null, "running, badminton").alerting());
        AlertRule.Choice off = AlertRule.choose("m", ACTIVITY, null, "none");
        assertFalse(off.on());
        assertTrue(off.description().contains("alerts off"), off.description());
        assertTrue(error(() -> AlertRule.choose("m", ACTIVITY, null, "running,jumping"))
                .contains("'jumping'"));
        assertTrue(error(() -> AlertRule.choose("m", ACTIVITY, null, "running,,walking"))
                .contains("empty class name"));
        assertTrue(error(() -> AlertRule.choose("m", ACTIVITY, null, "running,running"))
                .contains("twice"));
        assertTrue(error(() -> AlertRule.choose("m", MACHINE, "normal", "imbalance"))
                .contains("at most one"));
    }

    private static Prediction prediction(int classIndex, float probability) {
        return Prediction.newBuilder()
                .setEventId("s@1")
                .setKey("s")
                .setEventTime(Instant.ofEpochMilli(1))
                .setClassIndex(classIndex)
                .setPredictedClass(ACTIVITY.get(classIndex))
                .setProbability(probability)
                .setExitStage(0)
                .setStagesRun(1)
                .setStageLatencyMicros(List.of(5L))
                .setModelId("m")
                .setModelVersion("v")
                .setThresholdVersion(0L)
                .setLabel(null)
                .setFullDepthClassIndex(null)
                .build();
    }

    @Test
    void alertsOnlyForTheChosenClassesAboveTheProbability() {
        AlertRule rule =
                new AlertRule(AlertRule.choose("m", ACTIVITY, null, "running").alerting(), 0.8);
        List<Alert> out = new ArrayList<>();
        Collector<Alert> collector = new Collector<>() {
            @Override
            public void collect(Alert a) {
                out.add(a);
            }

            @Override
            public void close() {}
        };
        rule.flatMap(prediction(2, 0.9f), collector);
        rule.flatMap(prediction(2, 0.7f), collector);
        rule.flatMap(prediction(1, 0.99f), collector);
        rule.flatMap(prediction(0, 0.99f), collector);
        assertEquals(1, out.size());
        assertEquals("running", out.get(0).getPredictedClass());
    }
}
