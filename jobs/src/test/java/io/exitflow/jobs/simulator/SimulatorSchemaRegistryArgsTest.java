package io.exitflow.jobs.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.common.SchemaRegistrySettings;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The simulator's schema registry flags: the job's, with the same meaning and the same refusals. */
class SimulatorSchemaRegistryArgsTest {
    @Test
    void registryFlagsSwitchTheSimulatorToTheRegistryWireFormat() {
        assertNull(
                StreamSimulator.parse(new String[] {"--bootstrap-servers", "k:9092"}).schemaRegistry,
                "plain Avro binary by default");
        StreamSimulator.Settings s = StreamSimulator.parse(new String[] {
            "--bootstrap-servers",
            "k:9092",
            "--schema-registry-url",
            "http://r:8081",
            "--schema-registry-subject-strategy",
            "record"
        });
        assertEquals(List.of("http://r:8081"), s.schemaRegistry.urls());
        assertEquals(SchemaRegistrySettings.SubjectStrategy.RECORD, s.schemaRegistry.subjectStrategy());
        assertTrue(s.schemaRegistry.autoRegister());
    }

    @Test
    void aBadRegistryUrlIsRefusedNamingTheFlag() {
        String msg = assertThrows(
                        IllegalArgumentException.class,
                        () -> StreamSimulator.parse(
                                new String[] {"--bootstrap-servers", "k:9092", "--schema-registry-url", "r:8081"}))
                .getMessage();
        assertTrue(msg.startsWith("--schema-registry-url: 'r:8081' is not an http"), msg);
        assertTrue(StreamSimulator.usage().contains("--schema-registry-url"), "listed in --help");
    }
}
