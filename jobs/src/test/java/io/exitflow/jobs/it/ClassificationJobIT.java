package io.exitflow.jobs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.data.DatasetWriter;
import io.exitflow.data.SensorWindow;
import io.exitflow.jobs.classification.ClassificationJob;
import io.exitflow.jobs.common.AvroCodec;
import io.exitflow.jobs.common.JobConfig;
import io.exitflow.jobs.common.JobOptions;
import io.exitflow.jobs.demo.EmbeddedKafka;
import io.exitflow.jobs.demo.TopicReader;
import io.exitflow.jobs.simulator.SensorFleet;
import io.exitflow.schemas.DeadLetter;
import io.exitflow.schemas.FeatureEvent;
import io.exitflow.schemas.Prediction;
import io.exitflow.schemas.SensorReading;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** The classification job end to end: FeatureEvents of test-split windows in, predictions and dead letters out. */
class ClassificationJobIT {
    @Test
    void classifiesFeatureEventsAndDeadLettersBadOnes() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(2, "features", "predictions", "dead-letters", "stage-stats");
            // The dataset's feature events (DatasetWriter's definition) of two test sensors, and three bad records.
            SensorFleet fleet = new SensorFleet("test", 2, SensorFleet.DATASET_SEED, SensorFleet.DATASET_START_MILLIS);
            Map<String, List<SensorReading>> bySensor = new HashMap<>();
            for (int i = 0; i < 2 * 1200; i++) {
                SensorReading r = fleet.next();
                bySensor.computeIfAbsent(r.getSensorId(), k -> new ArrayList<>())
                        .add(r);
            }
            AvroCodec<FeatureEvent> codec = AvroCodec.of(FeatureEvent.class);
            Map<String, String> labels = new HashMap<>();
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
                for (List<SensorReading> readings : bySensor.values()) {
                    for (int from = 0; from + 128 <= readings.size(); from += 32) {
                        FeatureEvent e = DatasetWriter.toFeatureEvent(SensorWindow.of(readings, from, 128));
                        labels.put(e.getEventId(), e.getLabel());
                        producer.send(new ProducerRecord<>(
                                "features", e.getKey().getBytes(StandardCharsets.UTF_8), codec.encode(e)));
                    }
                }
                FeatureEvent good = DatasetWriter.toFeatureEvent(SensorWindow.of(bySensor.get("test-000"), 0, 128));
                List<Float> shortVector = good.getFeatures().subList(0, 10);
                List<Float> withNaN = new ArrayList<>(good.getFeatures());
                withNaN.set(5, Float.NaN);
                for (byte[] bad : new byte[][] {
                    codec.encode(FeatureEvent.newBuilder(good)
                            .setEventId("short")
                            .setFeatures(shortVector)
                            .build()),
                    codec.encode(FeatureEvent.newBuilder(good)
                            .setEventId("nan")
                            .setFeatures(withNaN)
                            .build()),
                    "not avro at all".getBytes(StandardCharsets.UTF_8)
                }) {
                    producer.send(new ProducerRecord<>("features", null, bad));
                }
            }

            Map<ConfigOption<?>, Object> s = new LinkedHashMap<>();
            s.put(JobOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
            s.put(JobOptions.BUNDLE, RepoPaths.resolve("models/features-mlp").toString());
            s.put(JobOptions.INPUT_TOPIC, "features");
            s.put(JobOptions.CONTROL_TOPIC, "");
            s.put(JobOptions.BOUNDED, true);
            s.put(
                    JobOptions.CHECKPOINT_DIR,
                    java.nio.file.Files.createTempDirectory("it-ckpt").toUri().toString());
            s.put(JobOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(500));
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, new Configuration());
            ClassificationJob.build(env, JobConfig.of(s));
            env.execute("classification-it");

            List<Prediction> predictions;
            try (TopicReader<Prediction> r =
                    new TopicReader<>(kafka.bootstrapServers(), "predictions", Prediction.class)) {
                predictions = r.readUntilQuiet(Duration.ofSeconds(3));
            }
            Set<String> ids = new HashSet<>();
            int correct = 0;
            for (Prediction pr : predictions) {
                assertTrue(ids.add(pr.getEventId()), "duplicate " + pr.getEventId());
                assertEquals(labels.get(pr.getEventId()), pr.getLabel());
                assertEquals("features-mlp", pr.getModelId());
                correct += pr.getPredictedClass().equals(pr.getLabel()) ? 1 : 0;
            }
            assertEquals(labels.keySet(), ids);
            assertTrue(correct > 0.6 * predictions.size(), correct + " of " + predictions.size() + " right");

            List<DeadLetter> dead;
            try (TopicReader<DeadLetter> r =
                    new TopicReader<>(kafka.bootstrapServers(), "dead-letters", DeadLetter.class)) {
                dead = r.readUntilQuiet(Duration.ofSeconds(2));
            }
            List<String> reasons =
                    dead.stream().map(DeadLetter::getReason).sorted().toList();
            assertEquals(3, reasons.size(), reasons.toString());
            assertTrue(reasons.get(0).startsWith("invalid: expected 36 features, got 10"), reasons.toString());
            assertTrue(reasons.get(1).startsWith("invalid: feature 5 is NaN"), reasons.toString());
            assertTrue(reasons.get(2).startsWith("undecodable"), reasons.toString());
        }
    }
}
