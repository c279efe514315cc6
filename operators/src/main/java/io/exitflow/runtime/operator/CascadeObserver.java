package io.exitflow.runtime.operator;

import org.apache.flink.annotation.PublicEvolving;

/** Hooks for metrics: what a {@link BatchingCascade} did. Stage indexes are global (0..K-1). */
@PublicEvolving
public interface CascadeObserver {
    /** A stage ran a batch of {@code size} events in {@code nanos} of ONNX Runtime time. */
    void batchRun(int stage, int size, long nanos);

    /** An event took the exit of {@code stage} (a sampled event runs on, but counts here). */
    void exited(int stage);

    /** An event's answer left the operator after {@code latencyMicros} in its stages (queueing plus compute). */
    void answered(long latencyMicros);

    /** Does nothing (benchmarks, tools). */
    CascadeObserver NONE = new CascadeObserver() {
        @Override
        public void batchRun(int stage, int size, long nanos) {}

        @Override
        public void exited(int stage) {}

        @Override
        public void answered(long latencyMicros) {}
    };
}
