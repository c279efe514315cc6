package io.exitflow.jobs.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.schemas.Prediction;
import io.exitflow.schemas.SensorReading;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.kafka.sink.KafkaSinkSettings;
import org.apache.flink.connector.kafka.source.KafkaSourceSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --kafka-properties}: what a properties file reaches, and what it may not set. */
class KafkaClientPropertiesTest {
    @TempDir
    Path dir;

    private KafkaIo io(String... lines) throws Exception {
        Path file = dir.resolve("client.properties");
        Files.write(file, java.util.List.of(lines));
        Map<ConfigOption<?>, Object> s = new LinkedHashMap<>();
        s.put(JobOptions.BOOTSTRAP_SERVERS, "broker:9092");
        s.put(JobOptions.KAFKA_PROPERTIES, file.toString());
        s.put(JobOptions.TRANSACTION_TIMEOUT, Duration.ofMillis(300_000));
        return new KafkaIo(JobConfig.of(s), "test");
    }

    @Test
    void theFileReachesSourcesAndSinksAndTheJobKeepsItsOwnSettings() throws Exception {
        KafkaIo io = io("security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-512", "request.timeout.ms=12345");
        Configuration source =
                KafkaSourceSettings.of(io.decodingSource("in", SensorReading.class, RecordValidator.acceptAll()));
        assertEquals("SASL_SSL", source.getString("security.protocol", null));
        assertEquals("SCRAM-SHA-512", source.getString("sasl.mechanism", null));
        assertEquals("12345", source.getString("request.timeout.ms", null));
        assertEquals("read_committed", source.getString("isolation.level", null));
        assertEquals("exitflow-test", source.getString("group.id", null));

        Properties sink = KafkaSinkSettings.of(io.exactlyOnceSink("out", Prediction.class, Prediction::getKey, "p")
                .delegate());
        assertEquals("SASL_SSL", sink.getProperty("security.protocol"));
        assertEquals("12345", sink.getProperty("request.timeout.ms"));
        assertEquals("300000", sink.getProperty("transaction.timeout.ms"));
        assertEquals("broker:9092", sink.getProperty("bootstrap.servers"));
        Properties control = KafkaSinkSettings.of(io.atLeastOnceSink("ctl", Prediction.class, Prediction::getKey));
        assertEquals("SASL_SSL", control.getProperty("security.protocol"));
    }

    @Test
    void settingsTheJobOwnsAreRefusedWithWhatToUseInstead() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> io("security.protocol=SSL", "group.id=mine"));
        assertTrue(e.getMessage().contains("group.id") && e.getMessage().contains("--group-id"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> io("isolation.level=read_uncommitted"));
        assertTrue(e.getMessage().contains("read_committed"), e.getMessage());
    }

    @Test
    void aMissingFileFailsAtStartNamingIt() {
        Map<ConfigOption<?>, Object> s = new LinkedHashMap<>();
        s.put(JobOptions.BOOTSTRAP_SERVERS, "broker:9092");
        s.put(JobOptions.KAFKA_PROPERTIES, dir.resolve("nope.properties").toString());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> new KafkaIo(JobConfig.of(s), "test"));
        assertTrue(e.getMessage().contains("nope.properties"), e.getMessage());
    }
}
