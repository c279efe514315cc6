package io.exitflow.runtime.manifest;

import java.nio.file.Path;
import org.apache.flink.annotation.PublicEvolving;

/** A model bundle that cannot be served: the message names the file and what to fix. */
@PublicEvolving
public class BundleException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BundleException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public BundleException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
