package io.exitflow.control;

import java.util.SplittableRandom;

/**
 * Deterministic synthetic calibration data for tests: each event has a difficulty; deeper stages are more skilled,
 * so they are right more often, and every stage's exit score rises with its margin (noisily, like a real
 * max-probability score). Full-depth accuracy comes out near 0.9, stage 0 near 0.6.
 */
public final class SyntheticData {
    private SyntheticData() {}

    public static CalibrationSet calibration(int n, int stages, int classes, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        CalibrationSet set = new CalibrationSet(stages, n);
        float[] sc = new float[stages];
        int[] cl = new int[stages];
        for (int i = 0; i < n; i++) {
            double difficulty = Math.pow(r.nextDouble(), 1.3);
            int label = r.nextInt(classes);
            double shared = 0.5 * r.nextGaussian();
            int wrong = (label + 1 + r.nextInt(classes - 1)) % classes;
            for (int s = 0; s < stages; s++) {
                double skill = 0.55 + 0.42 * s / Math.max(1, stages - 1);
                double margin = 6 * (skill - difficulty) + shared + 0.5 * r.nextGaussian();
                cl[s] = margin > 0 ? label : wrong;
                double score = 1 / (1 + Math.exp(-(0.8 * margin + 0.6 * r.nextGaussian())));
                sc[s] = (float) score;
            }
            set.add(sc, cl, label);
        }
        return set;
    }
}
