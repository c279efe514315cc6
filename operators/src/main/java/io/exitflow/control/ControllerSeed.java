package io.exitflow.control;

import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.manifest.BundleException;
import io.exitflow.runtime.manifest.Calibration;
import io.exitflow.runtime.manifest.Manifest;
import java.io.Serializable;
import java.util.Map;
import org.apache.flink.annotation.Internal;

/**
 * What a {@link ThresholdController} starts from: the model's identity, its calibration samples, per-stage cost
 * estimates (ns per event, replaced by measurements as soon as they arrive) and the thresholds the operators start
 * with. {@link #fromBundle} reads all of it from a model bundle.
 */
@Internal
public record ControllerSeed(
        String modelId,
        String modelVersion,
        CalibrationSet samples,
        double[] stageCostNanos,
        double[] initialThresholds)
        implements Serializable {

    /**
     * The manifest's identity, costs and thresholds and the calibration samples of a loaded bundle (the job's handle:
     * nothing is read again).
     *
     * @param capacity how many calibration samples to keep (an even stride over them when there are more)
     */
    public static ControllerSeed fromBundle(ModelBundle bundle, int capacity) {
        Manifest m = bundle.manifest();
        Calibration c = bundle.calibration();
        int k = m.numStages();
        double[] cost = stageCosts(bundle, m, c);
        double[] t = new double[k];
        if (m.exit() == null || m.exit().thresholds() == null || m.exit().thresholds().length != k) {
            throw new BundleException(
                    bundle.dir().resolve("manifest.json"), "exit.thresholds must have one value per stage (" + k + ")");
        }
        for (int s = 0; s < k; s++) t[s] = m.exit().thresholds()[s];
        return new ControllerSeed(m.modelId(), m.modelVersion(), samplesOf(c, k, capacity), cost, t);
    }

    /**
     * The calibration samples, targets = labels. When there are more than {@code capacity}, an even stride over
     * them is kept (deterministic, and it keeps the class mix).
     */
    public static CalibrationSet samplesOf(Calibration c, int stages, int capacity) {
        int n = c.labels().length;
        CalibrationSet set = new CalibrationSet(stages, capacity);
        int keep = Math.min(n, capacity);
        float[] sc = new float[stages];
        int[] cl = new int[stages];
        for (int j = 0; j < keep; j++) {
            int i = (int) ((long) j * n / keep);
            for (int s = 0; s < stages; s++) {
                sc[s] = Math.min(1f, Math.max(0f, c.stages().get(s).score()[i]));
                cl[s] = c.stages().get(s).pred()[i];
            }
            set.add(sc, cl, c.labels()[i]);
        }
        return set;
    }

    /** calibration.json's cost_us_per_event, else the manifest's cost at batch 64 (or its largest batch), in ns. */
    private static double[] stageCosts(ModelBundle bundle, Manifest m, Calibration c) {
        int k = m.numStages();
        double[] ns = new double[k];
        for (int s = 0; s < k; s++) {
            double us = Double.NaN;
            if (c.costUsPerEvent() != null && c.costUsPerEvent().length == k) us = c.costUsPerEvent()[s];
            Map<String, Double> byBatch = m.stages().get(s).costUsPerEvent();
            if (!(us > 0) && byBatch != null && !byBatch.isEmpty()) {
                us = byBatch.containsKey("64")
                        ? byBatch.get("64")
                        : byBatch.entrySet().stream()
                                .max((a, b) ->
                                        Integer.compare(Integer.parseInt(a.getKey()), Integer.parseInt(b.getKey())))
                                .get()
                                .getValue();
            }
            if (!(us > 0)) {
                throw new BundleException(
                        bundle.dir().resolve("calibration.json"),
                        "no positive cost for stage " + s
                                + ": give cost_us_per_event in calibration.json or the manifest");
            }
            ns[s] = us * 1000.0;
        }
        return ns;
    }
}
