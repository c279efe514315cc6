package io.exitflow.jobs.common;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * Kafka client settings from a standard properties file ({@code --kafka-properties}, like the Kafka tools'
 * {@code --command-config}): security ({@code security.protocol}, {@code sasl.*}, {@code ssl.*}) and tuning, applied
 * to every source, sink and admin client of a job. Settings the job owns are refused, naming the job setting to use
 * instead, so the file cannot silently undo exactly-once or read_committed.
 */
public final class KafkaClientProperties {
    /** Client settings the job sets itself, and where a user sets them instead. */
    private static final Map<String, String> OWNED_BY_THE_JOB = Map.of(
            "bootstrap.servers", "--bootstrap-servers",
            "group.id", "--group-id",
            "isolation.level", "nothing: the job reads read_committed",
            "transactional.id", "--transactional-id-prefix",
            "transaction.timeout.ms", "--transaction-timeout-ms",
            "enable.auto.commit", "nothing: the source commits offsets on checkpoints",
            "key.deserializer", "nothing: the job reads bytes and decodes Avro itself",
            "value.deserializer", "nothing: the job reads bytes and decodes Avro itself",
            "key.serializer", "nothing: the job writes bytes it encodes itself",
            "value.serializer", "nothing: the job writes bytes it encodes itself");

    private KafkaClientProperties() {}

    /** No extra settings. */
    public static Properties none() {
        return new Properties();
    }

    /**
     * Reads {@code file}.
     *
     * @throws IllegalArgumentException when it cannot be read or sets something the job owns (the message says what
     *     to fix)
     */
    public static Properties load(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "--kafka-properties: cannot read " + file.toAbsolutePath() + ": " + e, e);
        }
        for (String key : p.stringPropertyNames()) {
            String instead = OWNED_BY_THE_JOB.get(key);
            if (instead != null) {
                throw new IllegalArgumentException("--kafka-properties " + file + " sets " + key
                        + ", which the job sets itself; remove it (use " + instead + ")");
            }
        }
        return p;
    }
}
