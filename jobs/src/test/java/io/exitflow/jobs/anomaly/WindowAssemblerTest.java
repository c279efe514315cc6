package io.exitflow.jobs.anomaly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.data.SensorSignalGenerator;
import io.exitflow.data.SensorWindow;
import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.jobs.common.DeadLetters;
import io.exitflow.runtime.api.InferenceRequest;
import io.exitflow.schemas.DeadLetter;
import io.exitflow.schemas.SensorReading;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

class WindowAssemblerTest {
    private static final String TOPIC = "readings";

    /** Size 4, slide 2, 2 channels, readings every 10 ms; gaps above 25 ms; 100 ms allowed lateness. */
    private static final WindowSpec SMALL = new WindowSpec(4, 2, 2, 25, 100);

    private static KeyedOneInputStreamOperatorTestHarness<String, SensorReading, InferenceRequest> harness(WindowSpec spec)
            throws Exception {
        return ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                new WindowAssembler(spec, TOPIC), SensorReading::getSensorId, Types.STRING);
    }

    /** Reading i of a sensor at time 10*i with values (i, 100+i) and label "l<i>". */
    private static SensorReading reading(String sensor, int i) {
        return reading(sensor, 10L * i, i);
    }

    private static SensorReading reading(String sensor, long time, int i) {
        return SensorReading.newBuilder().setSensorId(sensor).setEventTime(Instant.ofEpochMilli(time))
                .setValues(List.of((float) i, 100f + i)).setLabel("l" + i).setSeverity(null).build();
    }

    private static void send(KeyedOneInputStreamOperatorTestHarness<String, SensorReading, InferenceRequest> h,
            SensorReading r) throws Exception {
        h.processElement(r, r.getEventTime().toEpochMilli());
    }

    /** Channels-first window of readings first..first+3 as built by {@link #reading(String, int)}. */
    private static float[] expectedWindow(int first) {
        float[] w = new float[8];
        for (int t = 0; t < 4; t++) {
            w[t] = first + t;
            w[4 + t] = 100f + first + t;
        }
        return w;
    }

    private static List<DeadLetter> deadLetters(KeyedOneInputStreamOperatorTestHarness<String, SensorReading, InferenceRequest> h) {
        List<DeadLetter> out = new ArrayList<>();
        if (h.getSideOutput(DeadLetters.TAG) != null) {
            for (StreamRecord<DeadLetter> r : h.getSideOutput(DeadLetters.TAG)) {
                out.add(r.getValue());
            }
        }
        return out;
    }

    @Test
    void emitsSlidingWindowsChannelsFirstLabelledByTheLastReading() throws Exception {
        var h = harness(SMALL);
        for (int i = 0; i < 9; i++) {
            send(h, reading("s1", i));
        }
        assertTrue(h.extractOutputValues().isEmpty(), "nothing is released before the watermark passes");
        h.processWatermark(80);

        List<InferenceRequest> out = h.extractOutputValues();
        // Windows end at readings 3, 5, 7 (size 4, slide 2); reading 8 is the first of a window not yet full.
        assertEquals(3, out.size());
        int[] firsts = {0, 2, 4};
        for (int k = 0; k < 3; k++) {
            InferenceRequest w = out.get(k);
            int last = firsts[k] + 3;
            assertArrayEquals(expectedWindow(firsts[k]), w.input);
            assertEquals("s1", w.key);
            assertEquals(10L * last, w.eventTime);
            assertEquals("s1@" + (10L * last), w.eventId);
            assertEquals("l" + last, w.label);
        }
        assertTrue(deadLetters(h).isEmpty());
        h.close();
    }

    @Test
    void keepsSensorsApart() throws Exception {
        var h = harness(SMALL);
        for (int i = 0; i < 4; i++) {
            send(h, reading("a", i));
            send(h, reading("b", 10L * i, 50 + i));
        }
        h.processWatermark(30);
        List<InferenceRequest> out = h.extractOutputValues();
        assertEquals(2, out.size());
        for (InferenceRequest w : out) {
            assertArrayEquals(expectedWindow(w.key.equals("a") ? 0 : 50), w.input, w.key);
        }
        h.close();
    }

    @Test
    void reordersReadingsThatArriveOutOfOrderAheadOfTheWatermark() throws Exception {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(3));
        var h = harness(SMALL);
        for (int i : order) {
            send(h, reading("s", i));
        }
        h.processWatermark(110);
        List<InferenceRequest> out = h.extractOutputValues();
        assertEquals(5, out.size(), "windows ending at readings 3, 5, 7, 9, 11");
        for (int k = 0; k < out.size(); k++) {
            assertArrayEquals(expectedWindow(2 * k), out.get(k).input, "window " + k);
        }
        assertTrue(deadLetters(h).isEmpty());
        h.close();
    }

    @Test
    void usesLateReadingsWithinTheAllowedLatenessAndDeadLettersTheRest() throws Exception {
        var h = harness(SMALL);
        for (int i = 0; i < 3; i++) {
            send(h, reading("s", i)); // 0, 10, 20
        }
        h.processWatermark(200); // the three are released; the sensor's last used reading is at 20

        send(h, reading("s", 3)); // t=30: 170 ms behind the watermark, beyond the 100 ms allowed
        send(h, reading("s", 120, 3)); // t=120: 80 ms behind, newer than 20, within 100 ms, and no gap? 100 > 25: gap
        send(h, reading("s", 110, 9)); // t=110: older than the reading just used
        h.processWatermark(300);

        List<DeadLetter> dead = deadLetters(h);
        assertEquals(2, dead.size());
        assertTrue(dead.get(0).getReason().startsWith("late: event time 30 is 170 ms behind"), dead.get(0).getReason());
        assertTrue(dead.get(1).getReason().contains("not after the sensor's last used reading 120"),
                dead.get(1).getReason());
        for (DeadLetter d : dead) {
            assertEquals(TOPIC, d.getSourceTopic());
            assertEquals(-1, d.getPartition());
            // The payload is the reading itself, so nothing is lost.
            SensorReading back = AvroCodec.of(SensorReading.class).decode(d.getPayload().array());
            assertEquals("s", back.getSensorId());
        }
        assertEquals(Long.valueOf(30), Long.valueOf(dead.get(0).getTimestampMillis()));
        h.close();
    }

    @Test
    void lateReadingWithinAllowedLatenessCompletesTheWindow() throws Exception {
        var h = harness(SMALL);
        for (int i = 0; i < 3; i++) {
            send(h, reading("s", i));
        }
        h.processWatermark(90); // 0..20 used; reading 3 (t=30) is now 60 ms behind the watermark
        send(h, reading("s", 3));
        List<InferenceRequest> out = h.extractOutputValues();
        assertEquals(1, out.size());
        assertArrayEquals(expectedWindow(0), out.get(0).input);
        assertTrue(deadLetters(h).isEmpty());
        h.close();
    }

    @Test
    void aGapRestartsTheWindow() throws Exception {
        var h = harness(SMALL);
        for (int i = 0; i < 5; i++) {
            send(h, reading("s", i)); // 0..40: one window (0..3)
        }
        // Readings 5 and 6 are missing: 40 -> 70 is a 30 ms step, above the 25 ms gap limit.
        for (int i = 7; i < 12; i++) {
            send(h, reading("s", i));
        }
        h.processWatermark(1000);
        List<InferenceRequest> out = h.extractOutputValues();
        assertEquals(2, out.size());
        assertArrayEquals(expectedWindow(0), out.get(0).input);
        // After the gap the window restarts at reading 7: first window 7..10 (reading 4 is not mixed in).
        assertArrayEquals(expectedWindow(7), out.get(1).input);
        assertEquals(100L, out.get(1).eventTime);
        h.close();
    }

    @Test
    void duplicateTimeIsDeadLettered() throws Exception {
        var h = harness(SMALL);
        send(h, reading("s", 0));
        send(h, reading("s", 0));
        h.processWatermark(100);
        List<DeadLetter> dead = deadLetters(h);
        assertEquals(1, dead.size());
        assertTrue(dead.get(0).getReason().contains("duplicate event time 0"), dead.get(0).getReason());
        h.close();
    }

    /** Readings 0..n-1 of sensor s in a shuffled order (seeded). */
    private static List<Integer> shuffled(int n, long seed) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(seed));
        return order;
    }

    /** Windows (size 4, slide 2) ending at readings 3, 5, ..., up to reading last. */
    private static void assertWindowsUpTo(int last, List<InferenceRequest> out) {
        assertEquals((last - 3) / 2 + 1, out.size());
        for (int k = 0; k < out.size(); k++) {
            assertArrayEquals(expectedWindow(2 * k), out.get(k).input, "window " + k);
            assertEquals(10L * (2 * k + 3), out.get(k).eventTime);
        }
    }

    @Test
    void releasesWaitingReadingsStepByStepAsTheWatermarkAdvances() throws Exception {
        var h = harness(SMALL);
        for (int i : shuffled(200, 8)) { // more than the waiting queue's initial capacity, out of order
            send(h, reading("s", i));
        }
        // Each step releases the readings the watermark passed (and only those); the sensor's timer moves on.
        for (long wm = 5; wm <= 2000; wm += 37) {
            h.processWatermark(wm);
            List<InferenceRequest> out = h.extractOutputValues();
            int used = (int) Math.min(199, wm / 10);
            if (used >= 3) {
                assertWindowsUpTo(used % 2 == 0 ? used - 1 : used, out);
            } else {
                assertTrue(out.isEmpty());
            }
        }
        assertTrue(deadLetters(h).isEmpty());
        h.close();
    }

    @Test
    void aReadingJustBehindTheWatermarkGoesBeforeTheWaitingOnes() throws Exception {
        var h = harness(SMALL);
        send(h, reading("s", 0));
        send(h, reading("s", 5)); // waits
        h.processWatermark(15); // releases reading 0; reading 5 (t=50) still waits
        send(h, reading("s", 1)); // t=10: 5 ms behind the watermark, used now
        for (int i = 2; i < 5; i++) {
            send(h, reading("s", i)); // t=20..40, ahead of the watermark: wait, in order before reading 5
        }
        h.processWatermark(60);
        assertWindowsUpTo(5, h.extractOutputValues());
        assertTrue(deadLetters(h).isEmpty());
        h.close();
    }

    @Test
    void waitingReadingsAndThePartWindowSurviveSnapshotAndRestore() throws Exception {
        var h = harness(SMALL);
        for (int i : shuffled(30, 4)) {
            send(h, reading("s", i));
        }
        h.processWatermark(65); // readings 0..6 used (window 0..3 and 2..5 out), 7..29 wait
        assertWindowsUpTo(5, h.extractOutputValues());
        OperatorSubtaskState snapshot = h.snapshot(1, 1);
        h.close();

        var restored = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new WindowAssembler(SMALL, TOPIC)), SensorReading::getSensorId, Types.STRING);
        restored.initializeState(snapshot);
        restored.open();
        send(restored, reading("s", 20)); // a duplicate of a waiting reading
        restored.processWatermark(1000);
        List<InferenceRequest> out = restored.extractOutputValues();
        assertEquals(14 - 2, out.size(), "windows ending at readings 7, 9, ..., 29");
        for (int k = 0; k < out.size(); k++) {
            assertArrayEquals(expectedWindow(2 * (k + 2)), out.get(k).input, "window " + (k + 2));
        }
        List<DeadLetter> dead = deadLetters(restored);
        assertEquals(1, dead.size());
        assertTrue(dead.get(0).getReason().contains("duplicate event time 200"), dead.get(0).getReason());
        restored.close();
    }

    @Test
    void cutsTheSameWindowsAsTheDatasetDefinition() throws Exception {
        // The contract: the job and the toolkit cut identical windows from the same records (SensorWindow).
        WindowSpec spec = new WindowSpec(128, 32, 3, 30, 0);
        SensorSignalGenerator gen = new SensorSignalGenerator("m-1", 11, 1_000_000L);
        List<SensorReading> readings = new ArrayList<>();
        var h = harness(spec);
        for (int i = 0; i < 400; i++) {
            SensorReading r = gen.next();
            readings.add(r);
            send(h, r);
        }
        h.processWatermark(Long.MAX_VALUE);
        List<InferenceRequest> out = h.extractOutputValues();
        int expected = (400 - 128) / 32 + 1;
        assertEquals(expected, out.size());
        for (int k = 0; k < expected; k++) {
            SensorWindow w = SensorWindow.of(readings, 32 * k, 128);
            assertArrayEquals(w.channelsFirst(), out.get(k).input, "window " + k);
            assertEquals(w.label(), out.get(k).label);
            assertEquals(w.endTimeMillis(), out.get(k).eventTime);
        }
        h.close();
    }
}
