package io.exitflow.jobs.common;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ConfigurationUtils;
import org.apache.flink.configuration.FallbackKey;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.description.TextElement;
import org.apache.flink.util.TimeUtils;

/**
 * The one command-line parser of ExitFlow: the jobs ({@link JobOptions}), the embedded demo, the stream simulator
 * and the benchmarks declare their settings as Flink {@link ConfigOption}s (type, default, description) and read
 * {@code --name value} arguments through it. The name of an option on the command line is the last dot-separated
 * part of its key ({@code exitflow.max-batch-size} is {@code --max-batch-size}).
 *
 * <p>Every mistake fails with one line that names the flag and what it accepts: {@code --max-batch-size must be an
 * integer, got 'abc'}, {@code --mode must be one of CASCADE, SPLIT, FULL_DEPTH, ROW_AT_A_TIME, got 'x'}. Enum values
 * are accepted in any case; those of an option marked {@link #lowerCase} are shown in lower case ({@code cpu}).
 *
 * <p>A duration option whose deprecated key is its key plus {@code -ms} (see {@link #durationWithMillisSpelling})
 * also takes that older spelling with a whole number of milliseconds, so {@code --checkpoint-interval-ms 200} and
 * {@code --checkpoint-interval 200ms} set the same thing.
 *
 * <p>Every flag takes a value, with two conveniences: an on/off option ({@link #onOff}) named alone, at the end or
 * before the next {@code --flag}, is on ({@code --task-busy} is {@code --task-busy on}); and a list option (Flink's
 * {@code asList()}) may be given again, each value one element ({@code --bundle a --bundle b}). Any other flag given
 * twice takes its last value.
 */
public final class CommandLine {
    private static final String MILLIS_SUFFIX = "-ms";
    /**
     * {@code ConfigOption.getClazz()} and {@code isList()} are package-private in Flink; their values are the
     * option's declared type (of its elements, for a list) and whether it is a list.
     */
    private static final Method GET_CLAZZ;

    private static final Method IS_LIST;

    static {
        try {
            GET_CLAZZ = ConfigOption.class.getDeclaredMethod("getClazz");
            GET_CLAZZ.setAccessible(true);
            IS_LIST = ConfigOption.class.getDeclaredMethod("isList");
            IS_LIST.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new ExceptionInInitializerError("cannot read the type of Flink's ConfigOption: " + e);
        }
    }

    /** Keys of enum options whose values are shown in lower case. */
    private static final java.util.Set<String> LOWER_CASE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** A setting typed {@code on} or {@code off} ({@code --loop on}). */
    public enum Switch {
        ON,
        OFF;

        /** Whether it is on. */
        public boolean on() {
            return this == ON;
        }
    }

    private final List<ConfigOption<?>> options;
    private final Map<String, ConfigOption<?>> byName = new LinkedHashMap<>();
    /** Old millisecond spellings ({@code checkpoint-interval-ms}) of duration options. */
    private final Map<String, ConfigOption<?>> millisSpellings = new LinkedHashMap<>();

    private CommandLine(List<ConfigOption<?>> options) {
        this.options = List.copyOf(options);
        for (ConfigOption<?> o : this.options) {
            if (byName.put(name(o), o) != null) {
                throw new IllegalArgumentException("two options named --" + name(o));
            }
            millisSpelling(o).ifPresent(ms -> millisSpellings.put(ms, o));
        }
    }

    /** A parser for these options (in the order {@link #help} lists them). */
    public static CommandLine of(List<ConfigOption<?>> options) {
        return new CommandLine(options);
    }

    /** The options, in order. */
    public List<ConfigOption<?>> options() {
        return options;
    }

    /** The command-line name of an option, without dashes: the last dot-separated part of its key. */
    public static String name(ConfigOption<?> option) {
        String key = option.key();
        return key.substring(key.lastIndexOf('.') + 1);
    }

    /** Whether {@code args} ask for the usage ({@code --help} or {@code -h} anywhere). */
    public static boolean wantsHelp(String[] args) {
        return Arrays.stream(args).anyMatch(a -> a.equals("--help") || a.equals("-h"));
    }

    /**
     * Reads {@code --name value} pairs over {@code base} (which may hold the options' keys, from Flink's
     * config.yaml, say; the command line wins) and checks every value against its option's type.
     *
     * @throws IllegalArgumentException for an unknown flag, a missing value or a value of the wrong type, naming the
     *     flag and what it accepts
     */
    public Configuration parse(String[] args, ReadableConfig base) {
        Configuration c = new Configuration();
        for (ConfigOption<?> o : options) {
            check(base, o);
            copy(base, c, o);
        }
        Map<ConfigOption<?>, List<String>> lists = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + a + "'; settings are --name value");
            }
            String name = a.substring(2);
            ConfigOption<?> o = byName.get(name);
            ConfigOption<?> millisOf = o == null ? millisSpellings.get(name) : null;
            if (o == null && millisOf == null) {
                throw new IllegalArgumentException("unknown setting --" + name + " (--help lists them); known: "
                        + byName.keySet().stream().map(n -> "--" + n).collect(Collectors.joining(" ")));
            }
            boolean alone = i + 1 >= args.length || args[i + 1].startsWith("--");
            if (alone && o != null && type(o) == Switch.class) {
                c.setString(o.key(), text(Switch.ON)); // a switch named alone is on
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("--" + name + " needs a value");
            }
            String v = args[++i];
            if (millisOf != null) {
                if (!v.trim().matches("\\d+")) {
                    throw new IllegalArgumentException("--" + name + " must be a whole number of milliseconds, got '"
                            + v + "' (or --" + name(millisOf) + " with a unit: 500ms, 5s, 2min)");
                }
                c.setString(millisOf.key(), v.trim() + "ms");
            } else {
                if (type(o) == Duration.class
                        && !v.trim().matches(".*[a-zA-Z]")
                        && !v.trim().equals("0")) {
                    // on the command line a duration names its unit (but 0): --duration 60 is not 60 ms by surprise
                    throw new IllegalArgumentException("--" + name + " must be " + accepted(o) + ", got '" + v + "'");
                }
                if (isList(o)) {
                    // each value of a repeated list flag is one element, whatever it holds (no ';' splitting)
                    lists.computeIfAbsent(o, k -> new ArrayList<>()).add(v);
                    setUnchecked(c, o, elements(o, lists.get(o)));
                } else {
                    c.setString(o.key(), v);
                }
            }
        }
        for (ConfigOption<?> o : options) {
            check(c, o);
        }
        return c;
    }

    /**
     * Stores {@code value} for {@code option} as its text (a {@link Duration} as {@code 200 ms}, an enum by its
     * {@code toString}), as if it came from the command line; {@link #check} then reads it back.
     */
    public static void set(Configuration c, ConfigOption<?> option, Object value) {
        if (isList(option) && value instanceof List<?> l) {
            setUnchecked(
                    c,
                    option,
                    elements(option, l.stream().map(CommandLine::text).toList()));
        } else {
            c.setString(option.key(), text(value));
        }
    }

    /** The text a value has on the command line (a list's elements joined by {@code , }). */
    public static String text(Object value) {
        if (value instanceof Duration d) {
            return TimeUtils.formatWithHighestUnit(d);
        }
        if (value instanceof List<?> l) {
            return l.stream().map(CommandLine::text).collect(Collectors.joining(", "));
        }
        return String.valueOf(value);
    }

    /** The text a value of {@code option} has on the command line and in its help (lower case if so marked). */
    public static String text(ConfigOption<?> option, Object value) {
        String t = text(value);
        return LOWER_CASE.contains(option.key()) ? t.toLowerCase(Locale.ROOT) : t;
    }

    /** An on/off option ({@link Switch}), shown in lower case. */
    public static ConfigOption<Switch> onOff(String key, boolean on, String description) {
        return lowerCase(org.apache.flink.configuration.ConfigOptions.key(key)
                .enumType(Switch.class)
                .defaultValue(on ? Switch.ON : Switch.OFF)
                .withDescription(description));
    }

    /**
     * Marks an enum option whose values users type, and the help shows, in lower case ({@code --device cpu}); any
     * case is accepted all the same.
     */
    public static <E extends Enum<E>> ConfigOption<E> lowerCase(ConfigOption<E> option) {
        LOWER_CASE.add(option.key());
        return option;
    }

    /**
     * Reads {@code option} from {@code c} once to check its value's type.
     *
     * @throws IllegalArgumentException naming the flag, what it accepts and the value given
     */
    public static void check(ReadableConfig c, ConfigOption<?> option) {
        try {
            c.getOptional(option);
        } catch (IllegalArgumentException e) {
            Object given = c.toMap().get(option.key());
            throw new IllegalArgumentException(
                    "--" + name(option) + " must be " + accepted(option) + ", got '" + (given == null ? "?" : given)
                            + "'",
                    e);
        }
    }

    /** What an option accepts, in words: {@code an integer}, {@code one of CASCADE, SPLIT, ...}. */
    public static String accepted(ConfigOption<?> option) {
        Class<?> type = type(option);
        if (type == Integer.class || type == Long.class) {
            return "an integer";
        }
        if (type == Double.class || type == Float.class) {
            return "a number";
        }
        if (type == Boolean.class) {
            return "true or false";
        }
        if (type == Duration.class) {
            return "a duration with its unit, like 500ms, 5s or 2min (or 0)";
        }
        if (type == MemorySize.class) {
            return "a memory size like 512m or 1g";
        }
        if (type.isEnum()) {
            List<String> values = Arrays.stream(type.getEnumConstants())
                    .map(v -> text(option, v))
                    .toList();
            return values.size() == 2 ? values.get(0) + " or " + values.get(1) : "one of " + String.join(", ", values);
        }
        return "a " + type.getSimpleName().toLowerCase(Locale.ROOT);
    }

    /** The declared type of an option's values (of its elements, for a list option). */
    public static Class<?> type(ConfigOption<?> option) {
        try {
            return (Class<?>) GET_CLAZZ.invoke(option);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read the type of option " + option.key(), e);
        }
    }

    /** Whether an option holds a list (Flink's {@code asList()}): its flag may be given again, once per element. */
    public static boolean isList(ConfigOption<?> option) {
        try {
            return (Boolean) IS_LIST.invoke(option);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read whether option " + option.key() + " is a list", e);
        }
    }

    /**
     * Marks {@code option} (a duration) as also spelled {@code --<name>-ms} with whole milliseconds, the spelling
     * older scripts and config.yaml files use: its deprecated key is its key plus {@code -ms}.
     */
    public static ConfigOption<Duration> durationWithMillisSpelling(ConfigOption<Duration> option) {
        return option.withDeprecatedKeys(option.key() + MILLIS_SUFFIX);
    }

    /** The older {@code -ms} name of a duration option, if it has one. */
    public static java.util.Optional<String> millisSpelling(ConfigOption<?> option) {
        if (type(option) != Duration.class) {
            return java.util.Optional.empty();
        }
        for (FallbackKey k : option.fallbackKeys()) {
            if (k.getKey().equals(option.key() + MILLIS_SUFFIX)) {
                return java.util.Optional.of(name(option) + MILLIS_SUFFIX);
            }
        }
        return java.util.Optional.empty();
    }

    /** Usage text: every option with its type, default and description, one per line. */
    public String help() {
        StringBuilder sb = new StringBuilder();
        for (ConfigOption<?> o : options) {
            String names = "--" + name(o)
                    + millisSpelling(o).map(ms -> " (or --" + ms + " MILLIS)").orElse("")
                    + (isList(o) ? " (repeatable)" : "");
            sb.append(String.format(
                    Locale.ROOT,
                    "  %-28s %s%n",
                    names,
                    (o.hasDefaultValue() && !text(o, o.defaultValue()).isEmpty()
                                    ? "[default " + text(o, o.defaultValue()) + "] "
                                    : "")
                            + describe(o)));
        }
        return sb.toString();
    }

    /** An option's description as plain text. */
    public static String describe(ConfigOption<?> o) {
        return o.description().getBlocks().stream()
                .map(b -> b instanceof TextElement t ? t.getFormat() : b.toString())
                .collect(Collectors.joining(" "));
    }

    /** The options of several groups, in order (the demo's own, then the simulator's it shares). */
    @SafeVarargs
    public static List<ConfigOption<?>> concat(List<? extends ConfigOption<?>>... groups) {
        List<ConfigOption<?>> out = new ArrayList<>();
        for (List<? extends ConfigOption<?>> g : groups) {
            out.addAll(g);
        }
        return Collections.unmodifiableList(out);
    }

    private static <T> void copy(ReadableConfig from, Configuration to, ConfigOption<T> o) {
        from.getOptional(o).ifPresent(v -> to.set(o, v));
    }

    /**
     * A list option's elements, each read from its text as the option's element type (Flink keeps a list that is
     * set as a list as it is, without converting its elements when it is read).
     *
     * @throws IllegalArgumentException naming the flag, what it accepts and the element that is not that
     */
    private static List<Object> elements(ConfigOption<?> option, List<String> texts) {
        List<Object> out = new ArrayList<>();
        for (String t : texts) {
            try {
                out.add(ConfigurationUtils.convertValue(t, type(option)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "--" + name(option) + " must be " + accepted(option) + ", got '" + t + "'", e);
            }
        }
        return List.copyOf(out);
    }

    /** Sets a list option's typed elements ({@link #elements}). */
    @SuppressWarnings("unchecked") // the elements have the option's element type (elements())
    private static void setUnchecked(Configuration c, ConfigOption<?> o, List<Object> values) {
        c.set((ConfigOption<Object>) o, values);
    }
}
