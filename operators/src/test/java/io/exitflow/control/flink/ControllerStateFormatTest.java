package io.exitflow.control.flink;

import static io.exitflow.control.flink.HarnessedPlant.drive;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.control.Budget;
import io.exitflow.control.BudgetSolver;
import io.exitflow.control.ControllerConfig;
import io.exitflow.control.ControllerSeed;
import io.exitflow.control.SyntheticData;
import io.exitflow.control.sim.RateProfile;
import io.exitflow.control.sim.SimulatedPlant;
import io.exitflow.schemas.StageStats;
import io.exitflow.schemas.ThresholdUpdate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;
import org.junit.jupiter.api.Test;

/**
 * The controller's checkpointed state across formats. {@code controller-state/java-serialised-v0.snapshot} is the
 * operator state the function wrote before state format 1 (Java-serialised slots), taken with
 * {@link OperatorSnapshotUtil} from a harness at commit 2affcc1 after 20 intervals of the plant below at 35,000
 * events/s; {@code .expected} holds the version and thresholds it had published.
 */
class ControllerStateFormatTest {
    private static final Path DIR = Path.of("src/test/resources/controller-state");

    private final ControllerSeed seed = new ControllerSeed(
            "synthetic",
            "test",
            SyntheticData.calibration(2000, 4, 5, 12),
            new double[] {20_000, 20_000, 20_000, 20_000},
            BudgetSolver.fullDepthThresholds(4));

    private KeyedOneInputStreamOperatorTestHarness<String, StageStats, ThresholdUpdate> harness() throws Exception {
        ThresholdControllerFunction f = new ThresholdControllerFunction(
                seed, Budget.builder().targetRate(5_000).build(), ControllerConfig.defaults(), 1000, 4096, null);
        return new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(f), StageStats::getModelId, Types.STRING);
    }

    private static SimulatedPlant plant() {
        return SimulatedPlant.builder()
                .population(SyntheticData.calibration(4000, 4, 5, 11))
                .stageCostNanos(new double[] {10_000, 25_000, 25_000, 25_000})
                .overheadNanos(8_000)
                .workers(2)
                .rate(RateProfile.constant(35_000))
                .seed(3)
                .build();
    }

    @Test
    void aSnapshotOfTheJavaSerialisedFormatRestoresAndIsWrittenBackInTheCurrentOne() throws Exception {
        Properties expected = new Properties();
        try (var r = Files.newBufferedReader(DIR.resolve("java-serialised-v0.expected"))) {
            expected.load(r);
        }
        long version = Long.parseLong(expected.getProperty("version"));
        OperatorSubtaskState legacy = OperatorSnapshotUtil.readStateHandle(
                DIR.resolve("java-serialised-v0.snapshot").toString());

        var h = harness();
        h.initializeState(legacy);
        h.open();
        // a restored controller plans on from its thresholds and version: at the same rate it publishes nothing new
        // in its first interval (a fresh one would publish its initial plan, version 1... at once)
        SimulatedPlant plant = plant();
        drive(h, plant, 20, 21);
        String trace = h.getSideOutput(ThresholdControllerFunction.TRACE).peek().getValue();
        assertFalse(trace.contains("initial plan"), "a restored controller, not a fresh one: " + trace);
        if (trace.contains("\"published\":true")) {
            assertTrue(version(trace) > version, "versions go on from the restored " + version + ": " + trace);
        } else {
            assertEquals(version, version(trace), "the restored version is in force: " + trace);
            assertEquals(expected.getProperty("thresholds"), thresholds(trace), "the restored thresholds are in force");
        }

        // the next checkpoint is in the current format, and restores again
        OperatorSubtaskState current = h.snapshot(2, 21_000);
        h.close();
        var again = harness();
        again.initializeState(current);
        again.open();
        List<ThresholdUpdate> later = drive(again, plant, 21, 23);
        assertTrue(later.stream().allMatch(u -> u.getUpdateVersion() > version), later.toString());
        String trace2 =
                again.getSideOutput(ThresholdControllerFunction.TRACE).peek().getValue();
        assertTrue(version(trace2) >= version, "not back to the bundle's defaults: " + trace2);
        again.close();
    }

    @Test
    void theCurrentFormatCarriesTheWholeLearnedState() throws Exception {
        var h = harness();
        h.open();
        SimulatedPlant plant = plant();
        drive(h, plant, 0, 12);
        OperatorSubtaskState snap = h.snapshot(1, 12_000);
        String before = h.getSideOutput(ThresholdControllerFunction.TRACE).stream()
                .reduce((a, b) -> b)
                .orElseThrow()
                .getValue();
        h.close();
        var restored = harness();
        restored.initializeState(snap);
        restored.open();
        drive(restored, plant, 12, 13);
        String after =
                restored.getSideOutput(ThresholdControllerFunction.TRACE).peek().getValue();
        if (after.contains("\"published\":true")) {
            assertTrue(version(after) > version(before), after);
        } else { // thresholds in force and their version survive the restore exactly
            assertEquals(thresholds(before), thresholds(after));
            assertEquals(version(before), version(after));
        }
        restored.close();
    }

    private static long version(String trace) {
        int i = trace.indexOf("\"version\":") + "\"version\":".length();
        return Long.parseLong(trace.substring(i, trace.indexOf(',', i)));
    }

    /** The trace's thresholds as published (floats), formatted as {@code List<Float>.toString()}. */
    private static String thresholds(String trace) {
        int i = trace.indexOf("\"thresholds\":[") + "\"thresholds\":[".length();
        List<Float> v = new ArrayList<>();
        for (String x : trace.substring(i, trace.indexOf(']', i)).split(",")) v.add((float) Double.parseDouble(x));
        return v.toString();
    }
}
