package io.exitflow.bench;

import io.exitflow.jobs.common.CommandLine;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;

/**
 * {@code --name value} arguments of a benchmark's {@code main}, read by the project's one parser
 * ({@link CommandLine}): only the settings it declares, each with a value; {@code --help} prints the usage and the
 * settings. A benchmark declares its settings as {@link ConfigOption}s ({@link #parse(String[], String, List)}, typed,
 * with their defaults, or the job's own options where it passes them on) or, for plain text, by name. A mistake fails
 * with the flag, what it accepts and the usage instead of an index error.
 */
public final class BenchArgs {
    private static final String PREFIX = "bench.";
    private final String usage;
    private final Configuration values;

    private BenchArgs(String usage, Configuration values) {
        this.usage = usage;
        this.values = values;
    }

    /**
     * Parses {@code args} against {@code names} (without the leading dashes), each a text setting.
     *
     * @return empty when {@code --help} was asked for (the usage is printed then)
     * @throws IllegalArgumentException for an unknown name or a missing value, with the usage
     */
    public static Optional<BenchArgs> parse(String[] args, String usage, String... names) {
        return parse(
                args,
                usage,
                Arrays.stream(names).<ConfigOption<?>>map(BenchArgs::text).toList());
    }

    /**
     * Parses {@code args} against typed settings.
     *
     * @return empty when {@code --help} was asked for (the usage and the settings are printed then)
     * @throws IllegalArgumentException for an unknown name, a missing value or one of the wrong type, naming the flag
     *     and what it accepts, with the usage
     */
    public static Optional<BenchArgs> parse(String[] args, String usage, List<ConfigOption<?>> options) {
        CommandLine cli = CommandLine.of(options);
        if (CommandLine.wantsHelp(args)) {
            System.out.println("usage: " + usage + "\n" + cli.help());
            return Optional.empty();
        }
        try {
            return Optional.of(new BenchArgs(usage, cli.parse(args, new Configuration())));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + "\nusage: " + usage, e);
        }
    }

    /** A text setting of a benchmark, {@code --name}, without default. */
    public static ConfigOption<String> text(String name) {
        return ConfigOptions.key(PREFIX + name).stringType().noDefaultValue().withDescription("");
    }

    /** The value of a typed setting, or its default (null when it has none). */
    public <T> T get(ConfigOption<T> option) {
        return values.get(option);
    }

    /** The value of a typed setting when it was given, without its default. */
    public <T> Optional<T> optional(ConfigOption<T> option) {
        return values.getOptional(option);
    }

    /**
     * A value that failed a check of the benchmark's own (a range, a form), as an error naming the flag, what it
     * accepts and the usage.
     */
    public IllegalArgumentException invalid(ConfigOption<?> option, String accepts, Object given) {
        return new IllegalArgumentException(
                "--" + CommandLine.name(option) + " must be " + accepts + ", got '" + given + "'\nusage: " + usage);
    }

    /** The value of {@code --name}, or {@code fallback} when not given. */
    public String get(String name, String fallback) {
        return values.getOptional(text(name)).orElse(fallback);
    }

    /** The value of {@code --name} converted, or {@code fallback}; a value that does not convert fails with the usage. */
    public <T> T get(String name, T fallback, Function<String, T> convert) {
        Optional<String> v = values.getOptional(text(name));
        if (v.isEmpty()) {
            return fallback;
        }
        try {
            return convert.apply(v.get());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                    "--" + name + " " + v.get() + ": " + e.getMessage() + "\nusage: " + usage, e);
        }
    }
}
