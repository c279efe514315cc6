package io.exitflow.jobs.cluster;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where the cluster tests find the repository and this module's build output. */
final class ClusterPaths {
    private ClusterPaths() {}

    /** The repository root: the nearest directory above the working dir holding deploy/ and a pom.xml. */
    static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("deploy/local"))
                    && Files.isRegularFile(p.resolve("pom.xml"))
                    && Files.isDirectory(p.resolve("jobs"))) {
                return p;
            }
        }
        throw new IllegalStateException("no repository root (with deploy/local and jobs/) above " + dir);
    }

    /**
     * This module's build directory (target, or the -Dexitflow.target name): the parent of the test classes'
     * folder, where the shade plugin writes the job jar.
     */
    static Path buildDirectory() {
        try {
            Path testClasses = Path.of(ClusterPaths.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI());
            return testClasses.getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
