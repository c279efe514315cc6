package io.exitflow.jobs.anomaly;

import io.exitflow.schemas.SensorReading;
import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Flink serializer of {@link PositionedReading}: the reading as {@link SensorReadingSerializer} writes it, then the
 * partition (int) and offset (long).
 */
public final class PositionedReadingSerializer extends TypeSerializerSingleton<PositionedReading> {
    private static final long serialVersionUID = 1L;

    /** The serializer (stateless). */
    public static final PositionedReadingSerializer INSTANCE = new PositionedReadingSerializer();

    private static final SensorReadingSerializer READING = SensorReadingSerializer.INSTANCE;

    private PositionedReadingSerializer() {}

    @Override
    public boolean isImmutableType() {
        return false; // the reading inside is mutable
    }

    @Override
    public PositionedReading createInstance() {
        return new PositionedReading(READING.createInstance(), -1, -1L);
    }

    @Override
    public PositionedReading copy(PositionedReading from) {
        return new PositionedReading(READING.copy(from.reading()), from.partition(), from.offset());
    }

    @Override
    public PositionedReading copy(PositionedReading from, PositionedReading reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(PositionedReading r, DataOutputView out) throws IOException {
        READING.serialize(r.reading(), out);
        out.writeInt(r.partition());
        out.writeLong(r.offset());
    }

    @Override
    public PositionedReading deserialize(DataInputView in) throws IOException {
        SensorReading reading = READING.deserialize(in);
        int partition = in.readInt();
        long offset = in.readLong();
        return new PositionedReading(reading, partition, offset);
    }

    @Override
    public PositionedReading deserialize(PositionedReading reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        READING.copy(in, out);
        out.writeInt(in.readInt());
        out.writeLong(in.readLong());
    }

    @Override
    public TypeSerializerSnapshot<PositionedReading> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Snapshot of the (stateless) serializer. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<PositionedReading> {
        /** For Flink (read back by reflection). */
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
