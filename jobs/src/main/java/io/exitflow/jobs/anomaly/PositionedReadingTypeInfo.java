package io.exitflow.jobs.anomaly;

import org.apache.flink.api.common.typeutils.TypeSerializer;

/** Type of {@link PositionedReading}s from the source to the window step: {@link PositionedReadingSerializer}. */
public final class PositionedReadingTypeInfo extends SingletonSerializerTypeInfo<PositionedReading> {
    private static final long serialVersionUID = 1L;

    /** The type information (stateless). */
    public static final PositionedReadingTypeInfo INSTANCE = new PositionedReadingTypeInfo();

    private PositionedReadingTypeInfo() {
        super(PositionedReading.class);
    }

    @Override
    TypeSerializer<PositionedReading> serializer() {
        return PositionedReadingSerializer.INSTANCE;
    }
}
