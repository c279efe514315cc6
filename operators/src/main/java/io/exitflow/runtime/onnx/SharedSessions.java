package io.exitflow.runtime.onnx;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.annotation.Internal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ORT session per stage file and device per JVM, shared by every operator instance (slot) of a TaskManager and
 * reference-counted: {@code OrtSession.run} is thread-safe, and one session per slot would multiply memory and
 * thread pools.
 */
@Internal
public final class SharedSessions {
    private static final Logger LOG = LoggerFactory.getLogger(SharedSessions.class);
    private static final Map<Key, Entry> SESSIONS = new HashMap<>();

    private SharedSessions() {}

    record Key(Path file, int gpuIndex, int intraOpThreads) {}

    static final class Entry {
        final Key key;
        final OrtSession session;
        final boolean onGpu;
        int refs;

        Entry(Key key, OrtSession session, boolean onGpu) {
            this.key = key;
            this.session = session;
            this.onGpu = onGpu;
        }
    }

    /**
     * Leases the session for {@code file}. {@code gpuIndex} is the resolved CUDA device, or empty for CPU; when
     * CUDA is not available in this ONNX Runtime build the session runs on CPU and a warning says so.
     */
    public static SessionLease acquire(Path file, Optional<Integer> gpuIndex, int intraOpThreads) {
        int gpu = gpuIndex.filter(i -> cudaAvailable(file, i)).orElse(-1);
        Key key = new Key(file.toAbsolutePath().normalize(), gpu, intraOpThreads);
        synchronized (SESSIONS) {
            Entry entry = SESSIONS.get(key);
            if (entry == null) {
                entry = open(key);
                SESSIONS.put(key, entry);
            }
            entry.refs++;
            return new SessionLease(entry);
        }
    }

    /** Number of open shared sessions in this JVM (for tests and metrics). */
    public static int openSessions() {
        synchronized (SESSIONS) {
            return SESSIONS.size();
        }
    }

    static void release(Entry entry) {
        synchronized (SESSIONS) {
            if (--entry.refs > 0) {
                return;
            }
            SESSIONS.remove(entry.key);
        }
        try {
            entry.session.close();
        } catch (OrtException e) {
            LOG.warn("Closing ONNX session of {} failed", entry.key.file(), e);
        }
    }

    private static boolean cudaAvailable(Path file, int index) {
        if (ai.onnxruntime.OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
            return true;
        }
        LOG.warn(
                "CUDA device {} requested for {}, but this ONNX Runtime build has no CUDA provider "
                        + "(build with -Pgpu for onnxruntime_gpu): running on CPU",
                index,
                file);
        return false;
    }

    /** Opens on the key's device; a CUDA device that cannot be used falls back to CPU with a warning. */
    private static Entry open(Key key) {
        if (key.gpuIndex() >= 0) {
            try {
                return new Entry(key, open(key, true), true);
            } catch (OrtException e) {
                LOG.warn(
                        "CUDA device {} unusable for {} ({}): running on CPU",
                        key.gpuIndex(),
                        key.file(),
                        e.getMessage());
            }
        }
        try {
            return new Entry(key, open(key, false), false);
        } catch (OrtException e) {
            throw new IllegalStateException("Cannot open ONNX session for " + key.file() + ": " + e.getMessage(), e);
        }
    }

    private static OrtSession open(Key key, boolean cuda) throws OrtException {
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            opts.setIntraOpNumThreads(key.intraOpThreads());
            opts.setInterOpNumThreads(1);
            // Idle ORT threads must not spin: they share cores with Flink's task threads.
            opts.addConfigEntry("session.intra_op.allow_spinning", "0");
            opts.addConfigEntry("session.inter_op.allow_spinning", "0");
            if (cuda) {
                opts.addCUDA(key.gpuIndex());
            }
            OrtSession session = Ort.environment().createSession(key.file().toString(), opts);
            LOG.info(
                    "Opened ONNX session {} on {} ({} intra-op threads)",
                    key.file(),
                    cuda ? "CUDA:" + key.gpuIndex() : "CPU",
                    key.intraOpThreads());
            return session;
        }
    }
}
