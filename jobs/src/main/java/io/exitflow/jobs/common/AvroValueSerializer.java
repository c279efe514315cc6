package io.exitflow.jobs.common;

import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.serialization.SerializationSchema;

/** Flink serialization schema writing {@link AvroCodec}'s wire format. */
final class AvroValueSerializer<T extends SpecificRecord> implements SerializationSchema<T> {
    private static final long serialVersionUID = 1L;

    private final AvroCodec<T> codec;

    AvroValueSerializer(Class<T> type) {
        this.codec = AvroCodec.of(type);
    }

    @Override
    public byte[] serialize(T element) {
        return codec.encode(element);
    }
}
