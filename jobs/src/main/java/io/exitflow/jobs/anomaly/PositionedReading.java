package io.exitflow.jobs.anomaly;

import io.exitflow.schemas.SensorReading;
import java.util.Objects;

/**
 * A decoded {@link SensorReading} with where it was read: its Kafka partition and offset (the topic is the job's
 * one input topic, which {@link WindowAssembler} knows). It travels from the source to the window step, so a
 * reading the window step rejects (late, duplicate) becomes a dead letter that names its record and can be
 * replayed. Carried as a wrapper because {@link SensorReading} is the generated class of the wire schema, which
 * has no place for them; {@link PositionedReadingSerializer} adds 12 bytes per reading to the shuffle.
 *
 * @param reading the reading as decoded and validated
 * @param partition Kafka partition it was read from (-1 when not read from Kafka)
 * @param offset its offset in that partition (-1 when not read from Kafka)
 */
public record PositionedReading(SensorReading reading, int partition, long offset) {
    public PositionedReading {
        Objects.requireNonNull(reading, "reading");
    }

    /** The reading's sensor id: the window step's key. */
    public String sensorId() {
        return reading.getSensorId();
    }
}
