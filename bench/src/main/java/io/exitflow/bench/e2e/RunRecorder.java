package io.exitflow.bench.e2e;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.util.Arrays;

/**
 * What one benchmark run saw at its sink, in this JVM (the MiniCluster runs in process), after the warm-up: correct
 * answers, exits per stage, in-operator latency, and wall and process CPU time from the warm-up mark to the last event.
 */
final class RunRecorder {
    private static final OperatingSystemMXBean OS =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private static RunRecorder current;

    final long expected;
    final long warmup;
    final long[] exits;
    final double[] latencyMs;
    long arrivals;
    long correct;
    long labelled;
    long markNanos;
    long markCpu;
    long endNanos;
    long endCpu;
    /** Measured predictions decided by thresholds other than the newest version seen. */
    long otherThresholdVersions;

    private long maxThresholdVersion;

    private RunRecorder(long expected, long warmup, int stages) {
        this.expected = expected;
        this.warmup = warmup;
        this.exits = new long[stages];
        this.latencyMs = new double[(int) (expected - warmup)];
    }

    static synchronized RunRecorder start(long expected, long warmup, int stages) {
        current = new RunRecorder(expected, warmup, stages);
        return current;
    }

    static synchronized RunRecorder current() {
        return current;
    }

    /** One prediction: its exit stage, whether it was right, and its in-operator latency. */
    synchronized void record(
            int exitStage, boolean labelledEvent, boolean right, double latencyMillis, long thresholdVersion) {
        arrivals++;
        if (arrivals == warmup) {
            markNanos = System.nanoTime();
            markCpu = OS.getProcessCpuTime();
        }
        if (arrivals > warmup) {
            latencyMs[(int) (arrivals - warmup - 1)] = latencyMillis;
            exits[Math.min(exits.length - 1, Math.max(0, exitStage))]++;
            if (thresholdVersion < maxThresholdVersion) {
                otherThresholdVersions++;
            }
            if (labelledEvent) {
                labelled++;
                if (right) {
                    correct++;
                }
            }
        }
        if (thresholdVersion > maxThresholdVersion) {
            if (arrivals > warmup) {
                otherThresholdVersions += arrivals - warmup - 1; // everything measured before it was on older ones
            }
            maxThresholdVersion = thresholdVersion;
        }
        if (arrivals == expected) {
            endNanos = System.nanoTime();
            endCpu = OS.getProcessCpuTime();
        }
    }

    long measured() {
        return arrivals - warmup;
    }

    double seconds() {
        return (endNanos - markNanos) / 1e9;
    }

    double eventsPerSecond() {
        return measured() / seconds();
    }

    double cpuMicrosPerEvent() {
        return (endCpu - markCpu) / 1e3 / measured();
    }

    double accuracy() {
        return labelled == 0 ? Double.NaN : (double) correct / labelled;
    }

    double latencyQuantile(double q) {
        int n = (int) measured();
        double[] sorted = Arrays.copyOf(latencyMs, n);
        Arrays.sort(sorted);
        return sorted[Math.max(0, Math.min(n - 1, (int) Math.ceil(q * n) - 1))];
    }
}
