package io.exitflow.jobs.simulator;

import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.schemas.FeatureEvent;
import io.exitflow.schemas.SensorReading;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Makes the bad records the simulator mixes in to exercise the dead-letter path: each kind is something a real
 * topic sees (corrupt bytes, a truncated write, a wrong channel count, NaN or infinite values, another schema).
 */
public final class BadRecords {
    /** The kinds of bad record, in the order they are drawn. */
    public enum Kind {
        GARBAGE,
        TRUNCATED,
        WRONG_CHANNELS,
        NAN,
        INFINITE,
        FOREIGN_SCHEMA
    }

    private final SplittableRandom random;
    private final AvroCodec<SensorReading> readings = AvroCodec.of(SensorReading.class);
    private final AvroCodec<FeatureEvent> features = AvroCodec.of(FeatureEvent.class);

    public BadRecords(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** A bad record of a random kind modelled on {@code good}; its kind is {@code kindOut[0]}. */
    public byte[] next(SensorReading good, Kind[] kindOut) {
        Kind kind = Kind.values()[random.nextInt(Kind.values().length)];
        kindOut[0] = kind;
        return make(kind, good);
    }

    /** A bad record of the given kind modelled on {@code good}. */
    public byte[] make(Kind kind, SensorReading good) {
        switch (kind) {
            case GARBAGE: {
                byte[] b = new byte[8 + random.nextInt(40)];
                for (int i = 0; i < b.length; i++) {
                    b[i] = (byte) random.nextInt(256);
                }
                b[0] = (byte) 0xff; // a huge negative string length: never a valid SensorReading
                return b;
            }
            case TRUNCATED: {
                byte[] full = readings.encode(good);
                return Arrays.copyOf(full, full.length / 2);
            }
            case WRONG_CHANNELS: {
                List<Float> v = new ArrayList<>(good.getValues());
                v.add(0f);
                return readings.encode(copyWith(good, v));
            }
            case NAN: {
                List<Float> v = new ArrayList<>(good.getValues());
                v.set(random.nextInt(v.size()), Float.NaN);
                return readings.encode(copyWith(good, v));
            }
            case INFINITE: {
                List<Float> v = new ArrayList<>(good.getValues());
                v.set(
                        random.nextInt(v.size()),
                        random.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY);
                return readings.encode(copyWith(good, v));
            }
            case FOREIGN_SCHEMA:
            default:
                return features.encode(FeatureEvent.newBuilder()
                        .setEventId("not-a-reading")
                        .setKey(good.getSensorId())
                        .setEventTime(good.getEventTime())
                        .setFeatures(
                                List.of(1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f, 11f, 12f, 13f, 14f, 15f, 16f, 17f))
                        .setLabel(null)
                        .build());
        }
    }

    private static SensorReading copyWith(SensorReading good, List<Float> values) {
        return SensorReading.newBuilder(good).setValues(values).build();
    }
}
