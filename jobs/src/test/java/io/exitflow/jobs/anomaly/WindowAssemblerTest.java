package io.exitflow.jobs.anomaly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.data.SensorSignalGenerator;
import io.exitflow.data.SensorWindow;
import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.jobs.common.DeadLetters;
import io.exitflow.runtime.record.InferenceRequest;
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

    /**
     * Size 4, slide 2, 2 channels, readings every 10 ms; gaps above 25 ms; 100 ms allowed lateness; up to 1000
     * readings of a sensor wait for the watermark.
     */
    private static final WindowSpec SMALL = new WindowSpec(4, 2, 2, 10, 25, 100, 1000);

    private static KeyedOneInputStreamOperatorTestHarness<String, PositionedReading, InferenceRequest> harness(
            WindowSpec spec) throws Exception {
        return harness(new WindowAssembler(spec, TOPIC));
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, PositionedReading, InferenceRequest> harness(
            WindowAssembler assembler) throws Exception {
        return ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                assembler, PositionedReading::sensorId, Types.STRING);
    }

    /**
     * Reading i of a sensor at time 10*i with values (i, 100+i) and label "l<i>", read from partition 3 at offset
     * 1000 + i.
     */
    private static PositionedReading reading(String sensor, int i) {
        return reading(sensor, 10L * i, i);
    }

    private static PositionedReading reading(String sensor, long time, int i) {
        return new PositionedReading(
                SensorReading.newBuilder()
                        .setSensorId(sensor)
                        .setEventTime(Instant.ofEpochMilli(time))
                        .setValues(List.of((float) i, 100f + i))
                        .setLabel("l" + i)
                        .setSeverity(null)
                        .build(),
                3,
                1000L + i);
    }

    private static void send(
            KeyedOneInputStreamOperatorTestHarness<String, PositionedReading, InferenceRequest> h, PositionedReading r)
            throws Exception {
        h.processElement(r, r.reading().getEventTime().toEpochMilli());
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

    private static List<DeadLetter> deadLetters(
            KeyedOneInputStreamOperatorTestHarness<String, PositionedReading, InferenceRequest> h) {
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
        assertTrue(
                dead.get(0).getReason().startsWith("late: event time 30 is 170 ms behind"),
                dead.get(0).getReason());
        assertTrue(
                dead.get(1).getReason().contains("not after the sensor's last used reading 120"),
                dead.get(1).getReason());
        int[] sentAs = {3, 9}; // reading 3 was sent as reading(s, 3), the later one as reading(s, 110, 9)
        for (int k = 0; k < dead.size(); k++) {
            DeadLetter d = dead.get(k);
            assertEquals(TOPIC, d.getSourceTopic());
            // Where the reading was read, so it can be replayed from Kafka.
            assertEquals(3, d.getPartition());
            assertEquals(1000L + sentAs[k], d.getOffset());
            // The payload is the reading itself, so nothing is lost.
            SensorReading back =
                    AvroCodec.of(SensorReading.class).decode(d.getPayload().array());
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
        assertTrue(
                dead.get(0).getReason().contains("duplicate event time 0"),
                dead.get(0).getReason());
        assertEquals(3, dead.get(0).getPartition());
        assertEquals(1000L, dead.get(0).getOffset());
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
                new KeyedProcessOperator<>(new WindowAssembler(SMALL, TOPIC)),
                PositionedReading::sensorId,
                Types.STRING);
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
        assertTrue(
                dead.get(0).getReason().contains("duplicate event time 200"),
                dead.get(0).getReason());
        restored.close();
    }

    @Test
    void cutsTheSameWindowsAsTheDatasetDefinition() throws Exception {
        // The contract: the job and the toolkit cut identical windows from the same records (SensorWindow).
        WindowSpec spec = new WindowSpec(128, 32, 3, 10, WindowSpec.defaultMaxGapMillis(10), 0, 256);
        SensorSignalGenerator gen = new SensorSignalGenerator("m-1", 11, 1_000_000L);
        List<SensorReading> readings = new ArrayList<>();
        var h = harness(spec);
        for (int i = 0; i < 400; i++) {
            SensorReading r = gen.next();
            readings.add(r);
            send(h, new PositionedReading(r, 0, i));
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

    // --- the cap on readings waiting for the watermark (issue 14 item 6) --------------------------------------

    /** SMALL with at most {@code cap} readings of a sensor waiting. */
    private static WindowSpec capped(int cap) {
        return new WindowSpec(4, 2, 2, 10, 25, 100, cap);
    }

    @Test
    void waitingReadingsAreCappedPerSensorAndTheSensorMovesOnByItsOwnClock() throws Exception {
        // The watermark never comes (a partition read far ahead of another holds it back): without the cap all 500
        // readings would wait in state. With 8, the earliest is used as each new one arrives past the cap.
        WindowAssembler assembler = new WindowAssembler(capped(8), TOPIC);
        var h = harness(assembler);
        for (int i = 0; i < 500; i++) {
            send(h, reading("fast", i));
        }
        assertEquals(8, assembler.count("waitingReadingsHighWater"), "never more than the cap wait");
        assertEquals(492, assembler.count("readingsReleasedEarly"));
        // Readings 0..491 are used, in order: the windows they make are exactly those of the in-order cut.
        assertWindowsUpTo(491, h.extractOutputValues());
        assertTrue(deadLetters(h).isEmpty(), "nothing is lost");
        // The warning names the sensor and the setting, once (rate-limited), however many readings pass the cap.
        assertEquals(1, assembler.releasedEarlyWarning().logged());
        String warning = assembler.releasedEarlyWarning().lastMessage();
        assertTrue(warning.contains("sensor fast") && warning.contains("--max-waiting-readings 8"), warning);

        // When the watermark comes, the waiting rest follows through the sensor's timer.
        h.processWatermark(100_000);
        assertWindowsUpTo(499, h.extractOutputValues());
        assertTrue(deadLetters(h).isEmpty());
        h.close();
    }

    @Test
    void theCapKeepsOrderWithinWhatWaitsAndDeadLettersWhatComesOlderThanAReadingUsedEarly() throws Exception {
        WindowAssembler assembler = new WindowAssembler(capped(6), TOPIC);
        var h = harness(assembler);
        // Out of order by up to 2 readings (well within the cap's span): still used in time order.
        for (int block = 0; block < 20; block++) {
            for (int i : new int[] {2, 0, 1}) {
                send(h, reading("s", 3 * block + i));
            }
        }
        // 60 sent, 6 wait: readings 0..53 used, in order.
        assertWindowsUpTo(53, h.extractOutputValues());
        assertTrue(deadLetters(h).isEmpty());
        // Reading 50 again, with another value: older than reading 53, which was used before the watermark came.
        send(h, reading("s", 500, 77));
        send(h, reading("s", 50)); // a duplicate time of a reading used early is late too
        List<DeadLetter> dead = deadLetters(h);
        assertEquals(2, dead.size());
        for (DeadLetter d : dead) {
            assertTrue(
                    d.getReason().startsWith("late: event time ")
                            && d.getReason().contains("--max-waiting-readings")
                            && d.getReason().contains("more than 6 readings"),
                    d.getReason());
            assertEquals(3, d.getPartition());
        }
        assertEquals(1077L, dead.get(0).getOffset());
        assertEquals(1050L, dead.get(1).getOffset());
        assertEquals(2, assembler.count("lateReadings"));

        // A watermark behind the readings used early: its timer finds nothing to release and waits on.
        h.processWatermark(100);
        assertWindowsUpTo(53, h.extractOutputValues());
        // Behind that watermark, within the allowed lateness, but older than a reading used early: late.
        send(h, reading("s", 90, 9));
        assertEquals(3, deadLetters(h).size());
        assertTrue(
                deadLetters(h).get(2).getReason().contains("--max-waiting-readings"),
                deadLetters(h).get(2).getReason());
        // The watermark passes everything: the six that waited are used, the sensor's timer still fires.
        h.processWatermark(10_000);
        assertWindowsUpTo(59, h.extractOutputValues());
        h.close();
    }

    @Test
    void theCapIsPerSensorAndSurvivesRestore() throws Exception {
        WindowAssembler assembler = new WindowAssembler(capped(10), TOPIC);
        var h = harness(assembler);
        for (int i = 0; i < 30; i++) {
            send(h, reading("a", i));
            if (i < 8) {
                send(h, reading("b", 10L * i, 50 + i)); // b stays under the cap: all of it waits
            }
        }
        assertEquals(20, assembler.count("readingsReleasedEarly"), "only a's readings pass its cap");
        assertTrue(h.extractOutputValues().stream().allMatch(w -> w.key.equals("a")));
        OperatorSubtaskState snapshot = h.snapshot(1, 1);
        h.close();

        WindowAssembler again = new WindowAssembler(capped(10), TOPIC);
        var restored = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(again), PositionedReading::sensorId, Types.STRING);
        restored.initializeState(snapshot);
        restored.open();
        send(restored, reading("a", 15)); // used early before the snapshot: still known to be late
        assertEquals(1, deadLetters(restored).size());
        restored.processWatermark(1_000);
        List<InferenceRequest> out = restored.extractOutputValues();
        assertEquals(
                List.of("a@210", "a@230", "a@250", "a@270", "a@290", "b@30", "b@50", "b@70"),
                out.stream().map(w -> w.eventId).sorted().toList());
        restored.close();
    }

    @Test
    void defaultCapCoversTheWatermarksBoundAndTheAlignmentDrift() {
        // sensor-cnn: 128-reading windows every 10 ms, 200 ms out of orderness, 1 s drift: 2 x 120 readings < 2
        // windows, so two windows' worth.
        assertEquals(256, WindowSpec.defaultMaxWaitingReadings(128, 10, 200, 1000));
        // a slow sensor: still two windows' worth
        assertEquals(128, WindowSpec.defaultMaxWaitingReadings(64, 31.25, 200, 1000));
        // a fast one: 2 x (200 + 1000) ms at 1 ms
        assertEquals(2400, WindowSpec.defaultMaxWaitingReadings(128, 1, 200, 1000));
        assertEquals(2 * 128, WindowSpec.defaultMaxWaitingReadings(128, 0.5, 0, 0));
    }

    // --- gaps: the default max gap and a sensor whose windows keep restarting (issue 9 item 6) ----------------

    @Test
    void defaultMaxGapIsThreePeriodsPlusJitter() {
        assertEquals(32, WindowSpec.defaultMaxGapMillis(10)); // 30 + 2 ms
        assertEquals(97, WindowSpec.defaultMaxGapMillis(31.25)); // 93.75 + 3.125, rounded up
        assertEquals(310, WindowSpec.defaultMaxGapMillis(100)); // 300 + a tenth of a period
        assertEquals(5, WindowSpec.defaultMaxGapMillis(1)); // 3 + 2 ms
    }

    /** Readings of one sensor at the given times (values i, 100+i). */
    private static void sendAt(
            KeyedOneInputStreamOperatorTestHarness<String, PositionedReading, InferenceRequest> h,
            String sensor,
            long[] times)
            throws Exception {
        for (int i = 0; i < times.length; i++) {
            send(h, reading(sensor, times[i], i));
        }
    }

    @Test
    void aRealFractionalPeriodWithJitterAndADroppedSampleMakesWindowsUnderTheDefaultGap() throws Exception {
        // 32 Hz: 31.25 ms, stamped in whole ms (steps of 31 and 32), a few ms of jitter, and one dropped sample.
        int n = 200;
        long[] times = new long[n];
        Random random = new Random(5);
        for (int i = 0; i < n; i++) {
            int k = i < 100 ? i : i + 1; // sample 100 dropped
            times[i] = Math.round(k * 31.25) + random.nextInt(5) - 2;
        }
        WindowSpec spec = new WindowSpec(4, 2, 2, 31.25, WindowSpec.defaultMaxGapMillis(31.25), 100, 1000);
        WindowAssembler assembler = new WindowAssembler(spec, TOPIC);
        var h = harness(assembler);
        sendAt(h, "watch", times);
        h.processWatermark(Long.MAX_VALUE);
        assertEquals(0, assembler.count("windowResets"));
        assertEquals((n - 4) / 2 + 1, h.extractOutputValues().size());
        h.close();
    }

    @Test
    void aSensorWhoseWindowKeepsRestartingIsCountedAndWarnedWithTheGapAndTheSetting() throws Exception {
        // The issue's case: a bundle that says 10 ms (max gap 32 ms by default), readings 33-34 ms apart.
        WindowSpec spec = new WindowSpec(4, 2, 2, 10, WindowSpec.defaultMaxGapMillis(10), 100, 1000);
        WindowAssembler assembler = new WindowAssembler(spec, TOPIC);
        var h = harness(assembler);
        long[] times = new long[100];
        for (int i = 0; i < times.length; i++) {
            times[i] = i * 34L + i % 2; // steps of 35 and 33 ms
        }
        sendAt(h, "wrist-7", times);
        h.processWatermark(times[times.length - 1]);
        assertTrue(h.extractOutputValues().isEmpty(), "no window: every reading restarts the window");
        assertEquals(99, assembler.count("windowResets"));
        assertEquals(99, assembler.count("readingsInNoWindow"), "every reading but the newest was dropped");
        assertEquals(1, assembler.count("sensorsWithoutWindows"));
        // Shown: the sensor, the steps seen, the setting to change; once per interval however long it lasts.
        assertEquals(1, assembler.noWindowWarning().logged());
        String warning = assembler.noWindowWarning().lastMessage();
        for (String part : new String[] {
            "sensor wrist-7", "none made a window", "up to 35 ms", "--max-gap-ms 32 ms", "sample period is 10 ms"
        }) {
            assertTrue(warning.contains(part), "'" + part + "' in: " + warning);
        }

        // Once readings come at the bundle's period again, windows flow and the count starts afresh.
        long t = times[times.length - 1];
        for (int i = 0; i < 4; i++) {
            send(h, reading("wrist-7", t += 10, i));
        }
        h.processWatermark(Long.MAX_VALUE);
        assertEquals(1, h.extractOutputValues().size());
        h.close();
    }

    @Test
    void aSingleRealGapIsNotASensorWithoutWindows() throws Exception {
        WindowAssembler assembler = new WindowAssembler(SMALL, TOPIC);
        var h = harness(assembler);
        for (int i = 0; i < 7; i++) {
            send(h, reading("s", i));
        }
        for (int i = 100; i < 110; i++) { // the sensor was off for a second
            send(h, reading("s", i));
        }
        h.processWatermark(Long.MAX_VALUE);
        assertEquals(1, assembler.count("windowResets"));
        assertEquals(1, assembler.count("readingsInNoWindow"), "reading 6 came after the last window (2..5)");
        assertEquals(0, assembler.count("sensorsWithoutWindows"));
        assertEquals(0, assembler.noWindowWarning().logged());
        h.close();
    }
}
