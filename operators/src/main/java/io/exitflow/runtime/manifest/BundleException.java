package io.exitflow.runtime.manifest;

import java.nio.file.Path;

/** A model bundle that cannot be served: the message names the file and what to fix. */
public class BundleException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BundleException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public BundleException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
