package io.exitflow.runtime.onnx;

import ai.onnxruntime.OrtSession;
import org.apache.flink.annotation.Internal;

/** A counted reference to a shared session; closing the last lease closes the session. */
@Internal
public final class SessionLease implements AutoCloseable {
    private final SharedSessions.Entry entry;
    private boolean closed;

    SessionLease(SharedSessions.Entry entry) {
        this.entry = entry;
    }

    public OrtSession session() {
        if (closed) {
            throw new IllegalStateException("session lease already closed");
        }
        return entry.session;
    }

    /** True when the session really runs on a CUDA device (false after a fallback to CPU). */
    public boolean onGpu() {
        return entry.onGpu;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            SharedSessions.release(entry);
        }
    }
}
