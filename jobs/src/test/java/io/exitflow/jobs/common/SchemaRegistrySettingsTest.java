package io.exitflow.jobs.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry settings as read from a job's (and the simulator's) command line: refusals name the flag. */
class SchemaRegistrySettingsTest {
    private static JobConfig args(String... args) {
        return JobConfig.parse(args, new Configuration());
    }

    @Test
    void noUrlMeansPlainAvro() {
        assertTrue(SchemaRegistrySettings.from(args(), new Properties()).isEmpty());
        assertTrue(SchemaRegistrySettings.from(args("--schema-registry-url", " "), new Properties())
                .isEmpty());
    }

    @Test
    void urlsDefaultsAndFlags() {
        SchemaRegistrySettings s = SchemaRegistrySettings.from(
                        args("--schema-registry-url", "http://a:8081, https://b:8081/"), new Properties())
                .orElseThrow();
        assertEquals(List.of("http://a:8081", "https://b:8081/"), s.urls());
        assertEquals(SchemaRegistrySettings.SubjectStrategy.TOPIC, s.subjectStrategy());
        assertTrue(s.autoRegister());
        assertEquals(Map.of(), s.clientConfig());

        SchemaRegistrySettings t = SchemaRegistrySettings.from(
                        args(
                                "--schema-registry-url",
                                "http://a:8081",
                                "--schema-registry-subject-strategy",
                                "Topic-Record",
                                "--schema-registry-auto-register",
                                "false"),
                        new Properties())
                .orElseThrow();
        assertEquals(SchemaRegistrySettings.SubjectStrategy.TOPIC_RECORD, t.subjectStrategy());
        assertFalse(t.autoRegister());
        assertTrue(t.toString().contains("schemas must be registered"), t.toString());
    }

    @Test
    void theStrategyIsAnEnumOptionSpelledAsUsersTypeIt() {
        Configuration yaml = new Configuration();
        yaml.setString("exitflow.schema-registry-subject-strategy", "topic-record");
        assertEquals(
                SchemaRegistrySettings.SubjectStrategy.TOPIC_RECORD,
                JobConfig.parse(new String[0], yaml).get(JobOptions.SCHEMA_REGISTRY_SUBJECT_STRATEGY));
        assertEquals(
                SchemaRegistrySettings.SubjectStrategy.RECORD,
                JobConfig.of(Map.of(JobOptions.SCHEMA_REGISTRY_SUBJECT_STRATEGY, "record"))
                        .get(JobOptions.SCHEMA_REGISTRY_SUBJECT_STRATEGY));
        assertTrue(JobConfig.help().contains("[default topic]"), JobConfig.help());
        assertEquals(
                "one of topic, record, topic-record",
                CommandLine.accepted(JobOptions.SCHEMA_REGISTRY_SUBJECT_STRATEGY));
    }

    @Test
    void badValuesAreRefusedNamingTheFlag() {
        IllegalArgumentException scheme = assertThrows(
                IllegalArgumentException.class,
                () -> SchemaRegistrySettings.from(args("--schema-registry-url", "registry:8081"), new Properties()));
        assertTrue(
                scheme.getMessage().startsWith("--schema-registry-url: 'registry:8081' is not an http"),
                scheme.getMessage());
        IllegalArgumentException none = assertThrows(
                IllegalArgumentException.class,
                () -> SchemaRegistrySettings.from(args("--schema-registry-url", ",,"), new Properties()));
        assertEquals("--schema-registry-url names no URL", none.getMessage());
        IllegalArgumentException strategy = assertThrows(
                IllegalArgumentException.class,
                () -> SchemaRegistrySettings.from(
                        args("--schema-registry-url", "http://a", "--schema-registry-subject-strategy", "by-topic"),
                        new Properties()));
        assertTrue(
                strategy.getMessage()
                        .startsWith("--schema-registry-subject-strategy must be one of topic, record, "
                                + "topic-record, got 'by-topic'"),
                strategy.getMessage());
    }

    @Test
    void clientSettingsComeFromTheKafkaFileAndThePropertiesFileWins(@TempDir Path dir) throws IOException {
        Properties kafka = new Properties();
        kafka.setProperty("bootstrap.servers", "ignored:9092");
        kafka.setProperty("security.protocol", "SASL_SSL");
        kafka.setProperty("basic.auth.credentials.source", "USER_INFO");
        kafka.setProperty("basic.auth.user.info", "kafka-file:secret");
        kafka.setProperty("schema.registry.ssl.truststore.location", "/etc/ts.jks");
        Path file = dir.resolve("registry.properties");
        Files.writeString(file, "basic.auth.user.info=registry-file:secret\nbearer.auth.token=t\n");
        SchemaRegistrySettings s = SchemaRegistrySettings.from(
                        args("--schema-registry-url", "https://r", "--schema-registry-properties", file.toString()),
                        kafka)
                .orElseThrow();
        assertEquals(
                Map.of(
                        "basic.auth.credentials.source",
                        "USER_INFO",
                        "basic.auth.user.info",
                        "registry-file:secret",
                        "schema.registry.ssl.truststore.location",
                        "/etc/ts.jks",
                        "bearer.auth.token",
                        "t"),
                s.clientConfig());
    }

    @Test
    void anUnreadablePropertiesFileIsRefusedNamingTheFlag(@TempDir Path dir) {
        Path missing = dir.resolve("nope.properties");
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> SchemaRegistrySettings.from(
                        args("--schema-registry-url", "http://r", "--schema-registry-properties", missing.toString()),
                        new Properties()));
        assertTrue(e.getMessage().startsWith("--schema-registry-properties: cannot read " + missing), e.getMessage());
    }

    @Test
    void theSimulatorsCommandLineReadsTheSameFlags() {
        Configuration c = CommandLine.of(List.of(
                        JobOptions.SCHEMA_REGISTRY_URL,
                        JobOptions.SCHEMA_REGISTRY_SUBJECT_STRATEGY,
                        JobOptions.SCHEMA_REGISTRY_AUTO_REGISTER))
                .parse(
                        new String[] {
                            "--schema-registry-url", "http://r:8081", "--schema-registry-subject-strategy", "record"
                        },
                        new Configuration());
        SchemaRegistrySettings s =
                SchemaRegistrySettings.from(c, new Properties()).orElseThrow();
        assertEquals(List.of("http://r:8081"), s.urls());
        assertEquals(SchemaRegistrySettings.SubjectStrategy.RECORD, s.subjectStrategy());
        assertTrue(SchemaRegistrySettings.from(new Configuration(), new Properties())
                .isEmpty());
    }
}
