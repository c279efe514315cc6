package io.exitflow.jobs.simulator;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Send rate over time, as phases {@code <duration>@<events per second>} separated by commas, for example
 * {@code 60s@2000,30s@4000,500ms@0}. Durations take {@code ms}, {@code s} or {@code m}. A lone rate
 * ({@code 2000}) means that rate with no end.
 */
public final class RateSchedule {
    /** One phase: this many events per second for this long. */
    public record Phase(long durationMillis, double eventsPerSecond) {}

    private final List<Phase> phases;

    private RateSchedule(List<Phase> phases) {
        this.phases = List.copyOf(phases);
    }

    /**
     * Parses a schedule.
     *
     * @throws IllegalArgumentException naming the bad phase and the expected form
     */
    public static RateSchedule parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("empty rate schedule; expected e.g. 60s@2000,30s@4000 or 2000");
        }
        List<Phase> phases = new ArrayList<>();
        String s = spec.trim();
        if (!s.contains("@")) {
            phases.add(new Phase(Long.MAX_VALUE, rate(s, spec)));
            return new RateSchedule(phases);
        }
        for (String part : s.split(",")) {
            String p = part.trim();
            int at = p.indexOf('@');
            if (at <= 0 || at == p.length() - 1) {
                throw new IllegalArgumentException("bad phase '" + p + "' in rate schedule '" + spec
                        + "'; expected <duration>@<events/s>, e.g. 60s@2000");
            }
            phases.add(new Phase(duration(p.substring(0, at), spec), rate(p.substring(at + 1), spec)));
        }
        return new RateSchedule(phases);
    }

    private static double rate(String s, String spec) {
        try {
            double r = Double.parseDouble(s.trim());
            if (!(r >= 0) || Double.isInfinite(r)) {
                throw new NumberFormatException();
            }
            return r;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad rate '" + s + "' in rate schedule '" + spec
                    + "'; expected a non-negative number of events per second");
        }
    }

    private static long duration(String s, String spec) {
        String d = s.trim().toLowerCase(Locale.ROOT);
        long unit;
        String number;
        if (d.endsWith("ms")) {
            unit = 1;
            number = d.substring(0, d.length() - 2);
        } else if (d.endsWith("s")) {
            unit = 1000;
            number = d.substring(0, d.length() - 1);
        } else if (d.endsWith("m")) {
            unit = 60_000;
            number = d.substring(0, d.length() - 1);
        } else {
            throw new IllegalArgumentException(
                    "bad duration '" + s + "' in rate schedule '" + spec + "'; expected a number with ms, s or m");
        }
        try {
            double v = Double.parseDouble(number);
            if (!(v > 0) || Double.isInfinite(v)) {
                throw new NumberFormatException();
            }
            return Math.round(v * unit);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad duration '" + s + "' in rate schedule '" + spec
                    + "'; expected a positive number with ms, s or m");
        }
    }

    public List<Phase> phases() {
        return phases;
    }

    /** Total length, or {@link Long#MAX_VALUE} when the schedule does not end. */
    public long totalMillis() {
        long total = 0;
        for (Phase p : phases) {
            if (p.durationMillis() == Long.MAX_VALUE) {
                return Long.MAX_VALUE;
            }
            total += p.durationMillis();
        }
        return total;
    }

    /**
     * How many events should have been sent {@code elapsedMillis} after the start: the integral of the rate.
     * After the schedule ends the count stays at the total.
     */
    public double eventsDueAt(long elapsedMillis) {
        double due = 0;
        long t = elapsedMillis;
        for (Phase p : phases) {
            long span = Math.min(t, p.durationMillis());
            due += p.eventsPerSecond() * span / 1000.0;
            t -= span;
            if (t <= 0) {
                break;
            }
        }
        return due;
    }

    /** Rate in force {@code elapsedMillis} after the start (0 after the end). */
    public double rateAt(long elapsedMillis) {
        long t = elapsedMillis;
        for (Phase p : phases) {
            if (t < p.durationMillis()) {
                return p.eventsPerSecond();
            }
            t -= p.durationMillis();
        }
        return 0;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (Phase p : phases) {
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(p.durationMillis() == Long.MAX_VALUE ? "" : p.durationMillis() + "ms@")
                    .append(String.format(Locale.ROOT, "%.0f", p.eventsPerSecond()));
        }
        return sb.toString();
    }
}
