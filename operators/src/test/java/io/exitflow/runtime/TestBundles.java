package io.exitflow.runtime;

import io.exitflow.runtime.manifest.Fixtures;
import io.exitflow.runtime.record.InferenceRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The bundles tests run on: the tiny test bundle (make_tiny_bundle.py) and the toolkit's real ones when present. */
public final class TestBundles {
    private TestBundles() {}

    /** operators/src/test/resources/bundles/tiny-mlp, as copied to the test classpath. */
    public static Path tiny() {
        try {
            return Path.of(TestBundles.class
                            .getResource("/bundles/tiny-mlp/manifest.json")
                            .toURI())
                    .getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Environment variable: more bundle folders for the bundle tests, separated by the path separator (':' on Linux),
     * e.g. one a user exported from their own model ({@code EXITFLOW_TEST_BUNDLES=bundles/my-model mvn -pl operators
     * test -Dtest=ParityTest}). A listed folder without manifest.json and fixtures.json fails the tests.
     */
    public static final String EXTRA_BUNDLES_ENV = "EXITFLOW_TEST_BUNDLES";

    /** The tiny bundle, every models/<id>/ bundle of the repository that has fixtures, and EXITFLOW_TEST_BUNDLES. */
    public static List<Path> withFixtures() {
        List<Path> all = new ArrayList<>();
        all.add(tiny());
        Path models = repoRoot().resolve("models");
        if (Files.isDirectory(models)) {
            try (Stream<Path> dirs = Files.list(models)) {
                dirs.filter(d -> Files.isRegularFile(d.resolve("manifest.json"))
                                && Files.isRegularFile(d.resolve("fixtures.json")))
                        .sorted()
                        .forEach(all::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        String extra = System.getenv(EXTRA_BUNDLES_ENV);
        if (extra != null && !extra.isBlank()) {
            for (String dir : extra.split(java.io.File.pathSeparator)) {
                Path d = Path.of(dir.trim()).toAbsolutePath();
                if (!Files.isRegularFile(d.resolve("manifest.json"))
                        || !Files.isRegularFile(d.resolve("fixtures.json"))) {
                    throw new IllegalArgumentException(EXTRA_BUNDLES_ENV + " lists " + d
                            + ", which has no manifest.json and fixtures.json: give bundle folders");
                }
                all.add(d);
            }
        }
        return all;
    }

    /** The repository root (the operators module's parent). */
    public static Path repoRoot() {
        Path p = tiny();
        while (p != null && !Files.isDirectory(p.resolve("operators"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("repository root not found above " + tiny());
        }
        return p;
    }

    /** Fixture input {@code i} as a request with key {@code "k" + (i % 3)}. */
    public static InferenceRequest request(Fixtures f, int i) {
        return new InferenceRequest("e" + i, "k" + (i % 3), 1000L + i, f.inputs()[i].clone(), null);
    }

    /** Copies a bundle directory (to corrupt it in a test). */
    public static Path copy(Path bundle, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(bundle)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return to;
    }
}
