package io.exitflow.jobs.anomaly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class PendingReadingsTest {
    private static final int CHANNELS = 3;

    private static float[] values(long time) {
        return new float[] {time, time + 0.5f, -time};
    }

    /** Takes every waiting reading, earliest first, checking each one's values and label. */
    private static List<Long> drain(PendingReadings q) {
        List<Long> times = new ArrayList<>();
        while (!q.isEmpty()) {
            long t = q.firstTime();
            float[] v = new float[CHANNELS];
            System.arraycopy(q.values, q.firstValuesOffset(), v, 0, CHANNELS);
            assertArrayEquals(values(t), v, "values of " + t);
            assertEquals(t % 7 == 0 ? null : "l" + t, q.firstLabel(), "label of " + t);
            times.add(t);
            q.removeFirst();
        }
        return times;
    }

    private static boolean add(PendingReadings q, long t) {
        return q.add(t, values(t), t % 7 == 0 ? null : "l" + t);
    }

    @Test
    void keepsShuffledReadingsInTimeOrderThroughGrowthAndShifts() {
        Random random = new Random(5);
        PendingReadings q = new PendingReadings(CHANNELS);
        List<Long> expected = new ArrayList<>();
        long next = 0;
        // Rounds of partly shuffled arrivals, each followed by taking some of the earliest: exercises appends,
        // in-place inserts, shifting to the front and growing past the initial capacity.
        for (int round = 0; round < 30; round++) {
            List<Long> batch = new ArrayList<>();
            int n = 1 + random.nextInt(3 * PendingReadings.INITIAL_CAPACITY);
            for (int i = 0; i < n; i++) {
                batch.add(next++);
            }
            Collections.shuffle(batch.subList(0, n / 2), random);
            for (long t : batch) {
                assertFalse(q.contains(t));
                add(q, t);
                assertTrue(q.contains(t));
            }
            expected.addAll(batch);
            Collections.sort(expected);
            int take = random.nextInt(expected.size() + 1);
            for (int i = 0; i < take; i++) {
                assertEquals(expected.remove(0), Long.valueOf(q.firstTime()));
                q.removeFirst();
            }
            assertEquals(expected.size(), q.size);
        }
        assertEquals(expected, drain(q));
    }

    @Test
    void addSaysWhenTheReadingIsTheNewEarliest() {
        PendingReadings q = new PendingReadings(CHANNELS);
        assertTrue(add(q, 50), "first reading");
        assertFalse(add(q, 60), "later reading");
        assertTrue(add(q, 40), "earlier reading");
        assertFalse(add(q, 45), "between");
        assertFalse(q.contains(44));
        assertEquals(List.of(40L, 45L, 50L, 60L), drain(q));
    }

    @Test
    void givesABacklogsMemoryBackWhenEmpty() {
        PendingReadings q = new PendingReadings(CHANNELS);
        for (long t = 0; t < 10 * PendingReadings.INITIAL_CAPACITY; t++) {
            add(q, t);
        }
        assertTrue(q.times.length >= 10 * PendingReadings.INITIAL_CAPACITY);
        drain(q);
        assertEquals(PendingReadings.INITIAL_CAPACITY, q.times.length);
        assertEquals(0, q.head);
    }

    @Test
    void takenReadingsDoNotKeepTheirLabels() {
        PendingReadings q = new PendingReadings(CHANNELS);
        add(q, 1);
        add(q, 2);
        q.removeFirst();
        assertNull(q.labels[0]);
    }

    /** Flink's POJO serializer (no Kryo: generic types off) round-trips a queue mid-use. */
    @Test
    void isAFlinkPojoThatRoundTripsWithoutKryo() throws Exception {
        TypeInformation<PendingReadings> info = TypeInformation.of(PendingReadings.class);
        assertInstanceOf(PojoTypeInfo.class, info);
        SerializerConfigImpl config = new SerializerConfigImpl();
        config.setGenericTypes(false);
        TypeSerializer<PendingReadings> serializer = info.createSerializer(config);

        PendingReadings q = new PendingReadings(CHANNELS);
        for (long t : new long[] {30, 10, 20, 50, 40}) {
            add(q, t);
        }
        q.removeFirst();
        DataOutputSerializer out = new DataOutputSerializer(256);
        serializer.serialize(q, out);
        PendingReadings back = serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        PendingReadings copy = serializer.copy(q);
        assertEquals(List.of(20L, 30L, 40L, 50L), drain(back));
        assertEquals(List.of(20L, 30L, 40L, 50L), drain(copy));
        assertEquals(List.of(20L, 30L, 40L, 50L), drain(q), "the copy shares nothing with the original");
    }

    @Test
    void windowBufferIsAFlinkPojoToo() {
        SerializerConfigImpl config = new SerializerConfigImpl();
        config.setGenericTypes(false);
        TypeInformation<WindowBuffer> info = TypeInformation.of(WindowBuffer.class);
        assertInstanceOf(PojoTypeInfo.class, info);
        info.createSerializer(config); // throws when a field would need Kryo
    }
}
