package io.exitflow.jobs.simulator;

import io.exitflow.jobs.anomaly.SensorAnomalyJob;
import io.exitflow.jobs.common.CommandLine;
import io.exitflow.jobs.common.JobOptions;
import java.time.Duration;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * The stream simulator's settings ({@code --name value}, read by {@link CommandLine}), each with its one default;
 * {@link StreamSimulator.Settings} starts from these, and the embedded demo shares the ones that choose its input.
 */
public final class SimulatorOptions {
    private static final String PREFIX = "exitflow.simulator.";

    private SimulatorOptions() {}

    public static final ConfigOption<String> TOPIC = ConfigOptions.key(PREFIX + "topic")
            .stringType()
            .defaultValue(SensorAnomalyJob.DEFAULT_INPUT_TOPIC)
            .withDescription("Topic the readings go to (the anomaly job's default input topic).");
    public static final ConfigOption<String> SCHEDULE = ConfigOptions.key(PREFIX + "schedule")
            .stringType()
            .defaultValue("60s@2000")
            .withDescription("Rates to send at: duration@readings-per-second, comma-separated (60s@2000,30s@4000); "
                    + "a lone rate runs without end.");
    public static final ConfigOption<Integer> SENSORS = ConfigOptions.key(PREFIX + "sensors")
            .intType()
            .defaultValue(16)
            .withDescription("Generated sensors, sent in turns (not with --readings).");
    public static final ConfigOption<String> SPLIT = ConfigOptions.key(PREFIX + "split")
            .stringType()
            .defaultValue("test")
            .withDescription(
                    "Dataset split the generated sensors come from: train, val or test (not with --readings).");
    public static final ConfigOption<String> READINGS = ConfigOptions.key(PREFIX + "readings")
            .stringType()
            .noDefaultValue()
            .withDescription("Replay an Avro container file of SensorReading (./exitflow convert-readings makes one "
                    + "from CSV or Parquet) instead of the generator's sensors: each recording's times are rebased to "
                    + "--start-time, recordings go in turns.");
    public static final ConfigOption<CommandLine.Switch> LOOP = CommandLine.onOff(
            PREFIX + "loop",
            false,
            "With --readings: repeat the recordings as new passes (sensor id <id>#<pass>) until the schedule ends.");
    public static final ConfigOption<CommandLine.Switch> END_FLUSH = CommandLine.onOff(
            PREFIX + "end-flush",
            false,
            "With --readings: after the last reading, send one reading per partition a minute later so the job "
                    + "releases the recordings' last windows.");
    public static final ConfigOption<Long> SEED = ConfigOptions.key(PREFIX + "seed")
            .longType()
            .defaultValue(SensorFleet.DATASET_SEED)
            .withDescription("Seed of the generated sensors and the bad records (the dataset's by default).");
    public static final ConfigOption<Double> BAD_SHARE = ConfigOptions.key(PREFIX + "bad-share")
            .doubleType()
            .defaultValue(0.01)
            .withDescription("Bad records sent per good one, in [0, 1), of every kind, in addition to the good ones.");
    public static final ConfigOption<Long> MAX_EVENTS = ConfigOptions.key(PREFIX + "max-events")
            .longType()
            .noDefaultValue()
            .withDescription("Stop after this many good readings (default: no limit).");
    public static final ConfigOption<String> START_TIME = ConfigOptions.key(PREFIX + "start-time")
            .stringType()
            .defaultValue("dataset")
            .withDescription("Event times: dataset (the dataset files' times; with --readings the file's earliest "
                    + "time), now (rebased to the wall clock at start) or epoch milliseconds.");
    public static final ConfigOption<Duration> MAX_CATCH_UP = ConfigOptions.key(PREFIX + "max-catch-up")
            .durationType()
            .defaultValue(Duration.ofMillis(20))
            .withDescription("Most of the schedule's time a sender that fell behind (slow start, full producer buffer, "
                    + "loaded machine) sends at once to catch up; readings it is further behind are given up (counted, "
                    + "logged), not sent later above the rate, so the rate holds: over any span T at most rate x (T + "
                    + "this). A large value (1h) sends every reading the schedule asked for, in bursts.");

    /** The simulator's command line, in the order {@code --help} lists it. */
    public static List<ConfigOption<?>> all() {
        return List.of(
                JobOptions.BOOTSTRAP_SERVERS,
                JobOptions.KAFKA_PROPERTIES,
                JobOptions.SCHEMA_REGISTRY_URL,
                JobOptions.SCHEMA_REGISTRY_PROPERTIES,
                JobOptions.SCHEMA_REGISTRY_SUBJECT_STRATEGY,
                JobOptions.SCHEMA_REGISTRY_AUTO_REGISTER,
                TOPIC,
                SCHEDULE,
                SENSORS,
                SPLIT,
                READINGS,
                LOOP,
                END_FLUSH,
                BAD_SHARE,
                MAX_EVENTS,
                START_TIME,
                SEED,
                MAX_CATCH_UP);
    }
}
