package io.exitflow.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * {@code --name value} arguments of a benchmark's {@code main}: only the names it declares, each with a value;
 * {@code --help} prints the usage line. A mistake fails with the usage instead of an index error.
 */
public final class BenchArgs {
    private final String usage;
    private final Map<String, String> values = new LinkedHashMap<>();

    private BenchArgs(String usage) {
        this.usage = usage;
    }

    /**
     * Parses {@code args} against {@code names} (without the leading dashes).
     *
     * @return empty when {@code --help} was asked for (the usage is printed then)
     * @throws IllegalArgumentException for an unknown name or a missing value, with the usage
     */
    public static Optional<BenchArgs> parse(String[] args, String usage, String... names) {
        List<String> known = Arrays.asList(names);
        BenchArgs parsed = new BenchArgs(usage);
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                System.out.println("usage: " + usage);
                return Optional.empty();
            }
            String name = a.startsWith("--") ? a.substring(2) : null;
            if (name == null || !known.contains(name)) {
                throw new IllegalArgumentException("unknown argument " + a + "\nusage: " + usage);
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value\nusage: " + usage);
            }
            parsed.values.put(name, args[++i]);
        }
        return Optional.of(parsed);
    }

    /** The value of {@code --name}, or {@code fallback} when not given. */
    public String get(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    /** The value of {@code --name} converted, or {@code fallback}; a value that does not convert fails with the usage. */
    public <T> T get(String name, T fallback, Function<String, T> convert) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return convert.apply(v);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--" + name + " " + v + ": " + e.getMessage() + "\nusage: " + usage, e);
        }
    }
}
