package io.exitflow.jobs.common;

import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.serialization.SerializationSchema;

/**
 * Flink serialization schema writing the job's wire format of one topic ({@link RecordEncoder}): plain Avro binary
 * ({@link AvroCodec}), or the schema registry wire format, whose schema id it resolves when the sink opens.
 */
final class AvroValueSerializer<T extends SpecificRecord> implements SerializationSchema<T> {
    private static final long serialVersionUID = 1L;

    private final RecordEncoder<T> encoder;

    AvroValueSerializer(Class<T> type) {
        this(type, null, null);
    }

    /**
     * @param topic the records' topic (names the registry subject)
     * @param registry the job's schema registry, or null for plain Avro binary
     */
    AvroValueSerializer(Class<T> type, String topic, SchemaRegistrySettings registry) {
        this.encoder = new RecordEncoder<>(type, topic, registry);
    }

    @Override
    public void open(InitializationContext context) {
        encoder.open(context.getMetricGroup());
    }

    @Override
    public byte[] serialize(T element) {
        return encoder.encode(element);
    }
}
