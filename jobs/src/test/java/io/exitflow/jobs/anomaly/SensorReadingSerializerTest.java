package io.exitflow.jobs.anomaly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.data.SensorSignalGenerator;
import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.schemas.SensorReading;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class SensorReadingSerializerTest {
    private static final SensorReadingSerializer SERIALIZER = SensorReadingSerializer.INSTANCE;
    private static final AvroCodec<SensorReading> CODEC = AvroCodec.of(SensorReading.class);

    /** Generated readings plus the corner cases: no label or severity, no values. */
    private static List<SensorReading> samples() {
        List<SensorReading> out = new ArrayList<>();
        SensorSignalGenerator gen = new SensorSignalGenerator("m-7", 3, 1_700_000_000_000L);
        for (int i = 0; i < 50; i++) {
            out.add(gen.next());
        }
        out.add(SensorReading.newBuilder()
                .setSensorId("s")
                .setEventTime(Instant.ofEpochMilli(-5))
                .setValues(List.of(Float.NaN, -0f, Float.MAX_VALUE))
                .setLabel(null)
                .setSeverity(null)
                .build());
        out.add(SensorReading.newBuilder()
                .setSensorId("")
                .setEventTime(Instant.ofEpochMilli(0))
                .setValues(List.of())
                .setLabel("ä-label")
                .setSeverity(0.25f)
                .build());
        SensorReading empty = new SensorReading(); // what no decoded record is, but the serializer keeps
        out.add(empty);
        return out;
    }

    private static byte[] bytes(SensorReading r) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        SERIALIZER.serialize(r, out);
        return out.getCopyOfBuffer();
    }

    @Test
    void writesEveryFieldOfTheSchema() {
        List<String> schemaFields = SensorReading.getClassSchema().getFields().stream()
                .map(Schema.Field::name)
                .toList();
        assertEquals(
                schemaFields,
                SensorReadingSerializer.FIELDS,
                "SensorReading's schema changed: update SensorReadingSerializer (serialize, deserialize, copy) and FIELDS");
    }

    @Test
    void roundTripsAndCopiesEveryRecordExactly() throws Exception {
        for (SensorReading r : samples()) {
            SensorReading back = SERIALIZER.deserialize(new DataInputDeserializer(bytes(r)));
            assertEquals(r, back);
            if (r.getSensorId() != null) {
                // Identical on the Avro wire too, so a dead letter made from it carries the original bytes.
                assertArrayEquals(CODEC.encode(r), CODEC.encode(back));
            }

            SensorReading copy = SERIALIZER.copy(r);
            assertEquals(r, copy);
            assertNotSame(r, copy);
            if (r.getValues() != null) {
                assertNotSame(r.getValues(), copy.getValues(), "a copy has its own values list");
            }

            DataOutputSerializer copied = new DataOutputSerializer(64);
            SERIALIZER.copy(new DataInputDeserializer(bytes(r)), copied);
            assertArrayEquals(bytes(r), copied.getCopyOfBuffer());
        }
    }

    @Test
    void readsRecordsBackToBackFromOneStream() throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(1024);
        List<SensorReading> samples = samples();
        for (SensorReading r : samples) {
            SERIALIZER.serialize(r, out);
        }
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        for (SensorReading r : samples) {
            assertEquals(r, SERIALIZER.deserialize(in));
        }
        assertEquals(0, in.available());
    }

    @Test
    void snapshotRestoresTheSameSerializer() throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, SERIALIZER.snapshotConfiguration());
        TypeSerializerSnapshot<SensorReading> back = TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(out.getCopyOfBuffer()), getClass().getClassLoader());
        assertSame(SERIALIZER, back.restoreSerializer());
        assertTrue(SERIALIZER
                .snapshotConfiguration()
                .resolveSchemaCompatibility(back)
                .isCompatibleAsIs());
    }

    @Test
    void typeInfoNeedsNoKryo() {
        SerializerConfigImpl noKryo = new SerializerConfigImpl();
        noKryo.setGenericTypes(false);
        TypeSerializer<SensorReading> s = SensorReadingTypeInfo.INSTANCE.createSerializer(noKryo);
        assertSame(SERIALIZER, s);
        assertEquals(SensorReading.class, SensorReadingTypeInfo.INSTANCE.getTypeClass());
    }
}
