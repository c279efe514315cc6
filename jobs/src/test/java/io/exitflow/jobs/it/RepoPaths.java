package io.exitflow.jobs.it;

import java.nio.file.Files;
import java.nio.file.Path;

/** Paths in the repository, found from the module directory Maven runs tests in. */
public final class RepoPaths {
    private RepoPaths() {}

    /** {@code relative} under the repository root (the first ancestor holding {@code models/}). */
    public static Path resolve(String relative) {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            if (Files.isDirectory(dir.resolve("models")) && Files.exists(dir.resolve("pom.xml"))) {
                return dir.resolve(relative);
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException(
                "no repository root (with models/) above " + Path.of("").toAbsolutePath());
    }
}
