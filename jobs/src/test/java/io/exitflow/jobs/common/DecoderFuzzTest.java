package io.exitflow.jobs.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.exitflow.jobs.anomaly.SensorReadingValidator;
import io.exitflow.jobs.classification.FeatureEventValidator;
import io.exitflow.schemas.Alert;
import io.exitflow.schemas.DeadLetter;
import io.exitflow.schemas.FeatureEvent;
import io.exitflow.schemas.Prediction;
import io.exitflow.schemas.SensorReading;
import io.exitflow.schemas.StageStats;
import io.exitflow.schemas.ThresholdUpdate;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.avro.util.RandomData;
import org.apache.flink.types.Either;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * Every decoder of every topic the jobs read (sensor readings, feature events, threshold updates on the control
 * topic) and every other record the project decodes from Kafka (stage stats, predictions, alerts, dead letters: the
 * demo's and tests' topic readers), fed many thousands of random and mutated records, seeded and bounded in time:
 * each input ends as a value or as a dead letter with a reason, nothing is thrown, and no decode allocates more
 * than a small multiple of the input's size (measured per call with the thread's allocation counter). The records
 * from issue 14, which made decoding allocate until {@code OutOfMemoryError}, are regression cases.
 *
 * <p>{@code -Dexitflow.fuzz.seed=N} replays another seed, {@code -Dexitflow.fuzz.seconds=S} runs longer.
 */
class DecoderFuzzTest {
    private static final long SEED = Long.getLong("exitflow.fuzz.seed", 14L);
    /** Time for all decoders together; each gets an equal share. */
    private static final double SECONDS = Double.parseDouble(System.getProperty("exitflow.fuzz.seconds", "12"));

    private static final int MAX_INPUTS_PER_DECODER = 200_000;
    /** Fewer inputs than this in a decoder's share of the time would make the test meaningless: it fails. */
    private static final int MIN_INPUTS_PER_DECODER = 5_000;
    /** What one decode may allocate: a fixed allowance plus this many bytes per input byte. */
    private static final long ALLOC_FIXED = 256 * 1024;

    private static final long ALLOC_PER_BYTE = 64;

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** One decoder under test, with the valid records it is seeded with. */
    private record Target(String name, DecodingDeserializer<?> decoder, List<byte[]> valid) {}

    /** The 8-byte record of issue 14: a string length of about 2^31, then three bytes. */
    static final byte[] HUGE_STRING = HexFormat.of().parseHex("eaffffff0f616263");

    @Test
    void killerRecordsFromTheIssueBecomeDeadLettersWithoutAllocating() throws IOException {
        byte[] hugeArray = hugeCount(false);
        assertEquals(27, hugeArray.length, "the issue's record with a huge array count is 27 bytes");
        byte[] hugeMap = hugeCount(true);
        List<Target> targets = targets(new Random(SEED));
        for (Target t : targets) { // through every decoder: a value or a dead letter, and no large allocation
            for (byte[] input : List.of(HUGE_STRING, hugeArray, hugeMap)) {
                long before = THREADS.getCurrentThreadAllocatedBytes();
                Either<DeadLetter, ?> out = decode(t, input);
                long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
                assertTrue(
                        allocated < ALLOC_FIXED,
                        t.name + ": decoding " + input.length + " bytes allocated " + allocated);
                assertTrue(out.isRight() || !out.left().getReason().isEmpty());
            }
        }
        // Where the lengths land on a string, an array or a map, the reasons name what was wrong.
        Target readings = targets.get(0);
        Target updates = targets.get(2);
        assertReason(readings, HUGE_STRING, "string length 2147483637 is not within the 3 bytes left in the record");
        assertReason(readings, hugeArray, "array count 1000000000 is not within the 12 bytes left in the record");
        assertReason(updates, hugeMap, "map count 1000000000 is not within the 12 bytes left in the record");
        InvalidRecordException e = assertThrows(
                InvalidRecordException.class,
                () -> AvroCodec.of(SensorReading.class).decode(HUGE_STRING));
        assertTrue(e.getMessage().contains("string length"), e.getMessage());
    }

    @Test
    void everyDecoderTurnsRandomAndMutatedRecordsIntoValuesOrDeadLetters() throws IOException {
        Random random = new Random(SEED);
        List<Target> targets = targets(random);
        long perDecoderNanos = (long) (SECONDS * 1e9 / targets.size());
        long total = 0;
        for (Target t : targets) {
            int values = 0;
            int dead = 0;
            int inputs = 0;
            long maxAllocated = 0;
            long deadline = System.nanoTime() + perDecoderNanos;
            // Valid records first: each must decode (a dead letter only for a validator's verdict, never for decoding).
            for (byte[] valid : t.valid) {
                Either<DeadLetter, ?> out = decode(t, valid);
                assertTrue(
                        out.isRight() || out.left().getReason().startsWith("invalid: "),
                        () -> t.name + ": a valid encoding was refused: "
                                + out.left().getReason());
            }
            while (inputs < MAX_INPUTS_PER_DECODER
                    && (inputs < MIN_INPUTS_PER_DECODER || System.nanoTime() < deadline)) {
                byte[] input = mutate(t.valid.get(random.nextInt(t.valid.size())), t.valid, random);
                long before = THREADS.getCurrentThreadAllocatedBytes();
                Either<DeadLetter, ?> out = decode(t, input);
                long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
                inputs++;
                assertNotNull(out);
                if (out.isRight()) {
                    assertNotNull(out.right());
                    values++;
                } else {
                    String reason = out.left().getReason();
                    assertTrue(reason.startsWith("undecodable: ") || reason.startsWith("invalid: "), reason);
                    assertTrue(reason.length() > "undecodable: ".length(), reason);
                    dead++;
                }
                if (allocated > ALLOC_FIXED + ALLOC_PER_BYTE * input.length) {
                    fail(t.name + ": decoding " + input.length + " bytes allocated " + allocated + " bytes (seed "
                            + SEED + ", input " + HexFormat.of().formatHex(input) + ")");
                }
                maxAllocated = Math.max(maxAllocated, allocated);
            }
            System.out.printf(
                    "fuzz %-15s %7d inputs: %6d values, %6d dead letters, at most %d bytes allocated " + "per decode%n",
                    t.name, inputs, values, dead, maxAllocated);
            assertTrue(dead > 0 && values > 0, t.name + ": the inputs should include both");
            total += inputs;
        }
        System.out.printf("fuzz: %d inputs through %d decoders, seed %d%n", total, targets.size(), SEED);
    }

    @Test
    void errorsWhileDecodingOneRecordBecomeDeadLettersButBrokenDeploymentsFailTheJob() {
        byte[] valid = AvroCodec.of(FeatureEvent.class)
                .encode(FeatureEvent.newBuilder()
                        .setEventId("e")
                        .setKey("k")
                        .setEventTime(Instant.ofEpochMilli(1))
                        .setFeatures(List.of(1f))
                        .build());
        for (Error error : List.of(
                new OutOfMemoryError("Java heap space"),
                new StackOverflowError(),
                new AssertionError("validator bug"))) {
            DecodingDeserializer<FeatureEvent> d = new DecodingDeserializer<>(FeatureEvent.class, e -> {
                throw error;
            });
            Either<DeadLetter, FeatureEvent> out = d.decode(new ConsumerRecord<>("events", 0, 5L, null, valid));
            assertTrue(out.isLeft());
            assertTrue(
                    out.left()
                            .getReason()
                            .startsWith("undecodable: " + error.getClass().getName()),
                    out.left().getReason());
            assertEquals(5L, out.left().getOffset());
        }
        DecodingDeserializer<FeatureEvent> broken = new DecodingDeserializer<>(FeatureEvent.class, e -> {
            throw new NoClassDefFoundError("io/exitflow/Missing");
        });
        assertThrows(
                NoClassDefFoundError.class, () -> broken.decode(new ConsumerRecord<>("events", 0, 6L, null, valid)));
        assertFalse(DecodingDeserializer.isFatal(new OutOfMemoryError()));
        assertTrue(DecodingDeserializer.isFatal(new InternalError()));
    }

    @Test
    void stringsAndArraysThatFillTheRecordExactlyStillDecode() throws Exception {
        // The bound is "at most the bytes left", not "less than": a string or an array that ends the record decodes.
        AvroCodec<FeatureEvent> codec = AvroCodec.of(FeatureEvent.class);
        FeatureEvent e = FeatureEvent.newBuilder()
                .setEventId("x".repeat(100_000))
                .setKey("")
                .setEventTime(Instant.ofEpochMilli(0))
                .setFeatures(new ArrayList<>(List.of(1f)))
                .build();
        assertEquals(e, codec.decode(codec.encode(e)));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        enc.writeString("s");
        enc.writeLong(1L);
        enc.writeArrayStart();
        enc.setItemCount(3);
        for (int i = 0; i < 3; i++) {
            enc.startItem();
            enc.writeFloat(i);
        }
        enc.writeArrayEnd();
        enc.writeIndex(0); // label null
        enc.writeIndex(0); // severity null
        enc.flush();
        SensorReading r = AvroCodec.of(SensorReading.class).decode(out.toByteArray());
        assertEquals(List.of(0f, 1f, 2f), r.getValues());
    }

    @Test
    void schemasWhoseArrayItemsCanTakeNoBytesAreRefusedUpFront() {
        Schema nulls = new Schema.Parser()
                .parse("{\"type\":\"record\",\"name\":\"N\",\"fields\":[{\"name\":\"a\","
                        + "\"type\":{\"type\":\"array\",\"items\":\"null\"}}]}");
        assertThrows(IllegalArgumentException.class, () -> BoundedDecoder.requireNonEmptyItems(nulls));
        for (Class<?> c : List.of(
                SensorReading.class,
                FeatureEvent.class,
                ThresholdUpdate.class,
                StageStats.class,
                Prediction.class,
                Alert.class,
                DeadLetter.class)) {
            BoundedDecoder.requireNonEmptyItems(SpecificData.get().getSchema(c)); // every ExitFlow schema passes
        }
    }

    private static void assertReason(Target t, byte[] input, String expected) {
        Either<DeadLetter, ?> out = decode(t, input);
        assertTrue(
                out.isLeft(),
                t.name + ": expected a dead letter for " + HexFormat.of().formatHex(input));
        assertTrue(
                out.left().getReason().startsWith("undecodable: ")
                        && out.left().getReason().contains(expected),
                out.left().getReason());
    }

    private static Either<DeadLetter, ?> decode(Target t, byte[] input) {
        return t.decoder.decode(new ConsumerRecord<>("fuzz-" + t.name, 0, 0L, null, input));
    }

    /** A SensorReading (or, with {@code map}, a ThresholdUpdate-like prefix) whose collection count is 10^9. */
    private static byte[] hugeCount(boolean map) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        if (map) { // ThresholdUpdate: modelId, modelVersion, updateVersion, thresholds [], reason, time, measurement
            // map
            enc.writeString("m");
            enc.writeString("1");
            enc.writeLong(1L);
            enc.writeLong(0L);
            enc.writeString("");
            enc.writeLong(1L);
            enc.writeIndex(1);
        } else { // SensorReading: sensorId, eventTime, values
            enc.writeString("s-1");
            enc.writeLong(1_767_225_600_000L);
        }
        enc.writeLong(1_000_000_000L);
        enc.flush();
        out.write(new byte[12]);
        return out.toByteArray();
    }

    /** The decoders: the jobs' three sources with their validators, and the other topics' records. */
    private static List<Target> targets(Random random) throws IOException {
        List<Target> t = new ArrayList<>();
        long now = System.currentTimeMillis();
        t.add(target(
                "SensorReading",
                SensorReading.class,
                new SensorReadingValidator(3, 3_600_000L, 315_360_000_000L),
                random,
                r -> SensorReading.newBuilder()
                        .setSensorId("sensor-" + r.nextInt(1000))
                        .setEventTime(Instant.ofEpochMilli(now - r.nextInt(1000)))
                        .setValues(floats(r, 3))
                        .setLabel(r.nextBoolean() ? null : "normal")
                        .setSeverity(r.nextBoolean() ? null : r.nextFloat())
                        .build()));
        t.add(target(
                "FeatureEvent",
                FeatureEvent.class,
                new FeatureEventValidator(4),
                random,
                r -> FeatureEvent.newBuilder()
                        .setEventId("e-" + r.nextLong())
                        .setKey("k" + r.nextInt(10))
                        .setEventTime(Instant.ofEpochMilli(now))
                        .setFeatures(floats(r, 4))
                        .setLabel(r.nextBoolean() ? null : "c1")
                        .build()));
        t.add(target("ThresholdUpdate", ThresholdUpdate.class, RecordValidator.acceptAll(), random, null));
        t.add(target("StageStats", StageStats.class, RecordValidator.acceptAll(), random, null));
        t.add(target("Prediction", Prediction.class, RecordValidator.acceptAll(), random, null));
        t.add(target("Alert", Alert.class, RecordValidator.acceptAll(), random, null));
        t.add(target("DeadLetter", DeadLetter.class, RecordValidator.acceptAll(), random, null));
        return t;
    }

    /**
     * A decoder with valid encodings of its schema: Avro's random records of the schema (any content), and, when
     * given, records that also pass the validator.
     */
    private static <T extends SpecificRecordBase> Target target(
            String name, Class<T> type, RecordValidator<T> validator, Random random, Function<Random, T> usable)
            throws IOException {
        Schema schema = SpecificData.get().getSchema(type);
        List<byte[]> valid = new ArrayList<>();
        GenericDatumWriter<Object> writer = new GenericDatumWriter<>(schema);
        Iterator<Object> generic = new RandomData(schema, 200, random.nextLong()).iterator();
        while (generic.hasNext()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
            writer.write(generic.next(), enc);
            enc.flush();
            valid.add(out.toByteArray());
        }
        if (usable != null) {
            AvroCodec<T> codec = AvroCodec.of(type);
            for (int i = 0; i < 200; i++) {
                valid.add(codec.encode(usable.apply(random)));
            }
        }
        return new Target(name, new DecodingDeserializer<>(type, validator), valid);
    }

    private static List<Float> floats(Random r, int n) {
        List<Float> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(r.nextFloat() * 10 - 5);
        }
        return out;
    }

    /** A mutation of {@code base}: bits flipped, bytes changed, inserted, removed, a huge varint, a cut, a splice. */
    static byte[] mutate(byte[] base, List<byte[]> others, Random r) {
        byte[] b = base.clone();
        int kind = r.nextInt(10);
        switch (kind) {
            case 0: // flip bits
                for (int i = 0, n = 1 + r.nextInt(4); i < n && b.length > 0; i++) {
                    b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                }
                return b;
            case 1: // random bytes overwritten
                for (int i = 0, n = 1 + r.nextInt(4); i < n && b.length > 0; i++) {
                    b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                }
                return b;
            case 2: // a length or count anywhere: huge, negative or merely too large
                return splice(b, r.nextInt(b.length + 1), varint(hugeish(r)), r.nextInt(3));
            case 3: // cut short
                return Arrays.copyOf(b, r.nextInt(b.length + 1));
            case 4: // bytes inserted
                byte[] extra = new byte[1 + r.nextInt(8)];
                r.nextBytes(extra);
                return splice(b, r.nextInt(b.length + 1), extra, 0);
            case 5: // bytes removed
                return b.length == 0 ? b : splice(b, r.nextInt(b.length), new byte[0], 1 + r.nextInt(4));
            case 6: // another record appended or a piece of it spliced in
                byte[] other = others.get(r.nextInt(others.size()));
                return splice(
                        b, r.nextInt(b.length + 1), Arrays.copyOf(other, r.nextInt(other.length + 1)), r.nextInt(4));
            case 7: // pure noise
                byte[] noise = new byte[r.nextInt(64)];
                r.nextBytes(noise);
                return noise;
            case 8: // every byte 0xff from somewhere on (varints that never end)
                Arrays.fill(b, r.nextInt(b.length + 1), b.length, (byte) 0xff);
                return b;
            default: // unchanged: valid records keep flowing between the broken ones
                return b;
        }
    }

    private static long hugeish(Random r) {
        switch (r.nextInt(5)) {
            case 0:
                return Integer.MAX_VALUE - r.nextInt(16);
            case 1:
                return Long.MAX_VALUE - r.nextInt(16);
            case 2:
                return Long.MIN_VALUE + r.nextInt(16);
            case 3:
                return -1 - r.nextInt(1_000_000);
            default:
                return 1L << (8 + r.nextInt(54));
        }
    }

    /** Avro's zig-zag varint of {@code v}. */
    private static byte[] varint(long v) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long z = (v << 1) ^ (v >> 63);
        while ((z & ~0x7FL) != 0) {
            out.write((int) ((z & 0x7F) | 0x80));
            z >>>= 7;
        }
        out.write((int) z);
        return out.toByteArray();
    }

    /** {@code b} with {@code removed} bytes at {@code at} replaced by {@code insert}. */
    private static byte[] splice(byte[] b, int at, byte[] insert, int removed) {
        int cut = Math.min(removed, b.length - at);
        byte[] out = new byte[b.length - cut + insert.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(b, at + cut, out, at + insert.length, b.length - at - cut);
        return out;
    }
}
