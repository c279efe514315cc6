package io.exitflow.runtime.bundle;

import io.exitflow.runtime.manifest.BundleException;
import io.exitflow.runtime.manifest.Calibration;
import io.exitflow.runtime.manifest.Fixtures;
import io.exitflow.runtime.manifest.Manifest;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.annotation.PublicEvolving;

/**
 * A validated model bundle (docs/bundle-contract.md): the handle a job loads once when it is built and passes to
 * everything that serves or tunes the model. It is serializable and carries the bundle directory (absolute), the
 * manifest as validated and a content digest (SHA-256) of every file the runtime reads: manifest.json,
 * calibration.json, each stage's ONNX file and the full graph's. Operators open the files on the TaskManager in
 * {@code open()} after {@link #verifyUnchanged()}, so a bundle changed on disk between the job's submission and its
 * start is refused, naming the file.
 *
 * <p>{@link #load} fails with a {@link BundleException} naming the file and the problem.
 */
@PublicEvolving
public final class ModelBundle implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String dir;
    private final Manifest manifest;
    /** SHA-256 (hex) of each file the runtime reads, by its path relative to the bundle, in a fixed order. */
    private final LinkedHashMap<String, String> fileDigests;

    private final String digest;

    private ModelBundle(Path dir, Manifest manifest, LinkedHashMap<String, String> fileDigests) {
        this.dir = dir.toString();
        this.manifest = manifest;
        this.fileDigests = fileDigests;
        this.digest = combined(fileDigests);
    }

    /**
     * Reads and validates the bundle at {@code dir}: the manifest against the contract, each stage graph's tensor
     * names and shapes (one ONNX Runtime session per graph, closed again), calibration.json; then digests its files.
     *
     * @throws BundleException naming the file and what to fix
     */
    public static ModelBundle load(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(abs)) {
            throw new BundleException(abs, "bundle directory does not exist");
        }
        Manifest manifest = Manifest.read(abs.resolve("manifest.json"));
        new OnnxSignatureValidator(abs, manifest).validate();
        Calibration.read(abs.resolve("calibration.json"), manifest.numStages());
        return new ModelBundle(abs, manifest, digests(abs, manifest));
    }

    /** The bundle directory (absolute). */
    public Path dir() {
        return Path.of(dir);
    }

    /** The manifest as validated by {@link #load}. */
    public Manifest manifest() {
        return manifest;
    }

    /** SHA-256 (hex) over the digests of the files the runtime reads (see the class comment), as loaded. */
    public String digest() {
        return digest;
    }

    /**
     * Checks that every file the runtime reads is still the one {@link #load} validated (same SHA-256); call it before
     * opening them on another machine or later.
     *
     * @throws BundleException naming the first file that changed or went missing, and what to do
     */
    public void verifyUnchanged() {
        Path root = dir();
        for (Map.Entry<String, String> e : fileDigests.entrySet()) {
            Path file = root.resolve(e.getKey());
            String now = sha256(file);
            if (!now.equals(e.getValue())) {
                throw new BundleException(
                        file,
                        "changed since the job loaded the bundle (SHA-256 "
                                + e.getValue().substring(0, 12) + "... when loaded, " + now.substring(0, 12)
                                + "... now): restore the bundle as it was, or submit the job again to serve the new one");
            }
        }
    }

    /** The ONNX file of stage {@code k}. */
    public Path stageFile(int k) {
        return dir().resolve(manifest.stages().get(k).file());
    }

    /** The ONNX file of the whole model as one graph, when the manifest declares {@code full_graph}. */
    public Optional<Path> fullGraphFile() {
        return Optional.ofNullable(manifest.fullGraph()).map(g -> dir().resolve(g.file()));
    }

    /** Reads calibration.json (validation outputs for the budget solver), checking it covers every stage. */
    public Calibration calibration() {
        return Calibration.read(dir().resolve("calibration.json"), manifest.numStages());
    }

    /** Reads fixtures.json (parity fixtures), when the bundle has one. */
    public Fixtures fixtures() {
        return Fixtures.read(dir());
    }

    @Override
    public String toString() {
        return manifest.modelId() + "@" + manifest.modelVersion() + " (" + dir + ", sha-256 " + digest.substring(0, 12)
                + "...)";
    }

    private static LinkedHashMap<String, String> digests(Path dir, Manifest manifest) {
        List<String> files = new ArrayList<>(List.of("manifest.json", "calibration.json"));
        manifest.stages().forEach(s -> files.add(s.file()));
        if (manifest.fullGraph() != null) {
            files.add(manifest.fullGraph().file());
        }
        LinkedHashMap<String, String> d = new LinkedHashMap<>();
        for (String f : files) {
            d.put(f, sha256(dir.resolve(f)));
        }
        return d;
    }

    private static String combined(Map<String, String> fileDigests) {
        MessageDigest md = sha256();
        fileDigests.forEach((f, d) -> md.update((f + "=" + d + "\n").getBytes(StandardCharsets.UTF_8)));
        return HexFormat.of().formatHex(md.digest());
    }

    private static String sha256(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new BundleException(
                    file,
                    "is missing (the bundle changed since the job loaded it, or is not on "
                            + "this machine at the same path)");
        }
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        } catch (IOException e) {
            throw new BundleException(file, "cannot be read: " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }
}
