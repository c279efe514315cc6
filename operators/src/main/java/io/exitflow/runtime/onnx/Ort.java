package io.exitflow.runtime.onnx;

import ai.onnxruntime.OrtEnvironment;
import org.apache.flink.annotation.Internal;

/** The one ONNX Runtime environment of this JVM (ORT allows one per process). */
@Internal
public final class Ort {
    private Ort() {}

    /**
     * Returns the shared environment. ORT 1.29 segfaults here on long command lines unless
     * {@code ORT_DISABLE_TELEMETRY=1} is set in the JVM's environment (shared/notes/stack.md).
     */
    public static OrtEnvironment environment() {
        return OrtEnvironment.getEnvironment();
    }
}
