package io.exitflow.runtime.exit;

import org.apache.flink.annotation.Internal;

/**
 * Where a stage's exit score comes from ({@code manifest.exit.score}): the graph's own {@code score} output, or a
 * confidence the runtime computes from the exit's logits (docs/bundle-contract.md).
 */
@Internal
public enum ScoreRule {
    /** The graph's {@code score} output (max-prob of combined logits, JEI gate, EENet q_k). */
    MODEL,
    /** Max softmax probability. */
    MAXPROB,
    /** 1 - H(softmax) / ln(C). */
    ENTROPY,
    /** Top-1 minus top-2 softmax probability. */
    MARGIN;

    /** Parses the manifest value ("model", "maxprob", "entropy", "margin"). */
    public static ScoreRule of(String manifestValue) {
        return valueOf(manifestValue.toUpperCase(java.util.Locale.ROOT));
    }

    /** The score of one row of logits, {@code logits[offset .. offset + numClasses)}. */
    public float fromLogits(float[] logits, int offset, int numClasses) {
        switch (this) {
            case MAXPROB:
                return (float) Softmax.maxProbability(logits, offset, numClasses);
            case ENTROPY:
                return (float) (1.0 - Softmax.entropy(logits, offset, numClasses) / Math.log(numClasses));
            case MARGIN:
                return (float) Softmax.topTwoMargin(logits, offset, numClasses);
            default:
                throw new IllegalStateException("the MODEL score comes from the graph, not from logits");
        }
    }
}
