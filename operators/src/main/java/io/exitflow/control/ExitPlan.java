package io.exitflow.control;

import java.io.Serializable;
import java.util.Arrays;
import org.apache.flink.annotation.Internal;

/**
 * A threshold vector with what it is expected to do on a {@link CalibrationSet}: expected cost per event (in the
 * unit of the stage costs it was evaluated with), expected accuracy (share of samples whose exit class equals their
 * target) and the share of events leaving at each stage.
 */
@Internal
public final class ExitPlan implements Serializable {
    private static final long serialVersionUID = 1L;

    private final double[] thresholds;
    private final double expectedCost;
    private final double expectedAccuracy;
    private final double[] exitShares;

    public ExitPlan(double[] thresholds, double expectedCost, double expectedAccuracy, double[] exitShares) {
        this.thresholds = thresholds.clone();
        this.expectedCost = expectedCost;
        this.expectedAccuracy = expectedAccuracy;
        this.exitShares = exitShares.clone();
    }

    /** One per stage; the last is 0 by convention (the last stage always answers). */
    public double[] thresholds() {
        return thresholds.clone();
    }

    public double threshold(int k) {
        return thresholds[k];
    }

    public double expectedCost() {
        return expectedCost;
    }

    public double expectedAccuracy() {
        return expectedAccuracy;
    }

    public double[] exitShares() {
        return exitShares.clone();
    }

    /** Largest absolute threshold difference to {@code other}, over the stages that can exit early. */
    public double maxThresholdChange(double[] other) {
        double d = 0;
        for (int k = 0; k < thresholds.length - 1; k++) d = Math.max(d, Math.abs(thresholds[k] - other[k]));
        return d;
    }

    @Override
    public String toString() {
        return "ExitPlan{T=" + Arrays.toString(thresholds) + ", cost=" + expectedCost + ", acc=" + expectedAccuracy
                + ", shares=" + Arrays.toString(exitShares) + "}";
    }
}
