package io.exitflow.jobs.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.schemas.FeatureEvent;
import io.exitflow.schemas.SensorReading;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a user's recordings from an Avro container file, what is refused, and how they are replayed. */
class ReadingsReplayTest {
    @TempDir
    Path dir;

    static SensorReading reading(String id, long time, String label, float... values) {
        List<Float> v = new ArrayList<>();
        for (float x : values) {
            v.add(x);
        }
        return SensorReading.newBuilder()
                .setSensorId(id)
                .setEventTime(Instant.ofEpochMilli(time))
                .setValues(v)
                .setLabel(label)
                .setSeverity(null)
                .build();
    }

    static Path write(Path file, List<SensorReading> readings) throws IOException {
        try (DataFileWriter<SensorReading> w = new DataFileWriter<>(new SpecificDatumWriter<>(SensorReading.class))) {
            w.create(SensorReading.getClassSchema(), file.toFile());
            for (SensorReading r : readings) {
                w.append(r);
            }
        }
        return file;
    }

    /** Two recordings of different lengths and start times, 100 ms apart inside each (10 Hz), two channels. */
    private Path twoRecordings() throws IOException {
        List<SensorReading> rs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            rs.add(reading("walk-1", 5_000_000 + 100L * i, "Walking", i, 10 + i));
        }
        for (int i = 0; i < 5; i++) {
            rs.add(reading("run-7", 9_000_000 + 100L * i, "Running", 100 + i, 200 + i));
        }
        return write(dir.resolve("r.avro"), rs);
    }

    @Test
    void readsRecordingsInFileOrderWithTheirLabelsAndChannels() throws Exception {
        RecordedReadings r = RecordedReadings.load(twoRecordings());
        assertEquals(8, r.readings());
        assertEquals(2, r.channels());
        assertEquals(
                List.of("walk-1", "run-7"),
                r.recordings().stream()
                        .map(RecordedReadings.Recording::sensorId)
                        .toList());
        assertEquals(List.of("Running", "Walking"), r.labels());
        assertEquals(5_000_000, r.earliestStartMillis());
        assertEquals(100, r.recordings().get(1).meanPeriodMillis());
    }

    @Test
    void rebasesEveryRecordingToTheStartAndSendsThemInTurnsUntilAllEnd() throws Exception {
        ReadingsReplay replay = RecordedReadings.load(twoRecordings()).replay(1_000L, false);
        List<String> order = new ArrayList<>();
        List<SensorReading> sent = new ArrayList<>();
        for (SensorReading x = replay.next(); x != null; x = replay.next()) {
            order.add(x.getSensorId() + "@" + x.getEventTime().toEpochMilli());
            sent.add(x);
        }
        // In turns while both last; the longer one goes on alone; times rebased, steps kept.
        assertEquals(
                List.of(
                        "walk-1@1000",
                        "run-7@1000",
                        "walk-1@1100",
                        "run-7@1100",
                        "walk-1@1200",
                        "run-7@1200",
                        "run-7@1300",
                        "run-7@1400"),
                order);
        assertTrue(replay.finished());
        assertNull(replay.next());
        SensorReading run3 = sent.get(6);
        assertEquals(List.of(103f, 203f), run3.getValues());
        assertEquals("Running", run3.getLabel());
        assertEquals("Walking", sent.get(0).getLabel());
    }

    @Test
    void aLoopStartsEachRecordingAgainAsANewPassUnderItsOwnId() throws Exception {
        ReadingsReplay replay = RecordedReadings.load(twoRecordings()).replay(0L, true);
        List<String> walk = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            SensorReading x = replay.next();
            if (x.getSensorId().startsWith("walk-1")) {
                walk.add(x.getSensorId() + "@" + x.getEventTime().toEpochMilli());
            }
        }
        // Pass 1 starts one period after pass 0's last reading; values and labels repeat.
        assertEquals(
                List.of(
                        "walk-1@0",
                        "walk-1@100",
                        "walk-1@200",
                        "walk-1#1@300",
                        "walk-1#1@400",
                        "walk-1#1@500",
                        "walk-1#2@600"),
                walk.subList(0, 7));
        assertFalse(replay.finished());
    }

    @Test
    void refusesAFileThatIsNotAnAvroContainerNamingIt() throws Exception {
        Path csv = Files.writeString(dir.resolve("readings.csv"), "id,time,x\na,1,2\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RecordedReadings.load(csv));
        assertTrue(e.getMessage().contains(csv.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("not an Avro container file of SensorReading"), e.getMessage());
        assertTrue(e.getMessage().contains("./exitflow convert-readings"), e.getMessage());
    }

    @Test
    void refusesAContainerOfAnotherSchema() throws Exception {
        Path file = dir.resolve("features.avro");
        try (DataFileWriter<FeatureEvent> w = new DataFileWriter<>(new SpecificDatumWriter<>(FeatureEvent.class))) {
            w.create(FeatureEvent.getClassSchema(), file.toFile());
            w.append(FeatureEvent.newBuilder()
                    .setEventId("e")
                    .setKey("k")
                    .setEventTime(Instant.EPOCH)
                    .setFeatures(List.of(1f))
                    .setLabel(null)
                    .build());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RecordedReadings.load(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("FeatureEvent"), e.getMessage());
    }

    @Test
    void refusesAMissingOrEmptyFile() throws Exception {
        Path missing = dir.resolve("nope.avro");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RecordedReadings.load(missing))
                .getMessage()
                .contains("does not exist"));
        Path empty = write(dir.resolve("empty.avro"), List.of());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RecordedReadings.load(empty))
                .getMessage()
                .contains("holds no readings"));
    }

    @Test
    void refusesATruncatedFile() throws Exception {
        List<SensorReading> rs = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            rs.add(reading("a", i, "x", i, i, i, i));
        }
        Path full = write(dir.resolve("full.avro"), rs);
        byte[] bytes = Files.readAllBytes(full);
        Path cut = Files.write(dir.resolve("cut.avro"), java.util.Arrays.copyOf(bytes, bytes.length - 500));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RecordedReadings.load(cut));
        assertTrue(e.getMessage().contains(cut.toString()), e.getMessage());
    }

    @Test
    void refusesReadingsTheJobCouldNotUseNamingRecordingAndReading() throws Exception {
        assertRefused(
                List.of(reading("a", 1, "x", 1, 2), reading("a", 2, "x", 1, 2, 3)),
                "reading 1 (recording 'a')",
                "3 values");
        assertRefused(List.of(reading("a", 1, "x", 1, Float.NaN)), "reading 0 (recording 'a')", "channel 1 is NaN");
        assertRefused(
                List.of(reading("a", 5, "x", 1), reading("b", 1, "x", 1), reading("a", 5, "x", 1)),
                "reading 2 (recording 'a')",
                "must increase");
        assertRefused(List.of(reading("", 5, "x", 1)), "reading 0", "sensor id is empty");
        assertRefused(List.of(reading("a", 5, "x")), "reading 0", "no values");
    }

    private void assertRefused(List<SensorReading> rs, String where, String what) throws IOException {
        Path file = write(Files.createTempFile(dir, "bad", ".avro"), rs);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RecordedReadings.load(file));
        assertTrue(
                e.getMessage().contains(file.toString())
                        && e.getMessage().contains(where)
                        && e.getMessage().contains(what),
                e.getMessage());
    }

    @Test
    void theCommandLineTakesReadingsAndRefusesGeneratorFlagsWithThem() throws Exception {
        Path file = twoRecordings();
        StreamSimulator.Settings s = StreamSimulator.parse(
                new String[] {"--bootstrap-servers", "b:9092", "--readings", file.toString(), "--loop", "on"});
        s.validate();
        assertEquals(8, s.readings.readings());
        assertTrue(s.loop);
        assertEquals(5_000_000, s.startMillis(), "dataset start: the file's earliest time");
        assertEquals(42, s.startTime("42").startMillis());

        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> StreamSimulator.parse(
                        new String[] {"--bootstrap-servers", "b:9092", "--readings", file.toString(), "--sensors", "4"
                        }));
        assertTrue(e.getMessage().contains("--sensors"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> StreamSimulator.parse(new String[] {"--bootstrap-servers", "b:9092", "--loop", "on"})
                        .validate());
        assertTrue(e.getMessage().contains("--readings"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> StreamSimulator.parse(
                        new String[] {"--bootstrap-servers", "b:9092", "--readings", file.toString(), "--loop", "yes"
                        }));
        assertTrue(e.getMessage().contains("on or off"), e.getMessage());
    }
}
