package io.exitflow.jobs.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The simulator's command line: Kafka client settings from a file, and what it refuses. */
class StreamSimulatorArgsTest {
    @TempDir
    Path dir;

    @Test
    void kafkaPropertiesComeFromAFile() throws Exception {
        Path file = Files.write(
                dir.resolve("client.properties"), List.of("security.protocol=SASL_SSL", "sasl.mechanism=PLAIN"));
        StreamSimulator.Settings s = StreamSimulator.parse(new String[] {
            "--bootstrap-servers", "broker:9092", "--kafka-properties", file.toString(), "--topic", "in"
        });
        assertEquals("SASL_SSL", s.clientProperties.getProperty("security.protocol"));
        assertEquals("PLAIN", s.clientProperties.getProperty("sasl.mechanism"));
        assertEquals("in", s.topic);
    }

    @Test
    void aFileThatSetsTheBootstrapServersIsRefused() throws Exception {
        Path file = Files.write(dir.resolve("bad.properties"), List.of("bootstrap.servers=elsewhere:9092"));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> StreamSimulator.parse(
                        new String[] {"--bootstrap-servers", "broker:9092", "--kafka-properties", file.toString()}));
        assertTrue(e.getMessage().contains("--bootstrap-servers"), e.getMessage());
    }
}
