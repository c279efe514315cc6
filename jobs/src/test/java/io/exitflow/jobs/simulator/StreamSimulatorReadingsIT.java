package io.exitflow.jobs.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.jobs.demo.EmbeddedKafka;
import io.exitflow.schemas.SensorReading;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The simulator replaying a user's recordings into a real (in-process KRaft) broker: every reading of the file
 * exactly once, keyed by its recording's id, in the topics' wire format (plain Avro binary of one
 * SensorReading), times rebased, labels kept, each recording in order on one partition; then the end flush.
 */
class StreamSimulatorReadingsIT {
    private static final int PARTITIONS = 3;
    private static EmbeddedKafka kafka;

    @TempDir
    Path dir;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = EmbeddedKafka.start();
        kafka.createTopics(PARTITIONS, "replay", "replay-loop");
    }

    @AfterAll
    static void stopKafka() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
    }

    /** Five recordings of 40 readings, 31 ms apart (about 32 Hz), three channels, two labels. */
    private Path recordings() throws Exception {
        List<SensorReading> rs = new ArrayList<>();
        for (int rec = 0; rec < 5; rec++) {
            for (int i = 0; i < 40; i++) {
                rs.add(ReadingsReplayTest.reading(
                        "rec-" + rec,
                        1_600_000_000_000L + rec * 86_400_000L + 31L * i,
                        rec % 2 == 0 ? "Standing" : "Running",
                        rec,
                        i,
                        rec * 1000 + i));
            }
        }
        return ReadingsReplayTest.write(dir.resolve("recordings.avro"), rs);
    }

    @Test
    void sendsEveryReadingOfTheFileOnceRebasedThenFlushesEveryPartition() throws Exception {
        Path file = recordings();
        StreamSimulator.Settings settings = StreamSimulator.parse(new String[] {
            "--bootstrap-servers",
            kafka.bootstrapServers(),
            "--topic",
            "replay",
            "--readings",
            file.toString(),
            "--schedule",
            "20000",
            "--bad-share",
            "0",
            "--start-time",
            "1700000000000",
            "--end-flush",
            "on"
        });
        try (StreamSimulator sim = new StreamSimulator(settings, null)) {
            sim.run(); // ends by itself: the file is finite and does not loop
            assertEquals(200, sim.sent());
            assertTrue(sim.exhausted());
        }

        List<ConsumerRecord<byte[], byte[]>> records = readAll("replay");
        AvroCodec<SensorReading> codec = AvroCodec.of(SensorReading.class);
        Map<String, List<SensorReading>> byRecording = new HashMap<>();
        Map<String, Integer> partitionOf = new HashMap<>();
        Set<Integer> flushedPartitions = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            SensorReading x = codec.decode(r.value()); // the value is exactly one plain Avro SensorReading
            assertEquals(x.getSensorId(), new String(r.key(), StandardCharsets.UTF_8), "key = sensor id");
            if (x.getSensorId().startsWith("exitflow-end-flush-")) {
                assertEquals(StreamSimulator.endFlushSensorId(r.partition()), x.getSensorId());
                assertEquals(
                        1_700_000_000_000L + 31L * 39 + StreamSimulator.END_FLUSH_AHEAD_MILLIS,
                        x.getEventTime().toEpochMilli());
                assertNull(x.getLabel());
                assertEquals(3, x.getValues().size());
                flushedPartitions.add(r.partition());
                continue;
            }
            byRecording.computeIfAbsent(x.getSensorId(), k -> new ArrayList<>()).add(x);
            Integer before = partitionOf.put(x.getSensorId(), r.partition());
            assertTrue(before == null || before == r.partition(), "one partition per recording");
        }
        assertEquals(Set.of(0, 1, 2), flushedPartitions, "one flush reading per partition");
        assertEquals(5, byRecording.size());
        byRecording.forEach((id, list) -> {
            int rec = Integer.parseInt(id.substring(4));
            assertEquals(40, list.size(), id);
            for (int i = 0; i < 40; i++) {
                SensorReading x = list.get(i);
                assertEquals(1_700_000_000_000L + 31L * i, x.getEventTime().toEpochMilli(), id + " reading " + i);
                assertEquals(List.of((float) rec, (float) i, (float) (rec * 1000 + i)), x.getValues());
                assertEquals(rec % 2 == 0 ? "Standing" : "Running", x.getLabel());
            }
        });
    }

    @Test
    void aLoopingReplayGoesOnPastTheEndOfTheFile() throws Exception {
        StreamSimulator.Settings settings = StreamSimulator.parse(new String[] {
            "--bootstrap-servers",
            kafka.bootstrapServers(),
            "--topic",
            "replay-loop",
            "--readings",
            recordings().toString(),
            "--schedule",
            "100000",
            "--max-events",
            "700",
            "--bad-share",
            "0",
            "--loop",
            "on"
        });
        try (StreamSimulator sim = new StreamSimulator(settings, null)) {
            sim.run();
            assertEquals(700, sim.sent(), "three and a half passes of 200 readings");
            assertTrue(!sim.exhausted());
        }
        Map<String, Integer> perId = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : readAll("replay-loop")) {
            perId.merge(new String(r.key(), StandardCharsets.UTF_8), 1, Integer::sum);
        }
        // Passes 0-2 whole (40 readings of each recording), pass 3 in turns: its first 20 of each.
        for (int rec = 0; rec < 5; rec++) {
            for (String id : List.of("rec-" + rec, "rec-" + rec + "#1", "rec-" + rec + "#2")) {
                assertEquals(40, perId.get(id), id);
            }
            assertEquals(20, perId.get("rec-" + rec + "#3"), "rec-" + rec + "#3");
        }
        assertEquals(20, perId.size());
    }

    private static List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = new ArrayList<>();
            for (PartitionInfo info : c.partitionsFor(topic, Duration.ofSeconds(30))) {
                parts.add(new TopicPartition(topic, info.partition()));
            }
            c.assign(parts);
            c.seekToBeginning(parts);
            while (true) {
                var batch = c.poll(Duration.ofSeconds(2));
                if (batch.isEmpty()) {
                    return out;
                }
                batch.forEach(out::add);
            }
        }
    }
}
