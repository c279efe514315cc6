package io.exitflow.jobs.common;

import io.exitflow.schemas.DeadLetter;
import java.util.Objects;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.EitherTypeInfo;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Kafka value deserializer that never throws: every record comes out either as a valid decoded value
 * ({@code Either.Right}) or as its {@link DeadLetter} ({@code Either.Left}) with the reason, the topic,
 * partition and offset, and the raw bytes. A corrupt record therefore never fails (and restarts) the job.
 * {@link DeadLetterSplitter} then routes and counts the dead letters.
 *
 * @param <T> the generated Avro record class of the topic
 */
public final class DecodingDeserializer<T extends org.apache.avro.specific.SpecificRecordBase>
        implements KafkaRecordDeserializationSchema<Either<DeadLetter, T>> {
    private static final long serialVersionUID = 1L;

    private final AvroCodec<T> codec;
    private final RecordValidator<T> validator;

    /**
     * @param type record class of the topic
     * @param validator checks each decoded record (lengths, finite values, ...)
     */
    public DecodingDeserializer(Class<T> type, RecordValidator<T> validator) {
        this.codec = AvroCodec.of(type);
        this.validator = Objects.requireNonNull(validator, "validator");
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Either<DeadLetter, T>> out) {
        out.collect(decode(record));
    }

    /** The decoded value, or the dead letter saying why there is none. */
    public Either<DeadLetter, T> decode(ConsumerRecord<byte[], byte[]> record) {
        T value;
        try {
            value = codec.decode(record.value());
        } catch (InvalidRecordException e) {
            return Either.Left(DeadLetters.of(record, "undecodable: " + e.getMessage()));
        }
        String problem;
        try {
            problem = validator.problem(value);
        } catch (RuntimeException e) {
            // A validator tripping over a malformed record (null field, ...) is a verdict on the record.
            problem = "validation failed: " + e;
        }
        if (problem != null) {
            return Either.Left(DeadLetters.of(record, "invalid: " + problem));
        }
        return Either.Right(value);
    }

    @Override
    public TypeInformation<Either<DeadLetter, T>> getProducedType() {
        return new EitherTypeInfo<>(new AvroTypeInfo<>(DeadLetter.class), new AvroTypeInfo<>(codec.type()));
    }
}
