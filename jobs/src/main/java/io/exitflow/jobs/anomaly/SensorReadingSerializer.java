package io.exitflow.jobs.anomaly;

import io.exitflow.schemas.SensorReading;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.StringValue;

/**
 * Flink serializer of {@link SensorReading} between the job's operators (its hash shuffle by sensor, and the copy
 * Flink makes between chained operators), in place of Flink's generic Avro serializer: that one deep-copies
 * records field by field through Avro's reflection-like {@code GenericData} and encodes them through a generic datum
 * writer, which profiling showed as about half of the source task's CPU. This one knows the record's five fields
 * ({@code SensorReadingSerializerTest} fails when the schema changes): strings, the instant and the boxed floats
 * are immutable, so a copy shares them.
 *
 * <p>Event times travel as epoch milliseconds, as on the Avro wire ({@code timestamp-millis}).
 */
public final class SensorReadingSerializer extends TypeSerializerSingleton<SensorReading> {
    private static final long serialVersionUID = 1L;

    /** The serializer (stateless). */
    public static final SensorReadingSerializer INSTANCE = new SensorReadingSerializer();

    /** The Avro schema's field names, in the order this serializer writes them (and their positions). */
    static final List<String> FIELDS = List.of("sensorId", "eventTime", "values", "label", "severity");

    private SensorReadingSerializer() {}

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public SensorReading createInstance() {
        return new SensorReading();
    }

    @Override
    public SensorReading copy(SensorReading from) {
        List<Float> values = from.getValues();
        return of(
                from.getSensorId(),
                from.getEventTime(),
                values == null ? null : new ArrayList<>(values),
                from.getLabel(),
                from.getSeverity());
    }

    @Override
    public SensorReading copy(SensorReading from, SensorReading reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(SensorReading r, DataOutputView out) throws IOException {
        StringValue.writeString(r.getSensorId(), out);
        Instant time = r.getEventTime();
        out.writeBoolean(time != null);
        if (time != null) {
            out.writeLong(time.toEpochMilli());
        }
        List<Float> values = r.getValues();
        out.writeInt(values == null ? -1 : values.size());
        if (values != null) {
            for (Float v : values) {
                out.writeFloat(v);
            }
        }
        StringValue.writeString(r.getLabel(), out);
        Float severity = r.getSeverity();
        out.writeBoolean(severity != null);
        if (severity != null) {
            out.writeFloat(severity);
        }
    }

    @Override
    public SensorReading deserialize(DataInputView in) throws IOException {
        String sensorId = StringValue.readString(in);
        Instant time = in.readBoolean() ? Instant.ofEpochMilli(in.readLong()) : null;
        int n = in.readInt();
        List<Float> values = null;
        if (n >= 0) {
            values = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                values.add(in.readFloat());
            }
        }
        String label = StringValue.readString(in);
        Float severity = in.readBoolean() ? in.readFloat() : null;
        return of(sensorId, time, values, label, severity);
    }

    /** A record of these fields as they are (the generated constructor cannot take a null time). */
    private static SensorReading of(String sensorId, Instant time, List<Float> values, String label, Float severity) {
        SensorReading r = new SensorReading();
        r.put(0, sensorId);
        r.put(1, time);
        r.put(2, values);
        r.put(3, label);
        r.put(4, severity);
        return r;
    }

    @Override
    public SensorReading deserialize(SensorReading reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        serialize(deserialize(in), out);
    }

    @Override
    public TypeSerializerSnapshot<SensorReading> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Snapshot of the (stateless) serializer. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<SensorReading> {
        /** For Flink (read back by reflection). */
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
