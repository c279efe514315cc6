package io.exitflow.jobs.common;

import java.io.Serializable;

/**
 * Checks a decoded record before the job uses it.
 *
 * @param <T> record type
 */
@FunctionalInterface
public interface RecordValidator<T> extends Serializable {
    /** Returns null when the record is usable, else a short reason (it becomes the dead letter's reason). */
    String problem(T record);

    /** A validator that accepts everything. */
    static <T> RecordValidator<T> acceptAll() {
        return record -> null;
    }
}
