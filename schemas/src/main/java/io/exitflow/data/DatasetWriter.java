package io.exitflow.data;

import io.exitflow.schemas.FeatureEvent;
import io.exitflow.schemas.SensorReading;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.avro.file.CodecFactory;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Writes the shared sensor dataset as Avro container files:
 * {@code <out>/sensor/{train,val,test}.avro} (SensorReading, sorted by sensor then time) and
 * {@code <out>/features/{train,val,test}.avro} (FeatureEvent of every window), plus {@code dataset.json}.
 *
 * <p>Splits are disjoint sets of simulated machines, each stream seeded from (seed, split, machine), so a
 * given seed always gives the same files.
 *
 * <pre>java -cp ... io.exitflow.data.DatasetWriter --out data [--seed 7] [--small]</pre>
 */
public final class DatasetWriter {
    /** Machines in the default test split (the simulator and the benchmarks stream these). */
    public static final int TEST_SENSORS = 64;
    /** Readings per machine in the default dataset (30 s at 100 Hz). */
    public static final int READINGS_PER_SENSOR = 3000;

    /** Dataset size and shape. */
    public static final class Spec {
        long seed = 7;
        // Many machines with 30 s each: machine parameters (shaft speed, resonance, gains) vary per machine, so
        // more machines make validation (where thresholds are set) and test behave alike.
        int trainSensors = 192;
        int valSensors = 64;
        int testSensors = TEST_SENSORS;
        int readingsPerSensor = READINGS_PER_SENSOR;
        int windowSize = 128;
        int slide = 32;
        long startMillis = 1_767_225_600_000L; // 2026-01-01T00:00:00Z

        /** A tiny dataset for tests: a few machines, a minute each. */
        static Spec small() {
            Spec s = new Spec();
            s.trainSensors = 8;
            s.valSensors = 4;
            s.testSensors = 4;
            s.readingsPerSensor = 3000;
            return s;
        }
    }

    private DatasetWriter() {}

    public static void main(String[] args) throws IOException {
        Path out = null;
        Spec spec = new Spec();
        Long seed = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out":
                    out = Path.of(args[++i]);
                    break;
                case "--seed":
                    seed = Long.parseLong(args[++i]);
                    break;
                case "--small":
                    spec = Spec.small();
                    break;
                case "--readings-per-sensor":
                    spec.readingsPerSensor = Integer.parseInt(args[++i]);
                    break;
                default:
                    throw new IllegalArgumentException("unknown argument " + args[i]
                            + "; usage: DatasetWriter --out DIR [--seed N] [--small] [--readings-per-sensor N]");
            }
        }
        if (out == null) {
            throw new IllegalArgumentException("missing --out DIR");
        }
        if (seed != null) {
            spec.seed = seed;
        }
        write(out, spec);
    }

    /** Writes all three splits under {@code out}. */
    public static void write(Path out, Spec spec) throws IOException {
        Files.createDirectories(out.resolve("sensor"));
        Files.createDirectories(out.resolve("features"));
        writeSplit(out, "train", spec.trainSensors, spec);
        writeSplit(out, "val", spec.valSensors, spec);
        writeSplit(out, "test", spec.testSensors, spec);
        String json = String.format(
                Locale.ROOT,
                "{\"seed\": %d, \"classes\": [\"%s\"], \"channels\": %d, \"sample_period_ms\": %d,"
                        + " \"window\": {\"size\": %d, \"slide\": %d}, \"readings_per_sensor\": %d,"
                        + " \"sensors\": {\"train\": %d, \"val\": %d, \"test\": %d}, \"features\": %d}%n",
                spec.seed,
                String.join("\", \"", SensorClasses.NAMES),
                SensorClasses.CHANNELS,
                SensorClasses.SAMPLE_PERIOD_MS,
                spec.windowSize,
                spec.slide,
                spec.readingsPerSensor,
                spec.trainSensors,
                spec.valSensors,
                spec.testSensors,
                WindowFeatures.count(SensorClasses.CHANNELS));
        Files.writeString(out.resolve("dataset.json"), json, StandardCharsets.UTF_8);
    }

    /** Id of machine {@code index} of a split: {@code <split>-<index, 3 digits>}. */
    public static String sensorId(String split, int index) {
        return String.format(Locale.ROOT, "%s-%03d", split, index);
    }

    /**
     * The generator of machine {@code index} of a split ("train", "val" or "test"): the dataset files and the
     * stream simulator both take their machines from here, so they send the same records.
     */
    public static SensorSignalGenerator generator(String split, int index, long seed, long startMillis) {
        long salt;
        switch (split) {
            case "train":
                salt = 1;
                break;
            case "val":
                salt = 2;
                break;
            case "test":
                salt = 3;
                break;
            default:
                throw new IllegalArgumentException("split must be train, val or test, got '" + split + "'");
        }
        return new SensorSignalGenerator(sensorId(split, index), seed * 31 + salt, startMillis);
    }

    private static void writeSplit(Path out, String split, int sensors, Spec spec) throws IOException {
        File sensorFile = out.resolve("sensor").resolve(split + ".avro").toFile();
        File featureFile = out.resolve("features").resolve(split + ".avro").toFile();
        int windows = 0;
        try (DataFileWriter<SensorReading> readingsOut =
                        open(SensorReading.class, SensorReading.getClassSchema(), sensorFile);
                DataFileWriter<FeatureEvent> featuresOut =
                        open(FeatureEvent.class, FeatureEvent.getClassSchema(), featureFile)) {
            for (int s = 0; s < sensors; s++) {
                SensorSignalGenerator generator = generator(split, s, spec.seed, spec.startMillis);
                List<SensorReading> readings = new ArrayList<>(spec.readingsPerSensor);
                for (int i = 0; i < spec.readingsPerSensor; i++) {
                    SensorReading r = generator.next();
                    readings.add(r);
                    readingsOut.append(r);
                }
                for (int from = 0; from + spec.windowSize <= readings.size(); from += spec.slide) {
                    SensorWindow w = SensorWindow.of(readings, from, spec.windowSize);
                    featuresOut.append(toFeatureEvent(w));
                    windows++;
                }
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        System.out.printf(
                Locale.ROOT,
                "wrote %s: %d sensors, %d readings, %d windows%n",
                split,
                sensors,
                (long) sensors * spec.readingsPerSensor,
                windows);
    }

    /** The feature event of a window: id {@code <sensor>@<end time>}, keyed by sensor. */
    public static FeatureEvent toFeatureEvent(SensorWindow w) {
        float[] f = WindowFeatures.extract(w.channelsFirst(), SensorClasses.CHANNELS, w.size());
        List<Float> features = new ArrayList<>(f.length);
        for (float v : f) {
            features.add(v);
        }
        return FeatureEvent.newBuilder()
                .setEventId(w.sensorId() + "@" + w.endTimeMillis())
                .setKey(w.sensorId())
                .setEventTime(java.time.Instant.ofEpochMilli(w.endTimeMillis()))
                .setFeatures(features)
                .setLabel(w.label())
                .build();
    }

    private static <T extends SpecificRecord> DataFileWriter<T> open(
            Class<T> type, org.apache.avro.Schema schema, File file) throws IOException {
        DataFileWriter<T> writer = new DataFileWriter<>(new SpecificDatumWriter<>(type));
        writer.setCodec(CodecFactory.deflateCodec(6));
        return writer.create(schema, file);
    }
}
