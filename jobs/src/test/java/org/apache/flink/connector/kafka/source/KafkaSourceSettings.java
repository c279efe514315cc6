package org.apache.flink.connector.kafka.source;

import org.apache.flink.configuration.Configuration;

/** Test access to a built KafkaSource's client settings (package-private in the connector). */
public final class KafkaSourceSettings {
    private KafkaSourceSettings() {}

    public static Configuration of(KafkaSource<?> source) {
        return source.getConfiguration();
    }
}
