package io.exitflow.jobs.anomaly;

import io.exitflow.schemas.Alert;
import io.exitflow.schemas.Prediction;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.util.Collector;

/**
 * An alert for every window classified as one of the alert classes with at least the configured probability. Which
 * classes alert is a setting checked against the bundle's classes at start ({@link #choose}).
 */
public final class AlertRule implements FlatMapFunction<Prediction, Alert> {
    private static final long serialVersionUID = 1L;

    /** The class name that, when the bundle has it, is the normal class by default. */
    public static final String DEFAULT_NORMAL = "normal";
    /** {@code --alert-classes none}: no alerts (predictions only). */
    public static final String NONE = "none";

    private final boolean[] alerting;
    private final float minProbability;

    /**
     * @param alerting by class index, whether a prediction of that class raises an alert
     * @param minProbability least probability of the predicted class to alert on, in [0, 1]
     */
    public AlertRule(boolean[] alerting, double minProbability) {
        if (!(minProbability >= 0 && minProbability <= 1)) {
            throw new IllegalArgumentException("alert-min-probability must be in [0, 1], got " + minProbability);
        }
        this.alerting = alerting.clone();
        this.minProbability = (float) minProbability;
    }

    @Override
    public void flatMap(Prediction p, Collector<Alert> out) {
        int c = p.getClassIndex();
        if (c >= 0 && c < alerting.length && alerting[c] && p.getProbability() >= minProbability) {
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

    /**
     * Which classes alert.
     *
     * @param alerting by class index; null when alerts are off
     * @param description what was chosen and why, for the job's start-up log
     */
    public record Choice(boolean[] alerting, String description) {
        /** Whether any alert can be raised. */
        public boolean on() {
            return alerting != null;
        }
    }

    /**
     * The alert classes from the settings, checked against the bundle's classes.
     * <ul>
     *   <li>{@code --normal-class NAME}: every class but NAME alerts;</li>
     *   <li>{@code --alert-classes a,b}: exactly these alert; {@code --alert-classes none}: alerts are off;</li>
     *   <li>neither: every class but {@value #DEFAULT_NORMAL} when the bundle has that class; otherwise the job
     *   refuses to start and asks for one of the above (a job that raised no alert because no class has the
     *   expected name would fail silently).</li>
     * </ul>
     *
     * @param modelId the bundle's model id (for messages)
     * @param classes the bundle's classes, in index order
     * @param normalClass {@code --normal-class}, or null
     * @param alertClasses {@code --alert-classes}, or null
     * @throws IllegalArgumentException naming the setting and the bundle's classes when the choice is not valid
     */
    public static Choice choose(String modelId, List<String> classes, String normalClass, String alertClasses) {
        String known = " (bundle " + modelId + " has classes " + classes + ")";
        if (normalClass != null && alertClasses != null) {
            throw new IllegalArgumentException(
                    "give at most one of --normal-class and --alert-classes, got both" + known);
        }
        if (normalClass != null) {
            String name = normalClass.trim();
            int normal = classes.indexOf(name);
            if (normal < 0) {
                throw new IllegalArgumentException(
                        "--normal-class '" + name + "' is not one of the bundle's classes" + known);
            }
            return allBut(classes, normal, "--normal-class " + name);
        }
        if (alertClasses != null) {
            String list = alertClasses.trim();
            if (list.toLowerCase(Locale.ROOT).equals(NONE)) {
                return new Choice(
                        null,
                        "alerts off (--alert-classes none): predictions only, nothing goes to the " + "alert topic");
            }
            Set<String> names = new LinkedHashSet<>();
            for (String part : list.split(",", -1)) {
                String name = part.trim();
                if (name.isEmpty()) {
                    throw new IllegalArgumentException("--alert-classes '" + alertClasses + "' has an empty class "
                            + "name; give class names separated by commas, or none" + known);
                }
                if (!classes.contains(name)) {
                    throw new IllegalArgumentException(
                            "--alert-classes: '" + name + "' is not one of the bundle's " + "classes" + known);
                }
                if (!names.add(name)) {
                    throw new IllegalArgumentException("--alert-classes names '" + name + "' twice" + known);
                }
            }
            boolean[] alerting = new boolean[classes.size()];
            for (String name : names) {
                alerting[classes.indexOf(name)] = true;
            }
            return new Choice(alerting, "alerts for classes " + new ArrayList<>(names) + " (--alert-classes)");
        }
        int normal = classes.indexOf(DEFAULT_NORMAL);
        if (normal < 0) {
            throw new IllegalArgumentException("bundle " + modelId + " has no class named '" + DEFAULT_NORMAL
                    + "' (its classes: " + classes + "), so the anomaly job cannot tell which predictions are "
                    + "alerts. Say which: --normal-class NAME (alerts for every other class), --alert-classes a,b "
                    + "(alerts for these classes) or --alert-classes none (predictions only, no alerts).");
        }
        return allBut(classes, normal, "the bundle's class '" + DEFAULT_NORMAL + "' is normal");
    }

    private static Choice allBut(List<String> classes, int normal, String why) {
        boolean[] alerting = new boolean[classes.size()];
        List<String> names = new ArrayList<>();
        for (int c = 0; c < classes.size(); c++) {
            alerting[c] = c != normal;
            if (c != normal) {
                names.add(classes.get(c));
            }
        }
        return new Choice(alerting, "alerts for classes " + names + " (" + why + ")");
    }
}
