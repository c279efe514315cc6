package io.exitflow.runtime.exit;

import org.apache.flink.annotation.Internal;

/** Numerically stable softmax statistics of one row of logits, without allocating. */
@Internal
public final class Softmax {
    private Softmax() {}

    /** Index of the largest logit (the first one on ties, like numpy's argmax). */
    public static int argmax(float[] logits, int offset, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (logits[offset + i] > logits[offset + best]) {
                best = i;
            }
        }
        return best;
    }

    /** softmax(logits)[index]. */
    public static double probability(float[] logits, int offset, int n, int index) {
        double max = logits[offset + argmax(logits, offset, n)];
        return Math.exp(logits[offset + index] - max) / sumExp(logits, offset, n, max);
    }

    /** Max softmax probability. */
    public static double maxProbability(float[] logits, int offset, int n) {
        return probability(logits, offset, n, argmax(logits, offset, n));
    }

    /** Shannon entropy (natural log) of softmax(logits). */
    public static double entropy(float[] logits, int offset, int n) {
        double max = logits[offset + argmax(logits, offset, n)];
        double z = sumExp(logits, offset, n, max);
        double h = 0;
        for (int i = 0; i < n; i++) {
            double p = Math.exp(logits[offset + i] - max) / z;
            if (p > 0) {
                h -= p * Math.log(p);
            }
        }
        return h;
    }

    /** Top-1 minus top-2 softmax probability. */
    public static double topTwoMargin(float[] logits, int offset, int n) {
        int first = argmax(logits, offset, n);
        int second = -1;
        for (int i = 0; i < n; i++) {
            if (i != first && (second < 0 || logits[offset + i] > logits[offset + second])) {
                second = i;
            }
        }
        double max = logits[offset + first];
        double z = sumExp(logits, offset, n, max);
        return (1.0 - Math.exp(logits[offset + second] - max)) / z;
    }

    private static double sumExp(float[] logits, int offset, int n, double max) {
        double z = 0;
        for (int i = 0; i < n; i++) {
            z += Math.exp(logits[offset + i] - max);
        }
        return z;
    }
}
