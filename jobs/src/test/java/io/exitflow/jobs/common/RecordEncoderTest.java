package io.exitflow.jobs.common;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.exitflow.schemas.Prediction;
import io.exitflow.schemas.SensorReading;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link RecordEncoder} without a registry process: plain Avro binary, the registry framing and subjects. */
class RecordEncoderTest {
    private static final SensorReading READING = SensorReading.newBuilder()
            .setSensorId("s-1")
            .setEventTime(Instant.ofEpochMilli(1_700_000_000_000L))
            .setValues(List.of(1f, 2f, 3f))
            .setLabel(null)
            .setSeverity(0.5f)
            .build();

    @Test
    void withoutARegistryItWritesPlainAvroBinary() {
        RecordEncoder<SensorReading> e = new RecordEncoder<>(SensorReading.class, "readings", null);
        e.open(null);
        byte[] plain = AvroCodec.of(SensorReading.class).encode(READING);
        assertArrayEquals(plain, e.encode(READING));
        assertArrayEquals(plain, e.frame(plain));
        assertNull(e.subject());
        assertEquals(-1, e.schemaId());
    }

    @Test
    void registryFormatIsMagicByteIdThenBinaryAndTheDecoderReadsItBack() throws Exception {
        RecordEncoder<SensorReading> e = RecordEncoder.withSchemaId(SensorReading.class, "readings", 0x01020304);
        byte[] bytes = e.encode(READING);
        assertArrayEquals(new byte[] {0, 1, 2, 3, 4}, Arrays.copyOf(bytes, 5));
        assertArrayEquals(
                AvroCodec.of(SensorReading.class).encode(READING), Arrays.copyOfRange(bytes, 5, bytes.length));
        assertEquals(0x01020304, e.schemaId());
        RecordDecoder<SensorReading> d = RecordDecoder.withWriterSchemas(
                SensorReading.class,
                id -> Map.of(0x01020304, SensorReading.getClassSchema()).get(id));
        assertEquals(READING, d.decode(bytes));
    }

    @Test
    void subjectsFollowTheStrategy() {
        SchemaRegistrySettings topic = SchemaRegistrySettings.of("http://r:8081");
        assertEquals("predictions-value", new RecordEncoder<>(Prediction.class, "predictions", topic).subject());
        assertEquals(
                "io.exitflow.schemas.Prediction",
                new RecordEncoder<>(
                                Prediction.class,
                                "predictions",
                                topic.with(SchemaRegistrySettings.SubjectStrategy.RECORD, true))
                        .subject());
        assertEquals(
                "predictions-io.exitflow.schemas.Prediction",
                new RecordEncoder<>(
                                Prediction.class,
                                "predictions",
                                topic.with(SchemaRegistrySettings.SubjectStrategy.TOPIC_RECORD, false))
                        .subject());
    }
}
