package io.exitflow.bench.eos;

import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.schemas.Prediction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads every committed prediction of a topic from its start, on its own thread ({@code read_committed}, as a
 * downstream consumer of the exactly-once sink does), and counts answers per window (event id): what
 * {@link #check} compares with the windows the readings make. Also keeps the newest window end time answered (for
 * the output lag) and when the answers arrived (for a capacity estimate).
 */
@SuppressWarnings("try") // close() joins the reading thread: an interrupt during teardown must surface, not vanish
final class PredictionAudit implements AutoCloseable {
    /** One window's answers: how many, and the label the first one carried. */
    private static final class Seen {
        int count;
        String label;
    }

    /** Count of distinct windows answered at a moment ({@code System.nanoTime()}). */
    record Point(long nanos, long distinct) {}

    /** What the answers were against what the readings make. */
    record Verdict(
            long expected,
            long answered,
            long records,
            long missing,
            long duplicated,
            long unknown,
            long wrongLabel,
            long undecodable,
            List<String> examples) {
        boolean exactlyOnce() {
            return missing == 0 && duplicated == 0 && unknown == 0 && wrongLabel == 0 && undecodable == 0;
        }
    }

    private final String bootstrapServers;
    private final String topic;
    private final Thread thread;
    private final Map<String, Seen> seen = new HashMap<>();
    private final List<Point> timeline = new ArrayList<>();
    private long records;
    private long duplicates;
    private long undecodable;
    private String firstDecodeError;
    private long newestEndMillis = Long.MIN_VALUE;
    private volatile boolean stopped;
    private volatile Throwable failure;

    PredictionAudit(String bootstrapServers, String topic) {
        this.bootstrapServers = bootstrapServers;
        this.topic = topic;
        this.thread = new Thread(this::consume, "prediction-audit-" + topic);
        thread.setDaemon(true);
        thread.start();
    }

    private void consume() {
        AvroCodec<Prediction> codec = AvroCodec.of(Prediction.class);
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo p : consumer.partitionsFor(topic)) {
                partitions.add(new TopicPartition(topic, p.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (!stopped) {
                var batch = consumer.poll(Duration.ofMillis(300));
                if (batch.isEmpty()) {
                    continue;
                }
                synchronized (this) {
                    for (ConsumerRecord<byte[], byte[]> rec : batch) {
                        record(codec, rec);
                    }
                    timeline.add(new Point(System.nanoTime(), seen.size()));
                }
            }
        } catch (Throwable t) {
            failure = t;
        }
    }

    private void record(AvroCodec<Prediction> codec, ConsumerRecord<byte[], byte[]> rec) {
        records++;
        Prediction p;
        try {
            p = codec.decode(rec.value());
        } catch (Exception e) {
            undecodable++;
            if (firstDecodeError == null) {
                firstDecodeError = "partition " + rec.partition() + " offset " + rec.offset() + ": " + e;
            }
            return;
        }
        Seen s = seen.computeIfAbsent(p.getEventId(), k -> new Seen());
        if (++s.count == 1) {
            s.label = p.getLabel();
        } else {
            duplicates++;
        }
        newestEndMillis = Math.max(newestEndMillis, p.getEventTime().toEpochMilli());
    }

    /** Fails when the consumer thread died. */
    void checkAlive() {
        if (failure != null) {
            throw new IllegalStateException("the consumer of " + topic + " failed", failure);
        }
    }

    /** Distinct windows answered so far. */
    synchronized long distinct() {
        return seen.size();
    }

    /** Records read beyond the first per window (should stay 0). */
    synchronized long duplicates() {
        return duplicates;
    }

    /** Event time (window end, epoch ms) of the newest window answered; {@code Long.MIN_VALUE} before any. */
    synchronized long newestEndMillis() {
        return newestEndMillis;
    }

    /** Whether every one of {@code expected} has been answered. */
    synchronized boolean answeredAll(Map<String, String> expected) {
        if (seen.size() < expected.size()) {
            return false;
        }
        for (String id : expected.keySet()) {
            if (!seen.containsKey(id)) {
                return false;
            }
        }
        return true;
    }

    synchronized List<Point> timeline() {
        return List.copyOf(timeline);
    }

    /**
     * Compares the answers with {@code expected} (event id to label): each expected window answered exactly once
     * with its label, nothing else answered, every record decodable.
     */
    synchronized Verdict check(Map<String, String> expected) {
        long missing = 0;
        long duplicated = 0;
        long unknown = 0;
        long wrongLabel = 0;
        List<String> examples = new ArrayList<>();
        for (Map.Entry<String, String> e : expected.entrySet()) {
            Seen s = seen.get(e.getKey());
            if (s == null) {
                missing++;
                example(examples, "missing " + e.getKey());
            } else if (!Objects.equals(s.label, e.getValue())) {
                wrongLabel++;
                example(examples, "label of " + e.getKey() + " is " + s.label + ", the readings say " + e.getValue());
            }
        }
        for (Map.Entry<String, Seen> e : seen.entrySet()) {
            if (e.getValue().count > 1) {
                duplicated++;
                example(examples, e.getKey() + " answered " + e.getValue().count + " times");
            }
            if (!expected.containsKey(e.getKey())) {
                unknown++;
                example(examples, "answer for " + e.getKey() + ", a window the readings do not make");
            }
        }
        if (firstDecodeError != null) {
            example(examples, "undecodable: " + firstDecodeError);
        }
        return new Verdict(
                expected.size(), seen.size(), records, missing, duplicated, unknown, wrongLabel, undecodable, examples);
    }

    private static void example(List<String> examples, String text) {
        if (examples.size() < 10) {
            examples.add(text);
        }
    }

    @Override
    public void close() throws InterruptedException {
        stopped = true;
        thread.join(10_000);
    }
}
