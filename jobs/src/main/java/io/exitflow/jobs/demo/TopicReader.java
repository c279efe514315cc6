package io.exitflow.jobs.demo;

import io.exitflow.jobs.common.InvalidRecordException;
import io.exitflow.jobs.common.RecordDecoder;
import io.exitflow.jobs.common.SchemaRegistrySettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads one topic of Avro records from the beginning, as a downstream consumer would: committed records only
 * ({@code read_committed}), so what it sees is what the exactly-once sinks published. Values are decoded in the
 * job's wire format ({@link RecordDecoder}): plain Avro binary, or with a schema registry the registry format, each
 * record by the writer's schema fetched by its id (a registry-aware consumer). Not thread-safe.
 *
 * @param <T> record class of the topic
 */
public final class TopicReader<T extends SpecificRecord> implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final RecordDecoder<T> codec;
    private final String topic;
    private final List<TopicPartition> partitions = new ArrayList<>();

    /** A reader of plain Avro binary records. */
    public TopicReader(String bootstrapServers, String topic, Class<T> type) {
        this(bootstrapServers, topic, type, null);
    }

    /**
     * A reader of the job's wire format.
     *
     * @param registry the job's schema registry ({@code --schema-registry-url}), or null for plain Avro binary
     */
    public TopicReader(String bootstrapServers, String topic, Class<T> type, SchemaRegistrySettings registry) {
        this.consumer = new KafkaConsumer<>(byteConsumer(bootstrapServers, "read_committed"));
        this.codec = new RecordDecoder<>(type, registry);
        this.topic = topic;
        for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
            partitions.add(new TopicPartition(topic, info.partition()));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    /**
     * Settings of a consumer of raw record bytes that assigns partitions itself: no group offsets committed, up to
     * 5,000 records a poll.
     *
     * @param isolationLevel {@code read_committed} (what the jobs' exactly-once outputs are for) or
     *     {@code read_uncommitted} (records as they are written, before their transaction commits)
     */
    public static Properties byteConsumer(String bootstrapServers, String isolationLevel) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolationLevel);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        return p;
    }

    /**
     * Records published since the last call (waiting at most {@code timeout} for the first).
     *
     * @throws IllegalStateException when a record on the topic is not of this type (the jobs never write one), or
     *     with a registry, its schema id is unknown to the registry or cannot be read as this type
     */
    public List<T> poll(Duration timeout) {
        List<T> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
            try {
                out.add(codec.decode(r.value()));
            } catch (InvalidRecordException e) {
                throw new IllegalStateException(
                        topic + " partition " + r.partition() + " offset " + r.offset() + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    /** Reads until the topic stays quiet for {@code quiet} (nothing new), returning everything read. */
    public List<T> readUntilQuiet(Duration quiet) {
        List<T> all = new ArrayList<>();
        while (true) {
            List<T> batch = poll(quiet);
            if (batch.isEmpty()) {
                return all;
            }
            all.addAll(batch);
        }
    }

    /**
     * Reads up to the end of the topic as it is now for a {@code read_committed} consumer (each partition's last
     * stable offset), returning everything read since the last call: unlike {@link #readUntilQuiet} it does not
     * stop early when the first fetch is slow.
     *
     * @throws IllegalStateException when that end is not reached within {@code timeout}
     */
    public List<T> readToEnd(Duration timeout) {
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
        long deadline = System.nanoTime() + timeout.toNanos();
        List<T> all = new ArrayList<>();
        while (partitions.stream().anyMatch(p -> consumer.position(p, timeout) < end.get(p))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(topic + ": end offsets " + end + " not reached within " + timeout);
            }
            all.addAll(poll(Duration.ofMillis(200)));
        }
        return all;
    }

    @Override
    public void close() {
        codec.close();
        consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
    }
}
