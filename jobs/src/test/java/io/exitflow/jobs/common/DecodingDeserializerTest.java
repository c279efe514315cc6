package io.exitflow.jobs.common;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.anomaly.SensorReadingValidator;
import io.exitflow.schemas.DeadLetter;
import io.exitflow.schemas.FeatureEvent;
import io.exitflow.schemas.SensorReading;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.apache.flink.types.Either;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class DecodingDeserializerTest {
    private final DecodingDeserializer<SensorReading> deserializer =
            new DecodingDeserializer<>(SensorReading.class, new SensorReadingValidator(3));
    private final AvroCodec<SensorReading> codec = AvroCodec.of(SensorReading.class);

    private static SensorReading reading(Float... values) {
        return SensorReading.newBuilder()
                .setSensorId("s-1")
                .setEventTime(Instant.ofEpochMilli(1234))
                .setValues(Arrays.asList(values))
                .setLabel("normal")
                .setSeverity(0.5f)
                .build();
    }

    private static ConsumerRecord<byte[], byte[]> record(byte[] value, long offset) {
        return new ConsumerRecord<>("readings", 2, offset, "s-1".getBytes(), value);
    }

    private DeadLetter dead(byte[] value, long offset) {
        Either<DeadLetter, SensorReading> out = deserializer.decode(record(value, offset));
        assertTrue(out.isLeft(), "expected a dead letter");
        DeadLetter d = out.left();
        assertEquals("readings", d.getSourceTopic());
        assertEquals(2, d.getPartition());
        assertEquals(offset, d.getOffset());
        assertArrayEquals(value == null ? new byte[0] : value, d.getPayload().array(), "raw payload kept as read");
        return d;
    }

    @Test
    void decodesAValidReading() {
        SensorReading r = reading(1f, 2f, 3f);
        Either<DeadLetter, SensorReading> out = deserializer.decode(record(codec.encode(r), 7));
        assertTrue(out.isRight());
        assertEquals(r, out.right());
    }

    @Test
    void wrongNumberOfChannelsIsInvalid() {
        DeadLetter d = dead(codec.encode(reading(1f, 2f)), 8);
        assertEquals("invalid: expected 3 values, got 2", d.getReason());
    }

    @Test
    void nanAndInfinityAreInvalid() {
        assertEquals(
                "invalid: value 1 is NaN",
                dead(codec.encode(reading(1f, Float.NaN, 3f)), 9).getReason());
        assertEquals(
                "invalid: value 2 is Infinity",
                dead(codec.encode(reading(1f, 2f, Float.POSITIVE_INFINITY)), 10).getReason());
    }

    @Test
    void eventTimeFarInTheFutureIsInvalid() {
        DecodingDeserializer<SensorReading> hourAhead = new DecodingDeserializer<>(
                SensorReading.class, new SensorReadingValidator(3, 3_600_000L, Long.MAX_VALUE));
        SensorReading future = SensorReading.newBuilder(reading(1f, 2f, 3f))
                .setEventTime(Instant.ofEpochMilli(System.currentTimeMillis() + 86_400_000L))
                .build();
        Either<DeadLetter, SensorReading> out = hourAhead.decode(record(codec.encode(future), 20));
        assertTrue(out.isLeft());
        assertTrue(
                out.left().getReason().contains("ms in the future"), out.left().getReason());
        SensorReading past = reading(1f, 2f, 3f); // 1970: old data is fine
        assertTrue(hourAhead.decode(record(codec.encode(past), 21)).isRight());
    }

    @Test
    void eventTimeDecadesInThePastIsInvalid() {
        long maxPast = JobOptions.MAX_PAST.defaultValue().toMillis();
        assertEquals(3650L * 86_400_000L, maxPast, "ten years by default");
        DecodingDeserializer<SensorReading> bounded = new DecodingDeserializer<>(
                SensorReading.class,
                new SensorReadingValidator(
                        3, JobOptions.MAX_FUTURE.defaultValue().toMillis(), maxPast));
        SensorReading epoch = reading(1f, 2f, 3f); // a clock reset to 1970
        Either<DeadLetter, SensorReading> out = bounded.decode(record(codec.encode(epoch), 30));
        assertTrue(out.isLeft());
        assertEquals(
                "invalid: eventTime 1970-01-01T00:00:01.234Z is more than 315360000000 ms in the past",
                out.left().getReason());
        assertEquals(30L, out.left().getOffset());
        long now = System.currentTimeMillis();
        for (long ago : new long[] {maxPast + 60_000L, Long.MAX_VALUE / 2}) {
            SensorReading old = SensorReading.newBuilder(epoch)
                    .setEventTime(Instant.ofEpochMilli(now - ago))
                    .build();
            assertTrue(bounded.decode(record(codec.encode(old), 31)).isLeft(), "ago " + ago);
        }
        // A replay of last year's recordings (the bundled dataset starts 2026-01-01) is fine.
        for (long ago : new long[] {0L, 86_400_000L, 400L * 86_400_000L, maxPast - 60_000L}) {
            SensorReading recent = SensorReading.newBuilder(epoch)
                    .setEventTime(Instant.ofEpochMilli(now - ago))
                    .build();
            assertTrue(bounded.decode(record(codec.encode(recent), 32)).isRight(), "ago " + ago);
        }
        assertTrue(bounded.decode(record(
                        codec.encode(SensorReading.newBuilder(epoch)
                                .setEventTime(Instant.ofEpochMilli(1_767_225_600_000L))
                                .build()),
                        33))
                .isRight());
        // The bounds are checked without overflow at the extremes of a long.
        for (long t : new long[] {Long.MIN_VALUE, Long.MAX_VALUE}) {
            SensorReading extreme = SensorReading.newBuilder(epoch)
                    .setEventTime(Instant.ofEpochMilli(t))
                    .build();
            assertTrue(bounded.decode(record(codec.encode(extreme), 34)).isLeft(), "time " + t);
        }
    }

    @Test
    void garbageTruncatedNullAndForeignSchemaAreUndecodable() {
        assertTrue(dead(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f}, 11)
                .getReason()
                .startsWith("undecodable: not a SensorReading record"));
        byte[] valid = codec.encode(reading(1f, 2f, 3f));
        assertTrue(dead(Arrays.copyOf(valid, valid.length - 3), 12).getReason().startsWith("undecodable"));
        assertTrue(dead(null, 13).getReason().contains("null value"));

        FeatureEvent other = FeatureEvent.newBuilder()
                .setEventId("e")
                .setKey("k")
                .setEventTime(Instant.ofEpochMilli(1))
                .setFeatures(List.of(1f, 2f))
                .setLabel(null)
                .build();
        DeadLetter d = dead(AvroCodec.of(FeatureEvent.class).encode(other), 14);
        assertTrue(d.getReason().startsWith("undecodable") || d.getReason().startsWith("invalid"), d.getReason());
    }

    @Test
    void splitterRoutesDeadLettersToTheSideOutputAndKeepsGoing() throws Exception {
        OneInputStreamOperatorTestHarness<Either<DeadLetter, SensorReading>, SensorReading> h =
                ProcessFunctionTestHarnesses.forProcessFunction(new DeadLetterSplitter<>());
        byte[][] values = {
            codec.encode(reading(1f, 2f, 3f)),
            new byte[] {1, 2, 3},
            codec.encode(reading(4f, 5f, 6f)),
            codec.encode(reading(Float.NaN, 0f, 0f))
        };
        for (int i = 0; i < values.length; i++) {
            h.processElement(deserializer.decode(record(values[i], i)), i);
        }
        List<SensorReading> good = h.extractOutputValues();
        assertEquals(2, good.size());
        assertEquals(List.of(4f, 5f, 6f), good.get(1).getValues());
        List<Long> deadOffsets = new ArrayList<>();
        for (StreamRecord<DeadLetter> r : h.getSideOutput(DeadLetters.TAG)) {
            deadOffsets.add(r.getValue().getOffset());
        }
        assertEquals(List.of(1L, 3L), deadOffsets);
        h.close();
    }
}
