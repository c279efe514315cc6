package org.apache.flink.connector.kafka.sink;

import java.util.Properties;

/** Test access to a built KafkaSink's producer settings (protected in the connector). */
public final class KafkaSinkSettings {
    private KafkaSinkSettings() {}

    public static Properties of(KafkaSink<?> sink) {
        return sink.getKafkaProducerConfig();
    }
}
