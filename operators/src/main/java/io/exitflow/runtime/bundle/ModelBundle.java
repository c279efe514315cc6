package io.exitflow.runtime.bundle;

import io.exitflow.runtime.manifest.BundleException;
import io.exitflow.runtime.manifest.Calibration;
import io.exitflow.runtime.manifest.Fixtures;
import io.exitflow.runtime.manifest.Manifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.apache.flink.annotation.PublicEvolving;

/**
 * A validated model bundle directory (docs/bundle-contract.md): manifest, one ONNX file per stage, calibration.
 * {@link #load} fails with a {@link BundleException} naming the file and the problem.
 */
@PublicEvolving
public final class ModelBundle {
    private final Path dir;
    private final Manifest manifest;

    private ModelBundle(Path dir, Manifest manifest) {
        this.dir = dir;
        this.manifest = manifest;
    }

    /** Reads and validates the bundle at {@code dir}, including each stage graph's tensor names and shapes. */
    public static ModelBundle load(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(abs)) {
            throw new BundleException(abs, "bundle directory does not exist");
        }
        Path manifestFile = abs.resolve("manifest.json");
        Manifest manifest = Manifest.read(manifestFile);
        new OnnxSignatureValidator(abs, manifest).validate();
        ModelBundle bundle = new ModelBundle(abs, manifest);
        bundle.calibration();
        return bundle;
    }

    /** The bundle directory (absolute). */
    public Path dir() {
        return dir;
    }

    public Manifest manifest() {
        return manifest;
    }

    /** The ONNX file of stage {@code k}. */
    public Path stageFile(int k) {
        return dir.resolve(manifest.stages().get(k).file());
    }

    /** The ONNX file of the whole model as one graph, when the manifest declares {@code full_graph}. */
    public Optional<Path> fullGraphFile() {
        return Optional.ofNullable(manifest.fullGraph()).map(g -> dir.resolve(g.file()));
    }

    /** Reads calibration.json (validation outputs for the budget solver), checking it covers every stage. */
    public Calibration calibration() {
        return Calibration.read(dir.resolve("calibration.json"), manifest.numStages());
    }

    /** Reads fixtures.json (parity fixtures), when the bundle has one. */
    public Fixtures fixtures() {
        return Fixtures.read(dir);
    }
}
