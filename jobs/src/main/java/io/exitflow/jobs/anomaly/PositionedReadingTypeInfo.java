package io.exitflow.jobs.anomaly;

import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** Type of {@link PositionedReading}s from the source to the window step: {@link PositionedReadingSerializer}. */
public final class PositionedReadingTypeInfo extends TypeInformation<PositionedReading> {
    private static final long serialVersionUID = 1L;

    /** The type information (stateless). */
    public static final PositionedReadingTypeInfo INSTANCE = new PositionedReadingTypeInfo();

    private PositionedReadingTypeInfo() {}

    @Override
    public boolean isBasicType() {
        return false;
    }

    @Override
    public boolean isTupleType() {
        return false;
    }

    @Override
    public int getArity() {
        return 1;
    }

    @Override
    public int getTotalFields() {
        return 1;
    }

    @Override
    public Class<PositionedReading> getTypeClass() {
        return PositionedReading.class;
    }

    @Override
    public boolean isKeyType() {
        return false;
    }

    @Override
    public TypeSerializer<PositionedReading> createSerializer(SerializerConfig config) {
        return PositionedReadingSerializer.INSTANCE;
    }

    @Override
    public String toString() {
        return "PositionedReading (PositionedReadingSerializer)";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PositionedReadingTypeInfo;
    }

    @Override
    public int hashCode() {
        return PositionedReadingTypeInfo.class.hashCode();
    }

    @Override
    public boolean canEqual(Object o) {
        return o instanceof PositionedReadingTypeInfo;
    }
}
