package io.exitflow.jobs.common;

import io.exitflow.schemas.DeadLetter;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.util.OutputTag;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Building dead letters, the side output they travel on inside a job, and the dead-letter sink, which bounds each
 * dead letter so that it always fits what the dead-letter producer accepts, whatever record it carries.
 */
public final class DeadLetters {
    /** Side output of every operator that rejects records; the job unions them into the dead-letter sink. */
    public static final OutputTag<DeadLetter> TAG =
            new OutputTag<>("dead-letters", new AvroTypeInfo<>(DeadLetter.class));

    /** Name of the counter (in each rejecting operator's metric group) of records sent to the dead-letter topic. */
    public static final String METRIC = "deadLetters";

    /** Most characters of a reason the dead-letter topic gets; a longer one is cut, ending in "...". */
    public static final int MAX_REASON_CHARS = 1000;

    /** Most characters of a source topic name (Kafka's own limit); a longer one is cut. */
    static final int MAX_TOPIC_CHARS = 249;

    /**
     * Room a dead letter's Kafka record takes besides its payload bytes, in bytes, at most: the key (the source topic,
     * at most {@value #MAX_TOPIC_CHARS} characters of at most 3 UTF-8 bytes), the other Avro fields (the topic again,
     * a reason of at most {@value #MAX_REASON_CHARS} characters, numbers, the 32-byte digest) and Kafka's record and
     * batch framing: under 5 KB, rounded up. A payload bound plus this must fit the producer's
     * {@code max.request.size} and the topic's {@code max.message.bytes}.
     */
    public static final int ENVELOPE_BYTES = 8 * 1024;

    private DeadLetters() {}

    /** The dead letter of a Kafka record, with its raw value exactly as read (empty for a null value). */
    public static DeadLetter of(ConsumerRecord<byte[], byte[]> record, String reason) {
        return of(record.topic(), record.partition(), record.offset(), reason, record.value(), record.timestamp());
    }

    /**
     * A dead letter from its parts, with the whole payload, its size and its SHA-256; use partition -1 and offset -1
     * when the Kafka position is no longer known. The dead-letter sink cuts the payload to its bound ({@link #sinkTo}).
     *
     * @param payload the record value as read; null for none (an empty payload)
     */
    public static DeadLetter of(
            String topic, int partition, long offset, String reason, byte[] payload, long timestampMillis) {
        byte[] value = payload == null ? new byte[0] : payload;
        return DeadLetter.newBuilder()
                .setSourceTopic(topic)
                .setPartition(partition)
                .setOffset(offset)
                .setReason(reason)
                .setPayload(ByteBuffer.wrap(value))
                .setTimestampMillis(timestampMillis)
                .setPayloadSize(value.length)
                .setPayloadSha256(sha256(ByteBuffer.wrap(value)))
                .build();
    }

    /**
     * {@code d} cut to fit the dead-letter topic: at most {@code maxPayloadBytes} of its payload (the first ones),
     * its reason and source topic cut to {@value #MAX_REASON_CHARS} and {@value #MAX_TOPIC_CHARS} characters. A
     * dead letter that does not know its payload's size and digest yet ({@code payloadSize} -1) gets them from its
     * whole payload first, so they always describe the record as read. Never throws: null fields count as empty.
     * Returns {@code d} itself when nothing needs cutting.
     */
    public static DeadLetter bounded(DeadLetter d, int maxPayloadBytes) {
        ByteBuffer payload =
                d.getPayload() == null ? ByteBuffer.allocate(0) : d.getPayload().duplicate();
        String topic = cut(d.getSourceTopic(), MAX_TOPIC_CHARS, "");
        String reason = cut(d.getReason(), MAX_REASON_CHARS, "...");
        boolean unknownPayload = d.getPayloadSize() < 0 || d.getPayloadSha256() == null;
        boolean cutPayload = payload.remaining() > maxPayloadBytes;
        if (!unknownPayload && !cutPayload && topic.equals(d.getSourceTopic()) && reason.equals(d.getReason())) {
            return d;
        }
        DeadLetter.Builder b = DeadLetter.newBuilder()
                .setSourceTopic(topic)
                .setPartition(d.getPartition())
                .setOffset(d.getOffset())
                .setReason(reason)
                .setTimestampMillis(d.getTimestampMillis());
        if (unknownPayload) {
            b.setPayloadSize(payload.remaining()).setPayloadSha256(sha256(payload.duplicate()));
        } else {
            b.setPayloadSize(d.getPayloadSize()).setPayloadSha256(d.getPayloadSha256());
        }
        if (cutPayload) {
            byte[] prefix = new byte[Math.max(0, maxPayloadBytes)];
            payload.get(prefix);
            b.setPayload(ByteBuffer.wrap(prefix));
        } else {
            b.setPayload(payload);
        }
        return b.build();
    }

    /**
     * The payload bound of a job's dead letters: {@code requested} ({@code --dead-letter-max-payload-bytes}), checked
     * against the dead-letter producer's {@code max.request.size}.
     *
     * @throws IllegalArgumentException when {@code requested} is negative or a dead letter with that much payload
     *     would not fit the producer's limit (the message names both settings)
     */
    public static int maxPayloadBytes(int requested, int producerMaxRequestSize) {
        String flag = "--" + JobOptions.argName(JobOptions.DEAD_LETTER_MAX_PAYLOAD_BYTES);
        if (requested < 0) {
            throw new IllegalArgumentException(flag + " must be >= 0, got " + requested);
        }
        if ((long) requested + ENVELOPE_BYTES > producerMaxRequestSize) {
            throw new IllegalArgumentException(flag + " " + requested + " does not fit the dead-letter producer: with "
                    + ENVELOPE_BYTES + " bytes for the dead letter's other fields and Kafka's framing it needs "
                    + "max.request.size >= " + ((long) requested + ENVELOPE_BYTES) + ", and max.request.size is "
                    + producerMaxRequestSize + " (--kafka-properties); lower " + flag + " to at most "
                    + Math.max(0, producerMaxRequestSize - ENVELOPE_BYTES) + " or raise max.request.size (and the "
                    + "dead-letter topic's max.message.bytes)");
        }
        return requested;
    }

    /**
     * Writes {@code deadLetters} to {@code --dead-letter-topic} (exactly once, or at least once by
     * {@code --delivery-guarantee}), each first {@link #bounded} to {@code --dead-letter-max-payload-bytes}
     * (checked here, at start, against the producer's {@code max.request.size}), so no dead letter is too large for
     * its producer, whatever record it carries.
     *
     * @throws IllegalArgumentException when the payload bound does not fit the producer ({@link #maxPayloadBytes})
     */
    public static void sinkTo(DataStream<DeadLetter> deadLetters, JobConfig cfg, KafkaIo io) {
        int max = maxPayloadBytes(cfg.get(JobOptions.DEAD_LETTER_MAX_PAYLOAD_BYTES), io.producerMaxRequestSize());
        deadLetters
                .map(new Bound(max), new AvroTypeInfo<>(DeadLetter.class))
                .name("bound dead letters")
                .uid("bound-dead-letters")
                .sinkTo(io.dataSink(
                        cfg.get(JobOptions.DEAD_LETTER_TOPIC),
                        DeadLetter.class,
                        DeadLetter::getSourceTopic,
                        "dead-letters"))
                .name("dead-letter sink")
                .uid("dead-letter-sink");
    }

    /** {@link #bounded} as a map step. */
    static final class Bound implements MapFunction<DeadLetter, DeadLetter> {
        private static final long serialVersionUID = 1L;
        private final int maxPayloadBytes;

        Bound(int maxPayloadBytes) {
            this.maxPayloadBytes = maxPayloadBytes;
        }

        @Override
        public DeadLetter map(DeadLetter d) {
            return bounded(d, maxPayloadBytes);
        }
    }

    /** SHA-256 of the bytes between the buffer's position and limit (the buffer's position moves to its limit). */
    static ByteBuffer sha256(ByteBuffer bytes) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(bytes);
            return ByteBuffer.wrap(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** {@code s} (null as empty) cut to at most {@code max} characters ending in {@code ellipsis}, never in half a pair. */
    private static String cut(String s, int max, String ellipsis) {
        if (s == null) {
            return "";
        }
        if (s.length() <= max) {
            return s;
        }
        int end = max - ellipsis.length();
        if (Character.isHighSurrogate(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end) + ellipsis;
    }
}
