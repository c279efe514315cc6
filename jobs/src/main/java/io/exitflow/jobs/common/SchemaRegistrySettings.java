package io.exitflow.jobs.common;

import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.flink.configuration.ReadableConfig;

/**
 * How a job reaches its schema registry, when it has one ({@code --schema-registry-url}): the registry's URLs, the
 * client settings (basic auth, bearer auth, TLS: Confluent's client keys, from {@code --kafka-properties} and
 * {@code --schema-registry-properties}), the subject naming strategy and whether output schemas are registered on
 * first use. Immutable and serializable: it travels with the job's sources and sinks, which open their own
 * {@link SchemaRegistryConnection} on the TaskManagers.
 */
public final class SchemaRegistrySettings implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Key prefixes of Confluent's registry client settings; such keys in the Kafka properties file apply too. */
    static final List<String> CLIENT_KEY_PREFIXES = List.of("schema.registry.", "basic.auth.", "bearer.auth.");

    /**
     * How the subject of a topic's value schema is named (Confluent's subject name strategies). Each is spelled on the
     * command line and in config.yaml as its {@link #toString} ({@code topic}, {@code record}, {@code topic-record}),
     * in any case, as Flink reads an enum option by its values' {@code toString}.
     */
    public enum SubjectStrategy {
        /** {@code <topic>-value}: Confluent's default (TopicNameStrategy). */
        TOPIC("topic"),
        /** The record's full name (RecordNameStrategy). */
        RECORD("record"),
        /** {@code <topic>-<record full name>} (TopicRecordNameStrategy). */
        TOPIC_RECORD("topic-record");

        private final String spelling;

        SubjectStrategy(String spelling) {
            this.spelling = spelling;
        }

        /** The subject of {@code schema}'s values on {@code topic}. */
        public String subject(String topic, Schema schema) {
            switch (this) {
                case RECORD:
                    return schema.getFullName();
                case TOPIC_RECORD:
                    return topic + "-" + schema.getFullName();
                default:
                    return topic + "-value";
            }
        }

        /** Its spelling on the command line: {@code topic}, {@code record} or {@code topic-record}. */
        @Override
        public String toString() {
            return spelling;
        }
    }

    private final List<String> urls;
    private final Map<String, String> clientConfig;
    private final SubjectStrategy subjectStrategy;
    private final boolean autoRegister;

    /**
     * @param urls the registry's base URLs (the client fails over between them)
     * @param clientConfig Confluent registry client settings ({@code basic.auth.*}, {@code schema.registry.ssl.*}, ...)
     * @param subjectStrategy how subjects are named
     * @param autoRegister whether output schemas are registered on first use (else they must exist)
     */
    public SchemaRegistrySettings(
            List<String> urls,
            Map<String, String> clientConfig,
            SubjectStrategy subjectStrategy,
            boolean autoRegister) {
        if (urls.isEmpty()) {
            throw new IllegalArgumentException(
                    "--" + JobOptions.argName(JobOptions.SCHEMA_REGISTRY_URL) + " names no URL");
        }
        for (String u : urls) {
            if (!u.startsWith("http://") && !u.startsWith("https://")) {
                throw new IllegalArgumentException("--" + JobOptions.argName(JobOptions.SCHEMA_REGISTRY_URL) + ": '" + u
                        + "' is not an http:// or https:// URL");
            }
        }
        this.urls = List.copyOf(urls);
        this.clientConfig = Collections.unmodifiableMap(new LinkedHashMap<>(clientConfig));
        this.subjectStrategy = subjectStrategy;
        this.autoRegister = autoRegister;
    }

    /** Settings for a registry at {@code url} with no client settings, topic subjects and auto-registration. */
    public static SchemaRegistrySettings of(String url) {
        return new SchemaRegistrySettings(List.of(url), Map.of(), SubjectStrategy.TOPIC, true);
    }

    /**
     * The job's registry settings, or empty when {@code --schema-registry-url} is not set (plain Avro binary).
     *
     * @param kafkaProperties the job's Kafka client settings ({@code --kafka-properties}): its registry client keys
     *     apply (under those of {@code --schema-registry-properties})
     * @throws IllegalArgumentException naming the setting to fix
     */
    public static Optional<SchemaRegistrySettings> from(JobConfig cfg, Properties kafkaProperties) {
        return from(cfg.readable(), kafkaProperties);
    }

    /**
     * The registry settings of a tool's command line that shares the job's registry options (the simulator), or
     * empty when {@code --schema-registry-url} is not set.
     *
     * @param kafkaProperties the tool's Kafka client settings: its registry client keys apply
     * @throws IllegalArgumentException naming the setting to fix
     */
    public static Optional<SchemaRegistrySettings> from(ReadableConfig c, Properties kafkaProperties) {
        return from(
                c.getOptional(JobOptions.SCHEMA_REGISTRY_URL),
                c.getOptional(JobOptions.SCHEMA_REGISTRY_PROPERTIES),
                c.get(JobOptions.SCHEMA_REGISTRY_SUBJECT_STRATEGY),
                c.get(JobOptions.SCHEMA_REGISTRY_AUTO_REGISTER),
                kafkaProperties);
    }

    private static Optional<SchemaRegistrySettings> from(
            Optional<String> url,
            Optional<String> propertiesFile,
            SubjectStrategy subjectStrategy,
            boolean autoRegister,
            Properties kafkaProperties) {
        Optional<String> given = url.filter(u -> !u.isBlank());
        if (given.isEmpty()) {
            return Optional.empty();
        }
        List<String> urls = new ArrayList<>();
        for (String u : given.get().split(",")) {
            if (!u.isBlank()) {
                urls.add(u.trim());
            }
        }
        Map<String, String> client = new LinkedHashMap<>();
        for (String k : kafkaProperties.stringPropertyNames()) {
            if (CLIENT_KEY_PREFIXES.stream().anyMatch(k::startsWith)) {
                client.put(k, kafkaProperties.getProperty(k));
            }
        }
        propertiesFile.ifPresent(f -> client.putAll(load(Path.of(f))));
        return Optional.of(new SchemaRegistrySettings(urls, client, subjectStrategy, autoRegister));
    }

    private static Map<String, String> load(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "--" + JobOptions.argName(JobOptions.SCHEMA_REGISTRY_PROPERTIES) + ": cannot read "
                            + file.toAbsolutePath() + ": " + e,
                    e);
        }
        Map<String, String> m = new LinkedHashMap<>();
        p.stringPropertyNames().forEach(k -> m.put(k, p.getProperty(k)));
        return m;
    }

    /** The registry's base URLs. */
    public List<String> urls() {
        return urls;
    }

    /** Confluent registry client settings. */
    public Map<String, String> clientConfig() {
        return clientConfig;
    }

    /** How subjects are named. */
    public SubjectStrategy subjectStrategy() {
        return subjectStrategy;
    }

    /** Whether output schemas are registered on first use. */
    public boolean autoRegister() {
        return autoRegister;
    }

    /** The same settings with another subject strategy and auto-register flag. */
    public SchemaRegistrySettings with(SubjectStrategy strategy, boolean register) {
        return new SchemaRegistrySettings(urls, clientConfig, strategy, register);
    }

    @Override
    public String toString() {
        return "schema registry " + String.join(",", urls) + " (subjects " + subjectStrategy
                + (autoRegister ? ", auto-register" : ", schemas must be registered") + ")";
    }
}
