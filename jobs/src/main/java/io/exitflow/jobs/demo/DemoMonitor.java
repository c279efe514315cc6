package io.exitflow.jobs.demo;

import io.exitflow.jobs.common.SchemaRegistrySettings;
import io.exitflow.schemas.Alert;
import io.exitflow.schemas.DeadLetter;
import io.exitflow.schemas.Prediction;
import io.exitflow.schemas.ThresholdUpdate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the demo shows: reads the job's output topics as a downstream consumer would ({@code read_committed};
 * with a schema registry, each record by its writer's schema id) and keeps running totals: windows classified, accuracy against the labels, exits per stage, thresholds in
 * force, end-to-end latency, dead letters and alerts. Used from one thread.
 */
final class DemoMonitor implements AutoCloseable {
    private final TopicReader<Prediction> predictions;
    private final TopicReader<DeadLetter> deadLetters;
    private final TopicReader<Alert> alerts;
    private final TopicReader<ThresholdUpdate> control;
    private final Map<String, Long> sendNanos;
    private final int stages;

    final long[] exits;
    long windows;
    long correct;
    long labelled;
    long deadLetterCount;
    final Map<String, Long> deadLettersByReason = new LinkedHashMap<>();
    long alertCount;
    long thresholdUpdates;
    float[] thresholds;
    long thresholdVersion;
    final Percentiles e2eLatencyMs = new Percentiles(2_000_000);
    final Percentiles operatorLatencyMs = new Percentiles(2_000_000);

    // Per report interval.
    long intervalWindows;
    long intervalCorrect;
    long intervalLabelled;
    final long[] intervalExits;
    final Percentiles intervalE2e = new Percentiles(1_000_000);

    /**
     * @param sendNanos send time of each window's last reading by window id ({@code sensor@time}); entries are
     *     removed as their predictions arrive
     * @param registry the job's schema registry (its outputs are in the registry wire format), or null
     */
    DemoMonitor(
            String bootstrap,
            Map<String, String> topics,
            Map<String, Long> sendNanos,
            int stages,
            float[] defaultThresholds,
            SchemaRegistrySettings registry) {
        this.predictions = new TopicReader<>(bootstrap, topics.get("predictions"), Prediction.class, registry);
        this.deadLetters = new TopicReader<>(bootstrap, topics.get("dead-letters"), DeadLetter.class, registry);
        this.alerts = new TopicReader<>(bootstrap, topics.get("alerts"), Alert.class, registry);
        this.control = new TopicReader<>(bootstrap, topics.get("control"), ThresholdUpdate.class, registry);
        this.sendNanos = sendNanos;
        this.stages = stages;
        this.exits = new long[stages];
        this.intervalExits = new long[stages];
        this.thresholds = defaultThresholds.clone();
    }

    /** Reads what is new on every topic; returns how many predictions arrived. */
    int poll(Duration wait) {
        List<Prediction> ps = predictions.poll(wait);
        long now = System.nanoTime();
        for (Prediction p : ps) {
            windows++;
            intervalWindows++;
            int stage = Math.max(0, Math.min(stages - 1, p.getExitStage()));
            exits[stage]++;
            intervalExits[stage]++;
            if (p.getLabel() != null) {
                labelled++;
                intervalLabelled++;
                if (p.getLabel().equals(p.getPredictedClass())) {
                    correct++;
                    intervalCorrect++;
                }
            }
            Long sent = sendNanos.remove(p.getEventId());
            if (sent != null) {
                double ms = (now - sent) / 1e6;
                e2eLatencyMs.add(ms);
                intervalE2e.add(ms);
            }
            long micros = 0;
            for (Long l : p.getStageLatencyMicros()) {
                micros += l;
            }
            operatorLatencyMs.add(micros / 1000.0);
        }
        for (DeadLetter d : deadLetters.poll(Duration.ZERO)) {
            deadLetterCount++;
            deadLettersByReason.merge(reasonKind(d.getReason()), 1L, Long::sum);
        }
        alertCount += alerts.poll(Duration.ZERO).size();
        for (ThresholdUpdate u : control.poll(Duration.ZERO)) {
            thresholdUpdates++;
            if (u.getUpdateVersion() > thresholdVersion) {
                thresholdVersion = u.getUpdateVersion();
                float[] t = new float[u.getThresholds().size()];
                for (int i = 0; i < t.length; i++) {
                    t[i] = u.getThresholds().get(i);
                }
                thresholds = t;
            }
        }
        return ps.size();
    }

    /** The kind of a dead letter: its reason up to the first colon, plus the detail for invalid records. */
    static String reasonKind(String reason) {
        if (reason.startsWith("invalid: value")) {
            return reason.contains("NaN") ? "invalid: NaN" : "invalid: infinite";
        }
        if (reason.startsWith("invalid: expected")) {
            return "invalid: wrong length";
        }
        int colon = reason.indexOf(':');
        return colon < 0 ? reason : reason.substring(0, colon);
    }

    void resetInterval() {
        intervalWindows = 0;
        intervalCorrect = 0;
        intervalLabelled = 0;
        java.util.Arrays.fill(intervalExits, 0);
        intervalE2e.clear();
    }

    static String shares(long[] counts) {
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        List<String> parts = new ArrayList<>();
        for (long c : counts) {
            parts.add(total == 0 ? "-" : String.format(Locale.ROOT, "%.0f%%", 100.0 * c / total));
        }
        return "[" + String.join(" ", parts) + "]";
    }

    String thresholdText() {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < thresholds.length - 1; i++) { // the last stage always answers
            parts.add(String.format(Locale.ROOT, "%.2f", thresholds[i]));
        }
        return "[" + String.join(" ", parts) + "]" + (thresholdVersion == 0 ? " (bundle)" : " v" + thresholdVersion);
    }

    /** A fresh map for send times, safe for the simulator thread and this one. */
    static Map<String, Long> newSendTimes() {
        return new ConcurrentHashMap<>();
    }

    @Override
    public void close() {
        predictions.close();
        deadLetters.close();
        alerts.close();
        control.close();
    }
}
