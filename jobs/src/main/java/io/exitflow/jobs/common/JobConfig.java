package io.exitflow.jobs.common;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.UnmodifiableConfiguration;

/**
 * The settings of one job run: {@link JobOptions} read from the command line over Flink's configuration
 * ({@link CommandLine}). Unknown arguments and malformed values fail at start, naming the setting and what it
 * accepts. Durations are read as {@link Duration}s (their older {@code --x-ms} spellings are the options' deprecated
 * keys).
 */
public final class JobConfig {
    private final Configuration config;
    /** Checks that need a broker, registered while the job is built, run before it is submitted. */
    private final Map<String, Runnable> startChecks = new LinkedHashMap<>();

    private JobConfig(Configuration config) {
        this.config = config;
    }

    /**
     * Reads {@code --name value} pairs over {@code flinkConfig} (which may hold {@code exitflow.*} keys from
     * config.yaml), through the one {@link CommandLine} parser.
     *
     * @throws IllegalArgumentException for an unknown argument, a missing value or a value of the wrong type, naming
     *     the setting and what it accepts
     */
    public static JobConfig parse(String[] args, ReadableConfig flinkConfig) {
        return new JobConfig(CommandLine.of(JobOptions.all()).parse(args, flinkConfig));
    }

    /**
     * A config from settings given in code (tests, the demo, the benchmark): option to value, where a value may be
     * given as its text ({@code "earliest"}) or typed ({@code StartingOffsets.EARLIEST}, a {@link Duration} for a
     * duration option).
     *
     * @throws IllegalArgumentException for a value of the wrong type, naming the setting and what it accepts
     */
    public static JobConfig of(Map<ConfigOption<?>, Object> settings) {
        Configuration c = new Configuration();
        List<ConfigOption<?>> given = new ArrayList<>();
        settings.forEach((o, v) -> {
            CommandLine.set(c, o, v);
            given.add(o);
        });
        given.forEach(o -> CommandLine.check(c, o));
        return new JobConfig(c);
    }

    /**
     * The settings as Flink's read-only configuration, for code that also serves tools with a command line of their
     * own (the simulator's {@link ReadableConfig}): {@code get} gives the value or the option's default, as here.
     */
    public ReadableConfig readable() {
        return new UnmodifiableConfiguration(config);
    }

    /** The value, or the option's default (null when it has none). */
    public <T> T get(ConfigOption<T> o) {
        return given(o).orElse(o.hasDefaultValue() ? o.defaultValue() : null);
    }

    /** The value, or {@code fallback} when neither given nor defaulted. */
    public <T> T get(ConfigOption<T> o, T fallback) {
        return given(o).orElse(o.hasDefaultValue() ? o.defaultValue() : fallback);
    }

    /** The value if given (or defaulted). */
    public <T> Optional<T> optional(ConfigOption<T> o) {
        Optional<T> v = given(o);
        return v.isPresent() || !o.hasDefaultValue() ? v : Optional.of(o.defaultValue());
    }

    /**
     * The value of a setting the job cannot run without.
     *
     * @throws IllegalArgumentException naming the setting when it is missing
     */
    public <T> T require(ConfigOption<T> o) {
        return given(o).orElseThrow(() -> new IllegalArgumentException(
                "missing --" + JobOptions.argName(o) + " (" + CommandLine.describe(o) + ")"));
    }

    /** The value given (command line, config.yaml or code), without the default. */
    private <T> Optional<T> given(ConfigOption<T> o) {
        return config.getOptional(o);
    }

    /**
     * Registers a check that needs the outside world (a Kafka broker), to run before the job is submitted
     * ({@link #runStartChecks}, called by {@link JobLauncher#prepare}), so that building a job stays offline. A
     * check registered again under the same name replaces the earlier one.
     *
     * @param check throws IllegalArgumentException, naming the setting to change, to refuse the start
     */
    public void addStartCheck(String name, Runnable check) {
        startChecks.put(name, check);
    }

    /**
     * Runs the registered start checks in order.
     *
     * @throws IllegalArgumentException from the first check that refuses the start
     */
    public void runStartChecks() {
        startChecks.values().forEach(Runnable::run);
    }

    /** Text for {@code --help}: every setting with its default and meaning. */
    public static String help() {
        return "settings (--name value, or exitflow.<name> in Flink's config.yaml):\n"
                + CommandLine.of(JobOptions.all()).help();
    }
}
