package io.exitflow.bench.kernels;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * CPU time of the benchmark thread, as JMH secondary metrics ({@code cpuNanos}, {@code calls} per iteration).
 * With one intra-op thread ONNX Runtime computes on the calling thread, so this counts ORT and Java work alike and,
 * unlike wall time, does not grow when a shared machine deschedules the thread.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class CpuTime {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    public long cpuNanos;
    public long calls;

    @Setup(Level.Iteration)
    public void reset() {
        cpuNanos = 0;
        calls = 0;
    }

    static long now() {
        return THREADS.getCurrentThreadCpuTime();
    }

    void add(long start) {
        cpuNanos += now() - start;
        calls++;
    }
}
