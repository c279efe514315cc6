package io.exitflow.jobs;

import io.exitflow.jobs.anomaly.SensorAnomalyJob;
import io.exitflow.jobs.classification.ClassificationJob;
import io.exitflow.jobs.simulator.StreamSimulator;
import java.util.Arrays;

/**
 * Entry point of the job JAR: {@code anomaly}, {@code classification} or {@code simulate}, then that
 * program's settings ({@code --help} lists them).
 *
 * <pre>flink run exitflow-jobs-0.1.0-SNAPSHOT-job.jar anomaly --bootstrap-servers ... --bundle ...</pre>
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: <anomaly|classification|simulate> [--name value ...] (--help for settings)");
            System.exit(2);
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        switch (args[0]) {
            case "anomaly" -> SensorAnomalyJob.main(rest);
            case "classification" -> ClassificationJob.main(rest);
            case "simulate" -> StreamSimulator.main(rest);
            default -> {
                System.err.println("unknown program '" + args[0] + "'; expected anomaly, classification or simulate");
                System.exit(2);
            }
        }
    }
}
