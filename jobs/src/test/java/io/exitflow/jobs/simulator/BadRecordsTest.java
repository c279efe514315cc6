package io.exitflow.jobs.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.anomaly.SensorReadingValidator;
import io.exitflow.jobs.common.DecodingDeserializer;
import io.exitflow.schemas.DeadLetter;
import io.exitflow.schemas.SensorReading;
import java.util.EnumSet;
import java.util.Set;
import org.apache.flink.types.Either;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class BadRecordsTest {
    @Test
    void everyKindOfBadRecordIsDeadLetteredByTheJobsDecoder() {
        DecodingDeserializer<SensorReading> decoder =
                new DecodingDeserializer<>(SensorReading.class, new SensorReadingValidator(3));
        SensorFleet fleet = new SensorFleet("test", 3, 7, 0);
        BadRecords bad = new BadRecords(42);
        Set<BadRecords.Kind> seen = EnumSet.noneOf(BadRecords.Kind.class);
        BadRecords.Kind[] kind = new BadRecords.Kind[1];
        for (int i = 0; i < 600; i++) {
            byte[] value = bad.next(fleet.next(), kind);
            seen.add(kind[0]);
            Either<DeadLetter, SensorReading> out = decoder.decode(new ConsumerRecord<>("t", 0, i, null, value));
            assertTrue(out.isLeft(), kind[0] + " record " + i + " was accepted");
            String reason = out.left().getReason();
            switch (kind[0]) {
                case NAN -> assertTrue(reason.contains("NaN"), reason);
                case INFINITE -> assertTrue(reason.contains("Infinity"), reason);
                case WRONG_CHANNELS -> assertTrue(reason.contains("expected 3 values, got 4"), reason);
                case GARBAGE, TRUNCATED -> assertTrue(reason.startsWith("undecodable"), reason);
                default -> {}
            }
        }
        assertEquals(EnumSet.allOf(BadRecords.Kind.class), seen);
    }
}
