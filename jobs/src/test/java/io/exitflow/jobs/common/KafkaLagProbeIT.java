package io.exitflow.jobs.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.exitflow.jobs.demo.EmbeddedKafka;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link KafkaLagProbe} against a real in-process KRaft broker: records written, offsets committed by a consumer of
 * the group as a Flink source commits them on checkpoints, and the lag the probe reports from that.
 */
class KafkaLagProbeIT {
    private static final String TOPIC = "lag-input";
    private static final int PARTITIONS = 2;
    private static EmbeddedKafka kafka;

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = EmbeddedKafka.start();
        kafka.createTopics(PARTITIONS, TOPIC, "lag-uncommitted");
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < 1000; i++) {
                producer.send(new ProducerRecord<>(TOPIC, i % PARTITIONS, null, new byte[] {(byte) i}));
            }
            producer.flush();
        }
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (kafka != null) kafka.close();
    }

    /** Commits {@code perPartition} as the group's offset on every partition of the topic. */
    private static void commit(String group, long perPartition) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        try (KafkaConsumer<byte[], byte[]> c =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            for (int i = 0; i < PARTITIONS; i++)
                offsets.put(new TopicPartition(TOPIC, i), new OffsetAndMetadata(perPartition));
            c.commitSync(offsets);
        }
    }

    private static KafkaLagProbe probe(String topic, String group, AtomicLong clock) {
        return KafkaLagProbe.builder()
                .bootstrapServers(kafka.bootstrapServers())
                .topic(topic)
                .groupId(group)
                .recordsPerEvent(2)
                .commitGrace(Duration.ZERO)
                .clock(clock::get)
                .build();
    }

    /** Waits until the probe's query for the last checkpoint has finished. */
    private static void awaitQuery(KafkaLagProbe probe) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (probe.querying() && System.nanoTime() < deadline) Thread.sleep(20);
    }

    /** Polls the probe (as the controller would, once per interval) until it answers. */
    private static long awaitEstimate(KafkaLagProbe probe, long now) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        long lag;
        while ((lag = probe.eventsBehind(now)) < 0 && System.nanoTime() < deadline) Thread.sleep(20);
        return lag;
    }

    @Test
    void lagIsEndMinusCommittedMinusWhatWasReadSinceTheCheckpoint() throws Exception {
        AtomicLong clock = new AtomicLong(11_500);
        try (KafkaLagProbe probe = probe(TOPIC, "group-a", clock)) {
            probe.open();
            commit("group-a", 50); // checkpoint 1, triggered at 10.0 s: 100 records read
            probe.onCheckpointComplete(1, 10_000);
            awaitQuery(probe);
            assertEquals(-1, probe.eventsBehind(11_500), "one checkpoint gives no read rate, so no estimate");

            commit("group-a", 150); // checkpoint 2, triggered at 11.0 s: 300 records read, 200 per second
            probe.onCheckpointComplete(2, 11_000);
            // queried at 11.5 s: 1000 written - 300 committed - 200/s * 0.5 s read since = 600 records = 300 events
            assertEquals(300, awaitEstimate(probe, 11_500));
            assertEquals(-1, probe.eventsBehind(11_500 + 61_000), "an estimate older than a minute is dropped");
        }
    }

    @Test
    void aCaughtUpGroupHasNoLagAndAGroupWithoutCommitsIsUnknown() throws Exception {
        AtomicLong clock = new AtomicLong(21_000);
        try (KafkaLagProbe caughtUp = probe(TOPIC, "group-b", clock);
                KafkaLagProbe noCommits = probe("lag-uncommitted", "group-b", clock)) {
            caughtUp.open();
            noCommits.open();
            commit("group-b", 400);
            caughtUp.onCheckpointComplete(1, 19_000);
            noCommits.onCheckpointComplete(1, 19_000);
            awaitQuery(caughtUp);
            assertEquals(-1, caughtUp.eventsBehind(21_000), "one reading: no estimate yet");
            commit("group-b", 500); // everything read by the second checkpoint
            caughtUp.onCheckpointComplete(2, 20_000);
            noCommits.onCheckpointComplete(2, 20_000);
            assertEquals(
                    0, awaitEstimate(caughtUp, 21_000), "read-ahead since the checkpoint never makes lag negative");
            awaitQuery(noCommits);
            assertEquals(-1, noCommits.eventsBehind(21_000), "a topic the group never committed has no lag to report");
        }
    }

    @Test
    void badSettingsFailAtBuild() {
        assertThrows(
                IllegalArgumentException.class, () -> KafkaLagProbe.builder().recordsPerEvent(0));
        assertThrows(
                IllegalArgumentException.class,
                () -> KafkaLagProbe.builder().topic("t").groupId("g").build());
        assertThrows(
                IllegalArgumentException.class, () -> KafkaLagProbe.builder().commitGrace(Duration.ofMillis(-1)));
    }
}
