package io.exitflow.jobs.common;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.description.TextElement;

/**
 * The settings of one job run: {@link JobOptions} read from the command line over Flink's configuration.
 * Unknown arguments and malformed values fail at start, naming the setting.
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
     * config.yaml).
     *
     * @throws IllegalArgumentException for an unknown argument or a missing value
     */
    public static JobConfig parse(String[] args, ReadableConfig flinkConfig) {
        Map<String, ConfigOption<?>> byArg = new HashMap<>();
        for (ConfigOption<?> o : JobOptions.all()) {
            byArg.put(JobOptions.argName(o), o);
        }
        Configuration c = new Configuration();
        for (ConfigOption<?> o : JobOptions.all()) {
            copy(flinkConfig, c, o);
        }
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + a + "'; settings are --name value");
            }
            String name = a.substring(2);
            ConfigOption<?> o = byArg.get(name);
            if (o == null) {
                throw new IllegalArgumentException("unknown setting --" + name + "; known: "
                        + byArg.keySet().stream().sorted().map(n -> "--" + n).collect(Collectors.joining(" ")));
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("--" + name + " needs a value");
            }
            c.setString(o.key(), args[++i]);
        }
        JobConfig jc = new JobConfig(c);
        for (ConfigOption<?> o : JobOptions.all()) {
            jc.validateType(o);
        }
        return jc;
    }

    /** A config from settings given in code (tests, the demo, the benchmark): option to value. */
    public static JobConfig of(Map<ConfigOption<?>, Object> settings) {
        Configuration c = new Configuration();
        settings.forEach((o, v) -> c.setString(o.key(), String.valueOf(v)));
        JobConfig jc = new JobConfig(c);
        for (ConfigOption<?> o : settings.keySet()) {
            jc.validateType(o);
        }
        return jc;
    }

    private static <T> void copy(ReadableConfig from, Configuration to, ConfigOption<T> o) {
        from.getOptional(o).ifPresent(v -> to.set(o, v));
    }

    private void validateType(ConfigOption<?> o) {
        try {
            config.getOptional(o);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--" + JobOptions.argName(o) + ": " + e.getMessage(), e);
        }
    }

    /** The value, or the option's default (null when it has none). */
    public <T> T get(ConfigOption<T> o) {
        return config.get(o);
    }

    /** The value, or {@code fallback} when neither given nor defaulted. */
    public <T> T get(ConfigOption<T> o, T fallback) {
        return config.getOptional(o).orElse(o.hasDefaultValue() ? o.defaultValue() : fallback);
    }

    /** The value if given (or defaulted). */
    public <T> Optional<T> optional(ConfigOption<T> o) {
        Optional<T> v = config.getOptional(o);
        return v.isPresent() || !o.hasDefaultValue() ? v : Optional.of(o.defaultValue());
    }

    /**
     * The value of a setting the job cannot run without.
     *
     * @throws IllegalArgumentException naming the setting when it is missing
     */
    public <T> T require(ConfigOption<T> o) {
        return config.getOptional(o).orElseThrow(() -> new IllegalArgumentException(
                "missing --" + JobOptions.argName(o) + " (" + describe(o) + ")"));
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
        StringBuilder sb = new StringBuilder("settings (--name value, or exitflow.<name> in Flink's config.yaml):\n");
        for (ConfigOption<?> o : JobOptions.all()) {
            sb.append(String.format("  --%-26s %s%n", JobOptions.argName(o),
                    (o.hasDefaultValue() ? "[default " + o.defaultValue() + "] " : "") + describe(o)));
        }
        return sb.toString();
    }

    private static String describe(ConfigOption<?> o) {
        return o.description().getBlocks().stream()
                .map(b -> b instanceof TextElement t ? t.getFormat() : b.toString())
                .collect(Collectors.joining(" "));
    }
}
