package io.exitflow.jobs.common;

import io.exitflow.schemas.DeadLetter;
import java.util.Objects;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.EitherTypeInfo;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka value deserializer that no record can make throw: every record comes out either as a valid decoded value
 * ({@code Either.Right}) or as its {@link DeadLetter} ({@code Either.Left}) with the reason, the topic,
 * partition and offset, and the raw bytes. Decoding is bounded by the record's size ({@link AvroCodec}), so a
 * corrupt record never exhausts the heap, and never fails (and restarts) the job. {@link DeadLetterSplitter} then
 * routes and counts the dead letters; the dead-letter sink bounds their size ({@link DeadLetters#sinkTo}).
 *
 * @param <T> the generated Avro record class of the topic
 */
public final class DecodingDeserializer<T extends org.apache.avro.specific.SpecificRecordBase>
        implements KafkaRecordDeserializationSchema<Either<DeadLetter, T>> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(DecodingDeserializer.class);

    private final RecordDecoder<T> codec;
    private final RecordValidator<T> validator;

    /**
     * A deserializer of plain Avro binary (and Avro single-object encoding).
     *
     * @param type record class of the topic
     * @param validator checks each decoded record (lengths, finite values, ...)
     */
    public DecodingDeserializer(Class<T> type, RecordValidator<T> validator) {
        this(type, validator, null);
    }

    /**
     * A deserializer of the job's wire format ({@link RecordDecoder}).
     *
     * @param type record class of the topic
     * @param validator checks each decoded record (lengths, finite values, ...)
     * @param registry the job's schema registry, or null for plain Avro binary
     */
    public DecodingDeserializer(Class<T> type, RecordValidator<T> validator, SchemaRegistrySettings registry) {
        this.codec = new RecordDecoder<>(type, registry);
        this.validator = Objects.requireNonNull(validator, "validator");
    }

    /** Registers the schema registry metrics (with a registry) in the source's metric group. */
    @Override
    public void open(DeserializationSchema.InitializationContext context) {
        codec.open(context.getMetricGroup());
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Either<DeadLetter, T>> out) {
        out.collect(decode(record));
    }

    /**
     * The decoded value, or the dead letter saying why there is none. Whatever decoding or validating this one record
     * throws makes it a dead letter with the throwable as its reason, {@code OutOfMemoryError} and
     * {@code StackOverflowError} included; only errors that say the JVM or the deployment is broken, whatever the
     * record ({@link #isFatal}), are thrown on and fail the job, and an interrupt while waiting out a schema
     * registry outage (the task is being cancelled; the record is read again after the restart).
     */
    public Either<DeadLetter, T> decode(ConsumerRecord<byte[], byte[]> record) {
        try {
            return decodeAndValidate(record);
        } catch (Throwable t) {
            if (isFatal(t) || t instanceof SchemaRegistryConnection.Interrupted) {
                throw t;
            }
            if (t instanceof Error) {
                LOG.warn(
                        "{} while decoding {} partition {} offset {} ({} bytes): dead-lettered",
                        t,
                        record.topic(),
                        record.partition(),
                        record.offset(),
                        record.value() == null ? 0 : record.value().length);
            }
            return Either.Left(DeadLetters.of(record, "undecodable: " + t));
        }
    }

    private Either<DeadLetter, T> decodeAndValidate(ConsumerRecord<byte[], byte[]> record) {
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

    /**
     * Errors that no record causes: the class path is broken ({@link LinkageError}) or the JVM is
     * ({@link VirtualMachineError} other than running out of memory or stack, which one record's decoding can do).
     * Dead-lettering every record for these would lose all input quietly; failing the job says what is wrong.
     */
    static boolean isFatal(Throwable t) {
        return t instanceof LinkageError
                || (t instanceof VirtualMachineError
                        && !(t instanceof OutOfMemoryError)
                        && !(t instanceof StackOverflowError));
    }

    @Override
    public TypeInformation<Either<DeadLetter, T>> getProducedType() {
        return new EitherTypeInfo<>(new AvroTypeInfo<>(DeadLetter.class), new AvroTypeInfo<>(codec.type()));
    }
}
