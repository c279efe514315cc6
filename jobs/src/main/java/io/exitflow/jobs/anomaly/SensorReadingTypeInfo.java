package io.exitflow.jobs.anomaly;

import io.exitflow.schemas.SensorReading;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** Type of {@link SensorReading}s between the anomaly job's operators: {@link SensorReadingSerializer}. */
public final class SensorReadingTypeInfo extends TypeInformation<SensorReading> {
    private static final long serialVersionUID = 1L;

    /** The type information (stateless). */
    public static final SensorReadingTypeInfo INSTANCE = new SensorReadingTypeInfo();

    private SensorReadingTypeInfo() {}

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
    public Class<SensorReading> getTypeClass() {
        return SensorReading.class;
    }

    @Override
    public boolean isKeyType() {
        return false;
    }

    @Override
    public TypeSerializer<SensorReading> createSerializer(SerializerConfig config) {
        return SensorReadingSerializer.INSTANCE;
    }

    @Override
    public String toString() {
        return "SensorReading (SensorReadingSerializer)";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SensorReadingTypeInfo;
    }

    @Override
    public int hashCode() {
        return SensorReadingTypeInfo.class.hashCode();
    }

    @Override
    public boolean canEqual(Object o) {
        return o instanceof SensorReadingTypeInfo;
    }
}
