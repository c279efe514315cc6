package io.exitflow.jobs.anomaly;

import io.exitflow.schemas.SensorReading;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** Type of {@link SensorReading}s between the anomaly job's operators: {@link SensorReadingSerializer}. */
public final class SensorReadingTypeInfo extends SingletonSerializerTypeInfo<SensorReading> {
    private static final long serialVersionUID = 1L;

    /** The type information (stateless). */
    public static final SensorReadingTypeInfo INSTANCE = new SensorReadingTypeInfo();

    private SensorReadingTypeInfo() {
        super(SensorReading.class);
    }

    @Override
    TypeSerializer<SensorReading> serializer() {
        return SensorReadingSerializer.INSTANCE;
    }
}
