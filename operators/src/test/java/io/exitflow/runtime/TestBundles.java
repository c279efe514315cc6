package io.exitflow.runtime;

import io.exitflow.runtime.api.InferenceRequest;
import io.exitflow.runtime.bundle.Fixtures;
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
            return Path.of(TestBundles.class.getResource("/bundles/tiny-mlp/manifest.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The tiny bundle plus every models/<id>/ bundle of the repository that has fixtures. */
    public static List<Path> withFixtures() {
        List<Path> all = new ArrayList<>();
        all.add(tiny());
        Path models = repoRoot().resolve("models");
        if (Files.isDirectory(models)) {
            try (Stream<Path> dirs = Files.list(models)) {
                dirs.filter(d -> Files.isRegularFile(d.resolve("manifest.json")) && Files.isRegularFile(d.resolve("fixtures.json")))
                        .sorted()
                        .forEach(all::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
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
