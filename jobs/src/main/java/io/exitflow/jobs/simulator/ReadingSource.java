package io.exitflow.jobs.simulator;

import io.exitflow.schemas.SensorReading;

/**
 * Where the simulator's good readings come from: the generator's fleet ({@link SensorFleet}, endless) or a user's
 * recordings ({@link ReadingsReplay}, which ends unless it loops). Used from one thread.
 */
public interface ReadingSource {
    /** The next reading to send, or {@code null} when the source has no more. */
    SensorReading next();
}
