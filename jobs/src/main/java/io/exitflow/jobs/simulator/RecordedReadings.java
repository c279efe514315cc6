package io.exitflow.jobs.simulator;

import io.exitflow.schemas.SensorReading;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;

/**
 * A user's recordings, read from an Avro container file of {@link SensorReading} (what
 * {@code ./exitflow convert-readings} writes from CSV or Parquet): one recording per sensor id, in the order their
 * first readings appear, each kept compactly (times, values, labels) for {@link ReadingsReplay}.
 *
 * <p>The whole file is checked when it is read, so a bad file fails before anything is sent: it must be an Avro
 * container whose schema {@code SensorReading} can read, hold at least one reading, every reading must have the
 * same number of channels and finite values, a non-empty sensor id, and each recording's times must increase.
 * Every error names the file (and the recording and reading where there is one) and what to fix.
 */
public final class RecordedReadings {
    /** One recording: a sensor's readings in file order. */
    public static final class Recording {
        private final String sensorId;
        private final int channels;
        private long[] times = new long[64];
        private float[] values;
        private int[] labels = new int[64]; // index into the label table, -1 for none
        private float[] severities = new float[64]; // NaN for none
        private int size;

        Recording(String sensorId, int channels) {
            this.sensorId = sensorId;
            this.channels = channels;
            this.values = new float[64 * channels];
        }

        void add(long time, List<Float> v, int label, Float severity) {
            if (size == times.length) {
                int n = Math.multiplyExact(size, 2);
                times = Arrays.copyOf(times, n);
                labels = Arrays.copyOf(labels, n);
                severities = Arrays.copyOf(severities, n);
                values = Arrays.copyOf(values, Math.multiplyExact(n, channels));
            }
            times[size] = time;
            for (int c = 0; c < channels; c++) {
                values[size * channels + c] = v.get(c);
            }
            labels[size] = label;
            severities[size] = severity == null ? Float.NaN : severity;
            size++;
        }

        /** The sensor id the recording's readings carry (its Kafka key). */
        public String sensorId() {
            return sensorId;
        }

        /** Number of readings. */
        public int size() {
            return size;
        }

        /** Event time of reading {@code i}, epoch milliseconds as in the file. */
        public long time(int i) {
            return times[i];
        }

        /** Time from the first reading to the last, in milliseconds. */
        public long spanMillis() {
            return times[size - 1] - times[0];
        }

        /**
         * The mean step between readings, rounded to whole milliseconds and at least 1: how far a looping replay
         * places a recording's next pass after its last reading.
         */
        public long meanPeriodMillis() {
            return size < 2 ? 1 : Math.max(1, Math.round((double) spanMillis() / (size - 1)));
        }

        SensorReading reading(int i, String id, long time, List<String> labelTable) {
            List<Float> v = new ArrayList<>(channels);
            for (int c = 0; c < channels; c++) {
                v.add(values[i * channels + c]);
            }
            return SensorReading.newBuilder()
                    .setSensorId(id)
                    .setEventTime(Instant.ofEpochMilli(time))
                    .setValues(v)
                    .setLabel(labels[i] < 0 ? null : labelTable.get(labels[i]))
                    .setSeverity(Float.isNaN(severities[i]) ? null : severities[i])
                    .build();
        }
    }

    private final Path file;
    private final List<Recording> recordings;
    private final List<String> labelTable;
    private final int channels;
    private final long readings;

    private RecordedReadings(
            Path file, List<Recording> recordings, List<String> labelTable, int channels, long readings) {
        this.file = file;
        this.recordings = recordings;
        this.labelTable = labelTable;
        this.channels = channels;
        this.readings = readings;
    }

    /**
     * Reads and checks a whole file.
     *
     * @throws IllegalArgumentException naming the file (and recording and reading) when it is missing, not an
     *     Avro container of {@code SensorReading}, empty, or holds a reading the job could not use
     */
    public static RecordedReadings load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("readings file " + file + " does not exist or is not a file");
        }
        Map<String, Recording> byId = new LinkedHashMap<>();
        Map<String, Integer> labelIndex = new LinkedHashMap<>();
        List<String> labelTable = new ArrayList<>();
        int channels = -1;
        long n = 0;
        DataFileReader<SensorReading> in;
        try {
            in = new DataFileReader<>(file.toFile(), new SpecificDatumReader<>(SensorReading.class));
        } catch (IOException | RuntimeException e) {
            throw notAContainer(file, e.getMessage());
        }
        try (in) {
            Schema writer = in.getSchema();
            SchemaCompatibility.SchemaPairCompatibility compat =
                    SchemaCompatibility.checkReaderWriterCompatibility(SensorReading.getClassSchema(), writer);
            if (compat.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
                throw notAContainer(
                        file,
                        "its schema " + writer.getFullName() + " cannot be read as SensorReading ("
                                + compat.getDescription() + ")");
            }
            SensorReading r = null;
            while (in.hasNext()) {
                try {
                    r = in.next(r);
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException(
                            "readings file " + file + ": reading " + n
                                    + " cannot be decoded (the file is corrupt or truncated): " + e.getMessage(),
                            e);
                }
                String id = r.getSensorId();
                if (id == null || id.isBlank()) {
                    throw new IllegalArgumentException(
                            at(file, n, id) + "the sensor id is empty; every reading needs " + "its recording's id");
                }
                List<Float> v = r.getValues();
                if (channels < 0) {
                    channels = v.size();
                    if (channels == 0) {
                        throw new IllegalArgumentException(at(file, n, id) + "the reading has no values");
                    }
                }
                if (v.size() != channels) {
                    throw new IllegalArgumentException(at(file, n, id) + v.size() + " values, but the file's first "
                            + "reading has " + channels + "; every reading needs one value per channel");
                }
                for (int c = 0; c < channels; c++) {
                    Float x = v.get(c);
                    if (x == null || !Float.isFinite(x)) {
                        throw new IllegalArgumentException(at(file, n, id) + "value of channel " + c + " is " + x
                                + "; fill or drop such readings before replaying");
                    }
                }
                long time = r.getEventTime().toEpochMilli();
                Recording rec = byId.get(id);
                if (rec == null) {
                    rec = new Recording(id, channels);
                    byId.put(id, rec);
                } else if (time <= rec.times[rec.size - 1]) {
                    throw new IllegalArgumentException(at(file, n, id) + "time " + Instant.ofEpochMilli(time)
                            + " is not after the recording's previous reading at "
                            + Instant.ofEpochMilli(rec.times[rec.size - 1]) + "; a recording's times must increase");
                }
                int label = -1;
                if (r.getLabel() != null) {
                    label = labelIndex.computeIfAbsent(r.getLabel(), k -> {
                        labelTable.add(k);
                        return labelTable.size() - 1;
                    });
                }
                rec.add(time, v, label, r.getSeverity());
                n++;
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("readings file " + file + ": cannot read it: " + e.getMessage(), e);
        }
        if (n == 0) {
            throw new IllegalArgumentException("readings file " + file + " holds no readings");
        }
        return new RecordedReadings(file, List.copyOf(byId.values()), labelTable, channels, n);
    }

    private static IllegalArgumentException notAContainer(Path file, String why) {
        return new IllegalArgumentException("readings file " + file + " is not an Avro container file of SensorReading"
                + " (" + why + "); convert CSV or Parquet with ./exitflow convert-readings FILE [column flags]"
                + " --out readings.avro");
    }

    private static String at(Path file, long n, String id) {
        return "readings file " + file + ", reading " + n + " (recording '" + id + "'): ";
    }

    /** The file read. */
    public Path file() {
        return file;
    }

    /** Recordings in the order their first readings appear in the file. */
    public List<Recording> recordings() {
        return Collections.unmodifiableList(recordings);
    }

    /** Values per reading (the same for every reading of the file). */
    public int channels() {
        return channels;
    }

    /** Readings in the file. */
    public long readings() {
        return readings;
    }

    /** The distinct labels of the file's readings, sorted. */
    public List<String> labels() {
        return List.copyOf(new TreeSet<>(labelTable));
    }

    /** The earliest first-reading time of any recording, epoch milliseconds. */
    public long earliestStartMillis() {
        long t = Long.MAX_VALUE;
        for (Recording r : recordings) {
            t = Math.min(t, r.time(0));
        }
        return t;
    }

    List<String> labelTable() {
        return labelTable;
    }

    /**
     * A replay of these recordings (see {@link ReadingsReplay}).
     *
     * @param startMillis event time every recording's first reading is moved to
     * @param loop whether to start each recording again (as a new pass) when it ends
     */
    public ReadingsReplay replay(long startMillis, boolean loop) {
        return new ReadingsReplay(this, startMillis, loop);
    }

    @Override
    public String toString() {
        return readings + " readings of " + recordings.size() + " recordings (" + channels + " channels) from " + file;
    }
}
