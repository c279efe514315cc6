package io.exitflow.jobs.anomaly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.data.SensorSignalGenerator;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class PositionedReadingSerializerTest {
    private static final PositionedReadingSerializer SERIALIZER = PositionedReadingSerializer.INSTANCE;

    private static List<PositionedReading> samples() {
        List<PositionedReading> out = new ArrayList<>();
        SensorSignalGenerator gen = new SensorSignalGenerator("m-3", 9, 1_700_000_000_000L);
        out.add(new PositionedReading(gen.next(), 0, 0L));
        out.add(new PositionedReading(gen.next(), 7, Long.MAX_VALUE));
        out.add(new PositionedReading(gen.next(), -1, -1L)); // not read from Kafka
        return out;
    }

    private static byte[] bytes(PositionedReading r) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        SERIALIZER.serialize(r, out);
        return out.getCopyOfBuffer();
    }

    @Test
    void roundTripsCopiesAndAddsTwelveBytesToTheReading() throws Exception {
        DataOutputSerializer all = new DataOutputSerializer(256);
        for (PositionedReading r : samples()) {
            DataOutputSerializer reading = new DataOutputSerializer(64);
            SensorReadingSerializer.INSTANCE.serialize(r.reading(), reading);
            assertEquals(reading.length() + 12, bytes(r).length);
            assertEquals(r, SERIALIZER.deserialize(new DataInputDeserializer(bytes(r))));
            PositionedReading copy = SERIALIZER.copy(r);
            assertEquals(r, copy);
            assertNotSame(r.reading(), copy.reading());
            DataOutputSerializer copied = new DataOutputSerializer(64);
            SERIALIZER.copy(new DataInputDeserializer(bytes(r)), copied);
            assertArrayEquals(bytes(r), copied.getCopyOfBuffer());
            SERIALIZER.serialize(r, all);
        }
        DataInputDeserializer in = new DataInputDeserializer(all.getCopyOfBuffer());
        for (PositionedReading r : samples()) {
            assertEquals(r, SERIALIZER.deserialize(in));
        }
        assertEquals(0, in.available());
    }

    @Test
    void snapshotRestoresTheSameSerializerAndTheTypeNeedsNoKryo() throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, SERIALIZER.snapshotConfiguration());
        TypeSerializerSnapshot<PositionedReading> back = TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(out.getCopyOfBuffer()), getClass().getClassLoader());
        assertSame(SERIALIZER, back.restoreSerializer());
        assertTrue(SERIALIZER
                .snapshotConfiguration()
                .resolveSchemaCompatibility(back)
                .isCompatibleAsIs());
        SerializerConfigImpl noKryo = new SerializerConfigImpl();
        noKryo.setGenericTypes(false);
        assertSame(SERIALIZER, PositionedReadingTypeInfo.INSTANCE.createSerializer(noKryo));
    }
}
