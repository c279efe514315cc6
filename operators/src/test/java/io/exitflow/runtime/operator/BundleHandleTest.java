package io.exitflow.runtime.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.runtime.TestBundles;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.manifest.BundleException;
import io.exitflow.runtime.onnx.OrtConfig;
import io.exitflow.runtime.record.InferenceRequest;
import io.exitflow.schemas.ThresholdUpdate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bundle handle a job loads once travels to the operators serialized; an operator opens the files only when they
 * are still the ones the job validated, and refuses a bundle changed on disk in between, naming the file.
 */
class BundleHandleTest {
    @TempDir
    Path tmp;

    @Test
    void theHandleTravelsWithItsManifestAndDigest() throws Exception {
        ModelBundle loaded = ModelBundle.load(TestBundles.tiny());
        ModelBundle shipped = InstantiationUtil.clone(loaded);
        assertNotSame(loaded, shipped);
        assertEquals(loaded.dir(), shipped.dir());
        assertEquals(loaded.manifest().modelId(), shipped.manifest().modelId());
        assertEquals(loaded.manifest().stages(), shipped.manifest().stages());
        assertEquals(64, loaded.digest().length());
        assertEquals(loaded.digest(), shipped.digest());
        shipped.verifyUnchanged();
    }

    @Test
    void anOperatorRefusesABundleChangedBetweenSubmissionAndStart() throws Exception {
        Path dir = TestBundles.copy(TestBundles.tiny(), tmp.resolve("bundle"));
        ModelBundle submitted = InstantiationUtil.clone(ModelBundle.load(dir));
        // after submission, stage 1's graph is replaced by stage 2's (a valid ONNX file, but not the one validated)
        Files.copy(
                dir.resolve(submitted.manifest().stages().get(2).file()),
                dir.resolve(submitted.manifest().stages().get(1).file()),
                StandardCopyOption.REPLACE_EXISTING);
        CascadeOperator op = new CascadeOperator(submitted, CascadeHarness.settings(4, 1000, 0, 0), OrtConfig.cpu());
        var h = new KeyedTwoInputStreamOperatorTestHarness<>(
                op,
                (KeySelector<InferenceRequest, String>) r -> r.key,
                (KeySelector<ThresholdUpdate, String>) u -> u.getModelId(),
                Types.STRING);
        // refused before any session is opened (the harness is not closed: Flink does not finish a task that failed
        // to open)
        BundleException e = assertThrows(BundleException.class, h::open);
        String file = submitted.manifest().stages().get(1).file();
        assertTrue(
                e.getMessage().contains(file) && e.getMessage().contains("changed since the job loaded"),
                e.getMessage());
    }
}
