package io.exitflow.jobs.demo;

import io.exitflow.jobs.common.CommandLine;
import io.exitflow.jobs.common.JobOptions;
import io.exitflow.jobs.simulator.SimulatorOptions;
import java.time.Duration;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * The embedded demo's own settings, each with its one default. The demo's command line is these, the simulator's
 * settings that choose its input ({@link SimulatorOptions}: sensors, readings, loop, bad share, max events) and every
 * job setting ({@link JobOptions}) but those the demo sets itself (bootstrap servers; bundle and parallelism are the
 * demo's own below).
 */
public final class DemoOptions {
    private static final String PREFIX = "exitflow.demo.";

    private DemoOptions() {}

    public static final ConfigOption<Duration> DURATION = ConfigOptions.key(PREFIX + "duration")
            .durationType()
            .noDefaultValue()
            .withDescription("Stop sending after this long (default: when the schedule ends).");
    public static final ConfigOption<String> SCHEDULE = ConfigOptions.key(PREFIX + "schedule")
            .stringType()
            .defaultValue("20s@1500,20s@3000,20s@1500")
            .withDescription("Rates the simulator sends at (duration@readings-per-second, comma-separated): the "
                    + "demo's steps up and back down so the feedback loop shows.");
    public static final ConfigOption<String> BUNDLE = ConfigOptions.key(PREFIX + "bundle")
            .stringType()
            .defaultValue("models/sensor-cnn")
            .withDescription("Model bundle directory the anomaly job serves.");
    public static final ConfigOption<String> SUMMARY_JSON = ConfigOptions.key(PREFIX + "summary-json")
            .stringType()
            .noDefaultValue()
            .withDescription("Also write the summary to this JSON file.");
    public static final ConfigOption<String> TIMESERIES_CSV = ConfigOptions.key(PREFIX + "timeseries-csv")
            .stringType()
            .noDefaultValue()
            .withDescription("Write the report lines as a time series CSV (./exitflow-demo --plot draws it).");
    public static final ConfigOption<Duration> REPORT_EVERY = ConfigOptions.key(PREFIX + "report-every")
            .durationType()
            .defaultValue(Duration.ofSeconds(2))
            .withDescription("How often a progress line is printed.");
    public static final ConfigOption<Integer> PARALLELISM = ConfigOptions.key(PREFIX + "parallelism")
            .intType()
            .defaultValue(2)
            .withDescription("Parallelism of the local Flink cluster's job.");
    public static final ConfigOption<CommandLine.Switch> FEEDBACK = CommandLine.onOff(
            PREFIX + "feedback",
            true,
            "Run the feedback loop with a budget sized for the schedule's first rate (unless --budget-rate or "
                    + "--budget-cost is given); off runs on the bundle's thresholds.");

    public static final ConfigOption<CommandLine.Switch> SCHEMA_REGISTRY = CommandLine.onOff(
            PREFIX + "schema-registry",
            false,
            "Start an embedded schema registry (Apicurio Registry as its own JVM; it needs "
                    + "Java 21+) next to the embedded Kafka: the job (--schema-registry-url), the simulator and the "
                    + "demo's readers all use the registry wire format. Off: plain Avro binary.");

    /** The demo's own settings and the simulator's it shares, in the order {@code --help} lists them. */
    public static List<ConfigOption<?>> own() {
        return List.of(
                DURATION,
                SimulatorOptions.MAX_EVENTS,
                SCHEDULE,
                SimulatorOptions.SENSORS,
                SimulatorOptions.READINGS,
                SimulatorOptions.LOOP,
                SimulatorOptions.BAD_SHARE,
                BUNDLE,
                SUMMARY_JSON,
                TIMESERIES_CSV,
                REPORT_EVERY,
                PARALLELISM,
                FEEDBACK,
                SCHEMA_REGISTRY);
    }

    /** The job settings the demo passes through: all but those it sets itself or has its own of. */
    public static List<ConfigOption<?>> jobSettings() {
        List<String> ownNames = own().stream().map(CommandLine::name).toList();
        return JobOptions.all().stream()
                .filter(o -> o != JobOptions.BOOTSTRAP_SERVERS && !ownNames.contains(CommandLine.name(o)))
                .toList();
    }
}
