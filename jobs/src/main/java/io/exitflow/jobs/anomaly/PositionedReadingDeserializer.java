package io.exitflow.jobs.anomaly;

import io.exitflow.schemas.DeadLetter;
import io.exitflow.schemas.SensorReading;
import java.io.IOException;
import java.util.Objects;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.EitherTypeInfo;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The anomaly job's source deserializer: the job's decoding deserializer (decode, validate, dead-letter what is
 * bad: {@link io.exitflow.jobs.common.DecodingDeserializer}) with each good reading wrapped with its Kafka
 * partition and offset ({@link PositionedReading}), so the window step can dead-letter it with its coordinates.
 * Dead letters pass through as the decoding deserializer made them.
 */
public final class PositionedReadingDeserializer
        implements KafkaRecordDeserializationSchema<Either<DeadLetter, PositionedReading>> {
    private static final long serialVersionUID = 1L;

    private final KafkaRecordDeserializationSchema<Either<DeadLetter, SensorReading>> decoding;
    private transient Positioning positioning;

    /** @param decoding decodes and validates one record into a reading or a dead letter */
    public PositionedReadingDeserializer(KafkaRecordDeserializationSchema<Either<DeadLetter, SensorReading>> decoding) {
        this.decoding = Objects.requireNonNull(decoding, "decoding");
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) throws Exception {
        decoding.open(context);
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Either<DeadLetter, PositionedReading>> out)
            throws IOException {
        if (positioning == null) {
            positioning = new Positioning();
        }
        positioning.start(record, out);
        decoding.deserialize(record, positioning);
    }

    @Override
    public TypeInformation<Either<DeadLetter, PositionedReading>> getProducedType() {
        return new EitherTypeInfo<>(new AvroTypeInfo<>(DeadLetter.class), PositionedReadingTypeInfo.INSTANCE);
    }

    /** Collector between the decoding deserializer and the source's: adds the record's position to readings. */
    private static final class Positioning implements Collector<Either<DeadLetter, SensorReading>> {
        private int partition;
        private long offset;
        private Collector<Either<DeadLetter, PositionedReading>> out;

        void start(ConsumerRecord<byte[], byte[]> record, Collector<Either<DeadLetter, PositionedReading>> target) {
            this.partition = record.partition();
            this.offset = record.offset();
            this.out = target;
        }

        @Override
        public void collect(Either<DeadLetter, SensorReading> value) {
            out.collect(
                    value.isRight()
                            ? Either.Right(new PositionedReading(value.right(), partition, offset))
                            : Either.Left(value.left()));
        }

        @Override
        public void close() {}
    }
}
