package io.exitflow.jobs.anomaly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.data.SensorSignalGenerator;
import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.jobs.common.DecodingDeserializer;
import io.exitflow.schemas.DeadLetter;
import io.exitflow.schemas.SensorReading;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class PositionedReadingDeserializerTest {
    @Test
    void goodReadingsKeepTheirPartitionAndOffsetAndDeadLettersPassThrough() throws Exception {
        PositionedReadingDeserializer d = new PositionedReadingDeserializer(
                new DecodingDeserializer<>(SensorReading.class, new SensorReadingValidator(3)));
        SensorReading good = new SensorSignalGenerator("m-1", 1, 1_000L).next();
        byte[] bytes = AvroCodec.of(SensorReading.class).encode(good);
        List<Either<DeadLetter, PositionedReading>> out = new ArrayList<>();
        Collector<Either<DeadLetter, PositionedReading>> collector = new Collector<>() {
            @Override
            public void collect(Either<DeadLetter, PositionedReading> e) {
                out.add(e);
            }

            @Override
            public void close() {}
        };
        d.deserialize(new ConsumerRecord<>("readings", 4, 1234L, null, bytes), collector);
        d.deserialize(new ConsumerRecord<>("readings", 1, 99L, null, new byte[] {1, 2, 3}), collector);
        d.deserialize(new ConsumerRecord<>("readings", 0, 7L, null, bytes), collector);

        assertEquals(3, out.size());
        assertEquals(new PositionedReading(good, 4, 1234L), out.get(0).right());
        DeadLetter bad = out.get(1).left();
        assertEquals(1, bad.getPartition());
        assertEquals(99L, bad.getOffset());
        assertTrue(bad.getReason().startsWith("undecodable"), bad.getReason());
        assertEquals(new PositionedReading(good, 0, 7L), out.get(2).right());
        assertEquals(
                PositionedReadingTypeInfo.INSTANCE,
                ((org.apache.flink.api.java.typeutils.EitherTypeInfo<?, ?>) d.getProducedType()).getRightType());
    }
}
