package io.exitflow.jobs.it;

import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.jobs.simulator.ExpectedWindows;
import io.exitflow.jobs.simulator.SensorFleet;
import io.exitflow.schemas.SensorReading;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * What the {@link io.exitflow.jobs.simulator.StreamSimulator}'s fleet (the test split, dataset seed and start)
 * makes of the readings it sent: the windows the anomaly job must answer ({@link ExpectedWindows}, with
 * the sensor-cnn bundle's 128/32 window); and the readings that release the last of them.
 */
final class FleetWindows {
    /** The sensor-cnn bundle's window (manifest.json input.window). */
    static final int SIZE = 128;

    static final int SLIDE = 32;
    static final long SAMPLE_PERIOD_MS = 10;

    private FleetWindows() {}

    /**
     * Event id ({@code <sensor>@<end time>}, as the job names windows) to label, of every window the first
     * {@code readings} readings of a {@code sensors}-sensor fleet make (the fleet takes its sensors in turns).
     */
    static Map<String, String> labels(int sensors, long readings) {
        return ExpectedWindows.labels(
                "test", sensors, SensorFleet.DATASET_SEED, SensorFleet.DATASET_START_MILLIS, readings, SIZE, SLIDE);
    }

    /**
     * One reading per sensor far ahead in event time (after {@code readingsPerSensor} readings of each): it moves
     * the watermark past every real reading, so their last windows are released (the flush readings themselves
     * restart their windows after the gap). Keyed like the simulator's, so each lands on its sensor's partition.
     */
    static void sendWatermarkFlush(String bootstrap, String topic, int sensors, long readingsPerSensor) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        AvroCodec<SensorReading> codec = AvroCodec.of(SensorReading.class);
        long later = SensorFleet.DATASET_START_MILLIS + 10L * readingsPerSensor * SAMPLE_PERIOD_MS;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < sensors; i++) {
                String id = String.format(Locale.ROOT, "test-%03d", i);
                SensorReading r = SensorReading.newBuilder()
                        .setSensorId(id)
                        .setEventTime(Instant.ofEpochMilli(later))
                        .setValues(List.of(0f, 0f, 0f))
                        .setLabel(null)
                        .setSeverity(null)
                        .build();
                producer.send(new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8), codec.encode(r)));
            }
        }
    }
}
