package io.exitflow.runtime.operator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.exitflow.control.LogCapture;
import io.exitflow.runtime.TestBundles;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.exit.Thresholds;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.schemas.ThresholdUpdate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Thresholds restored from a savepoint apply only to the model they were set for (issue 14, item 4). */
class ThresholdRestoreTest {
    private static final String MODEL = "tiny-mlp";
    /** An update version as the controller makes them (at least the interval's end in ms). */
    private static final long OLD_VERSION = 1_764_547_200_000L;

    @TempDir
    Path tmp;

    /** A copy of the tiny bundle whose manifest says {@code model_version: version}. */
    private Path tinyAs(String version) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(version));
        try (Stream<Path> files = Files.list(TestBundles.tiny())) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode manifest =
                (ObjectNode) json.readTree(dir.resolve("manifest.json").toFile());
        manifest.put("model_version", version);
        json.writerWithDefaultPrettyPrinter()
                .writeValue(dir.resolve("manifest.json").toFile(), manifest);
        return dir;
    }

    private static OperatorSubtaskState snapshotWithThresholds(Path bundle, String version, List<Float> thresholds)
            throws Exception {
        try (CascadeHarness c =
                new CascadeHarness(bundle.toString(), CascadeHarness.settings(64, 1_000_000, 0, 0), null)) {
            c.control(CascadeHarness.update(MODEL, version, OLD_VERSION, thresholds));
            assertEquals(
                    OLD_VERSION, c.operator.currentThresholds().version(), "the update applies before the snapshot");
            c.h.prepareSnapshotPreBarrier(1);
            return c.h.snapshot(1, 1);
        }
    }

    @Test
    void aNewModelVersionStartsFromItsBundlesDefaultsAndTakesItsControllersUpdates() throws Exception {
        OperatorSubtaskState savepoint = snapshotWithThresholds(tinyAs("A"), "A", List.of(0.97f, 0.95f, 0f));
        Path b = tinyAs("B");
        Manifest manifestB = ModelBundle.load(b).manifest();
        try (LogCapture log = new LogCapture(EarlyExitOperator.class);
                CascadeHarness restored =
                        new CascadeHarness(b.toString(), CascadeHarness.settings(64, 1_000_000, 0, 0), savepoint)) {
            Thresholds t = restored.operator.currentThresholds();
            assertEquals(0, t.version(), "version A's thresholds are dropped: " + t);
            assertArrayEquals(manifestB.exit().thresholds(), t.values(), "the bundle's defaults apply");
            List<String> dropped = log.lines(Level.WARN, "dropped restored thresholds");
            assertEquals(1, dropped.size(), "one log line: " + dropped);
            assertTrue(
                    dropped.get(0).contains(MODEL + "@A v" + OLD_VERSION)
                            && dropped.get(0).contains("serves " + MODEL + "@B"),
                    dropped.get(0));

            // the new version's controller starts its own versions; its first update is valid and applies
            restored.control(CascadeHarness.update(MODEL, "B", 5, List.of(0.5f, 0.4f, 0f)));
            assertEquals(0, restored.operator.rejectedThresholdUpdates(), "a valid update for version B is taken");
            assertEquals(5, restored.operator.currentThresholds().version());
            assertEquals(0.5f, restored.operator.currentThresholds().get(0));
        }
    }

    @Test
    void theSameModelVersionKeepsItsThresholds() throws Exception {
        Path a = tinyAs("A");
        OperatorSubtaskState savepoint = snapshotWithThresholds(a, "A", List.of(0.97f, 0.95f, 0f));
        try (LogCapture log = new LogCapture(EarlyExitOperator.class);
                CascadeHarness restored =
                        new CascadeHarness(a.toString(), CascadeHarness.settings(64, 1_000_000, 0, 0), savepoint)) {
            assertEquals(OLD_VERSION, restored.operator.currentThresholds().version());
            assertEquals(0.97f, restored.operator.currentThresholds().get(0));
            assertTrue(log.lines(Level.WARN, "dropped restored thresholds").isEmpty());
        }
    }

    @Test
    void restoredThresholdsOfAnotherModelOrStageCountAreDroppedAndTheNewestFittingOneWins() {
        Manifest served = ModelBundle.load(TestBundles.tiny()).manifest(); // tiny-mlp@test-1, 3 stages
        String version = served.modelVersion();
        ThresholdUpdate twoStages = CascadeHarness.update(MODEL, version, 9, List.of(0.9f, 0f));
        ThresholdUpdate otherModel = CascadeHarness.update("other-mlp", version, 8, List.of(0.9f, 0.9f, 0f));
        ThresholdUpdate fits = CascadeHarness.update(MODEL, version, 3, List.of(0.8f, 0.7f, 0f));
        ThresholdUpdate olderFit = CascadeHarness.update(MODEL, version, 2, List.of(0.6f, 0.6f, 0f));
        // union state: every subtask stored the same entries, so each comes several times
        Thresholds t = EarlyExitOperator.restoredThresholds(
                List.of(twoStages, otherModel, fits, olderFit, twoStages, otherModel, fits, olderFit), served, "op");
        assertEquals(3, t.version(), "the newest restored thresholds of the served model and shape: " + t);
        assertEquals(0.8f, t.get(0));

        Thresholds none = EarlyExitOperator.restoredThresholds(List.of(twoStages, otherModel), served, "op");
        assertEquals(0, none.version());
        assertArrayEquals(served.exit().thresholds(), none.values(), "nothing fits: the bundle's defaults");
    }
}
