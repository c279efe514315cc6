package io.exitflow.jobs.common;

import io.exitflow.schemas.DeadLetter;
import java.nio.ByteBuffer;
import org.apache.flink.util.OutputTag;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Building dead letters, and the side output they travel on inside a job. */
public final class DeadLetters {
    /** Side output of every operator that rejects records; the job unions them into the dead-letter sink. */
    public static final OutputTag<DeadLetter> TAG = new OutputTag<>("dead-letters",
            new org.apache.flink.formats.avro.typeutils.AvroTypeInfo<>(DeadLetter.class));

    /** Name of the counter (in each rejecting operator's metric group) of records sent to the dead-letter topic. */
    public static final String METRIC = "deadLetters";

    private DeadLetters() {}

    /** The dead letter of a Kafka record, with its raw value exactly as read (empty for a null value). */
    public static DeadLetter of(ConsumerRecord<byte[], byte[]> record, String reason) {
        return of(record.topic(), record.partition(), record.offset(), reason, record.value(), record.timestamp());
    }

    /**
     * A dead letter from its parts; use partition -1 and offset -1 when the Kafka position is no longer known
     * (for example a reading found late after decoding).
     */
    public static DeadLetter of(String topic, int partition, long offset, String reason, byte[] payload,
            long timestampMillis) {
        return DeadLetter.newBuilder()
                .setSourceTopic(topic)
                .setPartition(partition)
                .setOffset(offset)
                .setReason(reason)
                .setPayload(ByteBuffer.wrap(payload == null ? new byte[0] : payload))
                .setTimestampMillis(timestampMillis)
                .build();
    }
}
