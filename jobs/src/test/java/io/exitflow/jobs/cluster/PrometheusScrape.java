package io.exitflow.jobs.cluster;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * One scrape of a Prometheus endpoint in the text exposition format 0.0.4 (what Flink's Prometheus reporter serves):
 * samples {@code name{label="value",...} value [timestamp]}, comment lines {@code # HELP} / {@code # TYPE}. No
 * parser for this format is published for Java (the Prometheus Java client only writes it), so this one follows the
 * format's grammar: label values with the escapes {@code \\}, {@code \"} and {@code \n}; values as Go's
 * {@code ParseFloat} reads them, including {@code NaN}, {@code +Inf} and {@code -Inf}. A line it cannot read fails
 * the parse with the line number.
 */
public final class PrometheusScrape {
    /** One sample: the metric name, its labels (in the scrape's order) and its value. */
    public record Sample(String name, Map<String, String> labels, double value) {
        /** The value of label {@code key}, or null when the sample has no such label. */
        public String label(String key) {
            return labels.get(key);
        }
    }

    private final List<Sample> samples;
    private final String text;

    private PrometheusScrape(List<Sample> samples, String text) {
        this.samples = Collections.unmodifiableList(samples);
        this.text = text;
    }

    /** GET {@code uri} (e.g. {@code http://127.0.0.1:9250/metrics}) and parses the answer; fails on a non-200. */
    public static PrometheusScrape fetch(HttpClient http, URI uri) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("GET " + uri + " answered " + response.statusCode() + ": " + response.body());
        }
        return parse(response.body());
    }

    /**
     * Parses a scrape.
     *
     * @throws IllegalArgumentException for a line that is neither a comment, blank, nor a sample
     */
    public static PrometheusScrape parse(String text) {
        List<Sample> samples = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            try {
                samples.add(sample(line));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("line " + (i + 1) + ": " + e.getMessage() + ": " + line, e);
            }
        }
        return new PrometheusScrape(samples, text);
    }

    /** Every sample, in the scrape's order. */
    public List<Sample> samples() {
        return samples;
    }

    /** The samples of metric {@code name}. */
    public List<Sample> samples(String name) {
        return samples.stream().filter(s -> s.name().equals(name)).toList();
    }

    /** The distinct metric names. */
    public Set<String> names() {
        Set<String> names = new TreeSet<>();
        samples.forEach(s -> names.add(s.name()));
        return names;
    }

    /** The sum of metric {@code name} over the samples that {@code filter} accepts (0 when none does). */
    public double sum(String name, Predicate<Sample> filter) {
        return samples(name).stream().filter(filter).mapToDouble(Sample::value).sum();
    }

    /** The scrape as it was served. */
    public String text() {
        return text;
    }

    private static Sample sample(String line) {
        int pos = 0;
        int n = line.length();
        while (pos < n && isNameChar(line.charAt(pos), pos == 0)) {
            pos++;
        }
        if (pos == 0) {
            throw new IllegalArgumentException("no metric name");
        }
        String name = line.substring(0, pos);
        Map<String, String> labels = new LinkedHashMap<>();
        if (pos < n && line.charAt(pos) == '{') {
            pos = labels(line, pos + 1, labels);
        }
        String[] rest = line.substring(pos).strip().split("\\s+");
        if (rest.length < 1 || rest.length > 2 || rest[0].isEmpty()) {
            throw new IllegalArgumentException("expected a value and an optional timestamp after the name and labels");
        }
        return new Sample(name, labels, value(rest[0]));
    }

    /** Reads labels from just after '{' up to and including '}'; returns the position after '}'. */
    private static int labels(String line, int pos, Map<String, String> labels) {
        int n = line.length();
        while (true) {
            pos = skipSpaces(line, pos);
            if (pos < n && line.charAt(pos) == '}') {
                return pos + 1;
            }
            int start = pos;
            while (pos < n && isNameChar(line.charAt(pos), pos == start) && line.charAt(pos) != ':') {
                pos++;
            }
            if (pos == start) {
                throw new IllegalArgumentException("expected a label name at column " + (pos + 1));
            }
            String key = line.substring(start, pos);
            pos = skipSpaces(line, pos);
            if (pos + 1 >= n || line.charAt(pos) != '=' || line.charAt(pos + 1) != '"') {
                throw new IllegalArgumentException("expected =\" after label " + key);
            }
            pos += 2;
            StringBuilder value = new StringBuilder();
            while (true) {
                if (pos >= n) {
                    throw new IllegalArgumentException("unterminated value of label " + key);
                }
                char c = line.charAt(pos++);
                if (c == '"') {
                    break;
                }
                if (c == '\\') {
                    if (pos >= n) {
                        throw new IllegalArgumentException("unterminated escape in label " + key);
                    }
                    char e = line.charAt(pos++);
                    switch (e) {
                        case '\\' -> value.append('\\');
                        case '"' -> value.append('"');
                        case 'n' -> value.append('\n');
                        default -> throw new IllegalArgumentException("unknown escape \\" + e + " in label " + key);
                    }
                } else {
                    value.append(c);
                }
            }
            if (labels.put(key, value.toString()) != null) {
                throw new IllegalArgumentException("label " + key + " twice");
            }
            pos = skipSpaces(line, pos);
            if (pos < n && line.charAt(pos) == ',') {
                pos++;
            } else if (pos >= n || line.charAt(pos) != '}') {
                throw new IllegalArgumentException("expected , or } after label " + key);
            }
        }
    }

    private static double value(String v) {
        return switch (v) {
            case "NaN" -> Double.NaN;
            case "+Inf", "Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            default -> {
                try {
                    yield Double.parseDouble(v);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("not a number: " + v, e);
                }
            }
        };
    }

    private static int skipSpaces(String line, int pos) {
        while (pos < line.length() && (line.charAt(pos) == ' ' || line.charAt(pos) == '\t')) {
            pos++;
        }
        return pos;
    }

    private static boolean isNameChar(char c, boolean first) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || !first && c >= '0' && c <= '9';
    }
}
