package io.exitflow.jobs.common;

import java.io.Serializable;
import java.util.function.Function;

/**
 * The Kafka key of an output record (for example the sensor id), so all records of one key land on one
 * partition in order.
 *
 * @param <T> record type
 */
@FunctionalInterface
public interface RecordKey<T> extends Function<T, String>, Serializable {}
