package io.exitflow.runtime.operator;

import java.io.Serializable;
import org.apache.flink.annotation.Internal;

/**
 * What one early-exit operator runs and how it batches.
 *
 * @param firstStage first stage this operator runs (0 for the cascade)
 * @param lastStage last stage it runs (K-1 for the cascade); survivors of a split stage go downstream
 * @param exitsEnabled false for the full-depth baseline: every event runs every stage
 * @param maxBatchSize events per ONNX call; a stage runs as soon as its batch is full (1 = row at a time)
 * @param maxWaitMillis processing time the oldest event may wait in a stage's batch before it runs part-full
 * @param fullDepthSampleRate share of events that run every stage even when they exit early (for the controller)
 * @param maxSamplesPerInterval bound on StageStats.samples per interval
 * @param statsIntervalMillis how often StageStats are emitted
 * @param fullGraph with exits off over every stage: run the bundle's whole-model graph (one ONNX call per batch)
 *     when the bundle has one, instead of the stages one after another
 */
@Internal
public record CascadeSettings(
        int firstStage,
        int lastStage,
        boolean exitsEnabled,
        int maxBatchSize,
        long maxWaitMillis,
        double fullDepthSampleRate,
        int maxSamplesPerInterval,
        long statsIntervalMillis,
        boolean fullGraph)
        implements Serializable {

    public CascadeSettings {
        if (firstStage < 0 || lastStage < firstStage) {
            throw new IllegalArgumentException("stage range [" + firstStage + ", " + lastStage + "] is empty");
        }
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("maxBatchSize must be >= 1, got " + maxBatchSize);
        }
        if (maxWaitMillis < 0) {
            throw new IllegalArgumentException("maxWait must be >= 0, got " + maxWaitMillis + " ms");
        }
        if (!(fullDepthSampleRate >= 0 && fullDepthSampleRate <= 1)) {
            throw new IllegalArgumentException("fullDepthSampleRate must be in [0, 1], got " + fullDepthSampleRate);
        }
        if (maxSamplesPerInterval < 0) {
            throw new IllegalArgumentException("maxSamplesPerInterval must be >= 0, got " + maxSamplesPerInterval);
        }
        if (statsIntervalMillis < 1) {
            throw new IllegalArgumentException("statsInterval must be >= 1 ms, got " + statsIntervalMillis);
        }
    }

    /**
     * Whether this operator runs {@code m}'s full graph: exits off, every stage of the model, {@link #fullGraph}
     * set, and the bundle has one.
     */
    public boolean runsFullGraph(io.exitflow.runtime.manifest.Manifest m) {
        return fullGraph && !exitsEnabled && firstStage == 0 && lastStage == m.numStages() - 1 && m.fullGraph() != null;
    }

    /** Number of stages this operator runs. */
    public int stageCount() {
        return lastStage - firstStage + 1;
    }
}
