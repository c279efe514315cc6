package io.exitflow.jobs.anomaly;

import io.exitflow.schemas.Alert;
import io.exitflow.schemas.Prediction;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.util.Collector;

/** An alert for every window classified as a non-normal class with at least the configured probability. */
public final class AlertRule implements FlatMapFunction<Prediction, Alert> {
    private static final long serialVersionUID = 1L;

    private final int normalClass;
    private final float minProbability;

    /**
     * @param normalClass index of the normal class in the model's classes
     * @param minProbability least probability of the predicted class to alert on, in [0, 1]
     */
    public AlertRule(int normalClass, double minProbability) {
        if (!(minProbability >= 0 && minProbability <= 1)) {
            throw new IllegalArgumentException("alert-min-probability must be in [0, 1], got " + minProbability);
        }
        this.normalClass = normalClass;
        this.minProbability = (float) minProbability;
    }

    @Override
    public void flatMap(Prediction p, Collector<Alert> out) {
        if (p.getClassIndex() != normalClass && p.getProbability() >= minProbability) {
            out.collect(Alert.newBuilder()
                    .setSensorId(p.getKey())
                    .setWindowEnd(p.getEventTime())
                    .setPredictedClass(p.getPredictedClass())
                    .setProbability(p.getProbability())
                    .setExitStage(p.getExitStage())
                    .setModelId(p.getModelId())
                    .setModelVersion(p.getModelVersion())
                    .build());
        }
    }
}
