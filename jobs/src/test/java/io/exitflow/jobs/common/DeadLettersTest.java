package io.exitflow.jobs.common;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.schemas.DeadLetter;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.flink.configuration.ConfigOption;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Dead letters always fit their topic: a bounded payload with the whole record's size and digest. */
class DeadLettersTest {
    private static final int MAX = 1000;
    private static final AvroCodec<DeadLetter> CODEC = AvroCodec.of(DeadLetter.class);

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    private static byte[] sha256(byte[] b) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(b);
    }

    private static byte[] array(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    private static DeadLetter letter(byte[] payload) {
        return DeadLetters.of(new ConsumerRecord<>("readings", 1, 42L, null, payload), "undecodable: test");
    }

    @Test
    void aPayloadUpToTheBoundIsKeptWholeWithItsSizeAndDigest() throws Exception {
        for (int n : new int[] {0, 1, MAX - 1, MAX}) {
            byte[] payload = bytes(n);
            DeadLetter d = letter(payload);
            assertSame(d, DeadLetters.bounded(d, MAX), "nothing to cut at " + n + " bytes");
            assertArrayEquals(payload, array(d.getPayload()));
            assertEquals(n, d.getPayloadSize());
            assertArrayEquals(sha256(payload), array(d.getPayloadSha256()));
        }
    }

    @Test
    void aLargerPayloadKeepsItsFirstBytesTheWholeSizeAndTheWholeDigest() throws Exception {
        for (int n : new int[] {MAX + 1, 10 * MAX, 3 << 20}) {
            byte[] payload = bytes(n);
            DeadLetter d = DeadLetters.bounded(letter(payload), MAX);
            assertArrayEquals(Arrays.copyOf(payload, MAX), array(d.getPayload()));
            assertEquals(n, d.getPayloadSize());
            assertArrayEquals(sha256(payload), array(d.getPayloadSha256()));
            assertEquals("readings", d.getSourceTopic());
            assertEquals(1, d.getPartition());
            assertEquals(42L, d.getOffset());
            assertEquals("undecodable: test", d.getReason());
            assertEquals(d, DeadLetters.bounded(d, MAX), "bounding twice changes nothing");
            assertEquals(d, CODEC.decode(CODEC.encode(d)), "it round-trips through Avro");
        }
        assertEquals(0, DeadLetters.bounded(letter(bytes(5)), 0).getPayload().remaining());
    }

    @Test
    void aDeadLetterThatDoesNotKnowItsPayloadGetsSizeAndDigestFromTheWholePayload() throws Exception {
        byte[] payload = bytes(5000);
        DeadLetter unknown = DeadLetter.newBuilder()
                .setSourceTopic("t")
                .setPartition(0)
                .setOffset(1)
                .setReason("r")
                .setPayload(ByteBuffer.wrap(payload))
                .setTimestampMillis(7)
                .build();
        assertEquals(-1L, unknown.getPayloadSize(), "the schema's default");
        DeadLetter d = DeadLetters.bounded(unknown, MAX);
        assertEquals(5000, d.getPayloadSize());
        assertArrayEquals(sha256(payload), array(d.getPayloadSha256()));
        assertEquals(MAX, d.getPayload().remaining());
    }

    @Test
    void longReasonsAndTopicsAreCutNeverInHalfACharacter() {
        String reason = "x".repeat(DeadLetters.MAX_REASON_CHARS - 4) + "\uD83D\uDE00".repeat(2000);
        DeadLetter d = DeadLetters.bounded(DeadLetters.of("t".repeat(400), 0, 0, reason, null, 0), MAX);
        assertTrue(d.getReason().length() <= DeadLetters.MAX_REASON_CHARS, d.getReason());
        assertTrue(d.getReason().endsWith("..."));
        String kept = d.getReason().substring(0, d.getReason().length() - 3);
        assertTrue(!Character.isHighSurrogate(kept.charAt(kept.length() - 1)), "no half surrogate pair");
        assertEquals(reason.substring(0, kept.length()), kept);
        assertEquals(DeadLetters.MAX_TOPIC_CHARS, d.getSourceTopic().length());
        DeadLetter nulls = new DeadLetter(); // every field null, as no builder would make it: still bounded
        nulls.setPayloadSize(-1L);
        DeadLetter fixed = DeadLetters.bounded(nulls, MAX);
        assertEquals("", fixed.getReason());
        assertEquals(0, fixed.getPayloadSize());
    }

    @Test
    void theLargestDeadLetterFitsItsPayloadBoundPlusTheEnvelope() {
        // Worst case: the longest topic and reason in 3-byte UTF-8 characters, a huge payload, extreme numbers.
        String topic = "\u20ac".repeat(600);
        String reason = "\u20ac".repeat(5000);
        int maxRequestSize = 1_048_576;
        int bound = maxRequestSize - DeadLetters.ENVELOPE_BYTES; // the largest bound the default producer allows
        DeadLetter d = DeadLetters.bounded(
                DeadLetters.of(
                        topic, Integer.MIN_VALUE, Long.MIN_VALUE, reason, bytes(2 * maxRequestSize), Long.MIN_VALUE),
                bound);
        byte[] key = d.getSourceTopic().getBytes(StandardCharsets.UTF_8);
        byte[] value = CODEC.encode(d);
        int request = AbstractRecords.estimateSizeInBytesUpperBound(
                RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE, key, value, new Header[0]);
        assertTrue(request <= bound + DeadLetters.ENVELOPE_BYTES, request + " bytes");
        assertTrue(request <= maxRequestSize);
        assertTrue(request - bound < 5 * 1024, "the envelope has room to spare: " + (request - bound));
    }

    @Test
    void thePayloadBoundMustFitTheProducer() {
        assertEquals(65_536, DeadLetters.maxPayloadBytes(65_536, 1_048_576));
        assertEquals(1_048_576 - 8192, DeadLetters.maxPayloadBytes(1_048_576 - 8192, 1_048_576));
        IllegalArgumentException tooBig = assertThrows(
                IllegalArgumentException.class, () -> DeadLetters.maxPayloadBytes(1_048_576 - 8191, 1_048_576));
        assertTrue(
                tooBig.getMessage().startsWith("--dead-letter-max-payload-bytes 1040385 does not fit"),
                tooBig.getMessage());
        assertTrue(tooBig.getMessage().contains("max.request.size is 1048576"), tooBig.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DeadLetters.maxPayloadBytes(-1, 1_048_576));
    }

    @Test
    void theProducerLimitComesFromTheKafkaPropertiesFileElseKafkasDefault(@TempDir Path dir) throws Exception {
        JobConfig plain = JobConfig.of(Map.<ConfigOption<?>, Object>of(JobOptions.BOOTSTRAP_SERVERS, "localhost:9092"));
        assertEquals(1_048_576, new KafkaIo(plain, "t").producerMaxRequestSize());
        Path props = Files.writeString(dir.resolve("client.properties"), "max.request.size=5000\n");
        JobConfig small = JobConfig.of(Map.<ConfigOption<?>, Object>of(
                JobOptions.BOOTSTRAP_SERVERS, "localhost:9092", JobOptions.KAFKA_PROPERTIES, props.toString()));
        KafkaIo io = new KafkaIo(small, "t");
        assertEquals(5000, io.producerMaxRequestSize());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> DeadLetters.maxPayloadBytes(
                        JobOptions.DEAD_LETTER_MAX_PAYLOAD_BYTES.defaultValue(), io.producerMaxRequestSize()));
        assertTrue(e.getMessage().contains("lower --dead-letter-max-payload-bytes to at most 0"), e.getMessage());
    }

    @Test
    void deadLettersWrittenBeforeTheSizeAndDigestStayReadable() throws Exception {
        Schema before = new Schema.Parser()
                .parse("{\"type\":\"record\",\"name\":\"DeadLetter\","
                        + "\"namespace\":\"io.exitflow.schemas\",\"fields\":[{\"name\":\"sourceTopic\",\"type\":\"string\"},"
                        + "{\"name\":\"partition\",\"type\":\"int\"},{\"name\":\"offset\",\"type\":\"long\"},"
                        + "{\"name\":\"reason\",\"type\":\"string\"},{\"name\":\"payload\",\"type\":\"bytes\"},"
                        + "{\"name\":\"timestampMillis\",\"type\":\"long\"}]}");
        GenericRecord old = new GenericData.Record(before);
        old.put("sourceTopic", "readings");
        old.put("partition", 3);
        old.put("offset", 9L);
        old.put("reason", "invalid: x");
        old.put("payload", ByteBuffer.wrap(new byte[] {1, 2}));
        old.put("timestampMillis", 5L);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(before).write(old, enc);
        enc.flush();
        DeadLetter read = new SpecificDatumReader<DeadLetter>(before, DeadLetter.getClassSchema())
                .read(null, DecoderFactory.get().binaryDecoder(out.toByteArray(), null));
        assertEquals("invalid: x", read.getReason());
        assertEquals(-1L, read.getPayloadSize());
        assertEquals(0, read.getPayloadSha256().remaining());
        DeadLetter bounded = DeadLetters.bounded(read, MAX);
        assertEquals(2, bounded.getPayloadSize(), "the sink fills in what an old dead letter lacks");
    }
}
