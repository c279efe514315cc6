package io.exitflow.jobs.cluster;

import io.exitflow.data.SensorSignalGenerator;
import io.exitflow.data.SensorWindow;
import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.schemas.SensorReading;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Readings of a few simulated sensors ({@link SensorSignalGenerator}), sent to Kafka the way sensors send them,
 * and the windows they make ({@link SensorWindow}: the cut the anomaly job must reproduce).
 */
final class SensorStreams {
    /**
     * Windows ending within this much event time of the newest reading sent may legitimately wait for a watermark
     * that has not come yet (the stream pauses or stops); only earlier windows are required. Far above the job's
     * out-of-orderness bound.
     */
    static final long TAIL_MILLIS = 1_000;

    /** One window the readings make, keyed by the job's event id {@code <sensor>@<end time>}. */
    record ExpectedWindow(String sensorId, long endTime, String label) {}

    private final List<List<SensorReading>> bySensor = new ArrayList<>();
    private final Manifest.Window window;

    /**
     * @param sensors number of sensors, {@code <prefix>-0 ..}
     * @param readings readings per sensor
     * @param window the bundle's window cut
     */
    SensorStreams(String prefix, int sensors, int readings, long seed, Manifest.Window window) {
        this.window = window;
        long start = System.currentTimeMillis() - (long) Math.ceil(readings * window.samplePeriodMs());
        for (int s = 0; s < sensors; s++) {
            SensorSignalGenerator generator = new SensorSignalGenerator(prefix + "-" + s, seed, start);
            List<SensorReading> list = new ArrayList<>(readings);
            for (int i = 0; i < readings; i++) {
                list.add(generator.next());
            }
            bySensor.add(list);
        }
    }

    int readingsPerSensor() {
        return bySensor.get(0).size();
    }

    /**
     * Sends readings {@code [from, to)} of every sensor to {@code topic}, in time order across sensors as sensors
     * send (a partition's event time must not jump back, or the watermark would make later sensors' readings late);
     * sensor {@code s} goes to partition {@code s % partitions}, so every source subtask has data and its watermark
     * advances. Returns once the broker has acknowledged all of them.
     */
    void send(String bootstrapServers, String topic, int partitions, int from, int to) throws Exception {
        AvroCodec<SensorReading> codec = AvroCodec.of(SensorReading.class);
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            List<Future<RecordMetadata>> sends = new ArrayList<>();
            for (int i = from; i < to; i++) {
                for (int s = 0; s < bySensor.size(); s++) {
                    SensorReading r = bySensor.get(s).get(i);
                    sends.add(producer.send(new ProducerRecord<>(
                            topic, s % partitions, r.getSensorId().getBytes(StandardCharsets.UTF_8), codec.encode(r))));
                }
            }
            producer.flush();
            for (Future<RecordMetadata> send : sends) {
                send.get(); // fails the test if any reading was not written
            }
        }
    }

    /** Every window of the full readings, by event id. */
    Map<String, ExpectedWindow> windows() {
        Map<String, ExpectedWindow> windows = new HashMap<>();
        for (List<SensorReading> readings : bySensor) {
            for (int from = 0; from + window.size() <= readings.size(); from += window.slide()) {
                SensorWindow w = SensorWindow.of(readings, from, window.size());
                windows.put(
                        w.sensorId() + "@" + w.endTimeMillis(),
                        new ExpectedWindow(w.sensorId(), w.endTimeMillis(), w.label()));
            }
        }
        return windows;
    }

    /** The windows the job must have answered once readings {@code [0, sent)} are in: all but the tail. */
    Map<String, ExpectedWindow> requiredAfter(int sent) {
        long newest = bySensor.get(0).get(sent - 1).getEventTime().toEpochMilli();
        Map<String, ExpectedWindow> required = new HashMap<>();
        windows().forEach((id, w) -> {
            if (w.endTime() <= newest - TAIL_MILLIS) {
                required.put(id, w);
            }
        });
        return required;
    }
}
