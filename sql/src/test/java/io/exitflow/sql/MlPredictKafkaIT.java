package io.exitflow.sql;

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
import io.exitflow.schemas.FeatureEvent;
import io.exitflow.schemas.Prediction;
import io.exitflow.schemas.SensorReading;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.formats.avro.typeutils.AvroSchemaConverter;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.table.types.DataType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * ML_PREDICT end to end: the classification job's Avro FeatureEvents on a Kafka topic (in-process KRaft broker),
 * read by Flink's Kafka SQL connector with the avro format, classified by {@code CREATE MODEL ... WITH ('provider' =
 * 'exitflow')} on models/features-mlp, written to Kafka topics through the same connector. Three ways in one job:
 * async with batching (array input), sync (async = false), and one numeric column per feature. Each must give every
 * event the DataStream classification job's class and exit stage on the same events.
 */
class MlPredictKafkaIT {
    private static final DataType OUT_ROW = DataTypes.ROW(
                    DataTypes.FIELD("eventId", DataTypes.STRING()),
                    DataTypes.FIELD("predicted_class", DataTypes.STRING()),
                    DataTypes.FIELD("class_index", DataTypes.INT()),
                    DataTypes.FIELD("probability", DataTypes.FLOAT()),
                    DataTypes.FIELD("exit_stage", DataTypes.INT()),
                    DataTypes.FIELD("stages_run", DataTypes.INT()),
                    DataTypes.FIELD("model_version", DataTypes.STRING()))
            .notNull();
    private static final String OUT_COLUMNS = "eventId STRING, predicted_class STRING, class_index INT, "
            + "probability FLOAT, exit_stage INT, stages_run INT, model_version STRING";

    @Test
    void mlPredictGivesTheDataStreamJobsAnswers() throws Exception {
        String bundle = SqlTestSupport.repo("models/features-mlp").toString();
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(
                    2,
                    "features",
                    "predictions",
                    "dead-letters",
                    "stage-stats",
                    "sql-async",
                    "sql-sync",
                    "sql-columns");
            Map<String, FeatureEvent> events = produceFeatureEvents(kafka.bootstrapServers());

            // The DataStream classification job on the same topic.
            Map<ConfigOption<?>, Object> s = new LinkedHashMap<>();
            s.put(JobOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
            s.put(JobOptions.BUNDLE, bundle);
            s.put(JobOptions.INPUT_TOPIC, "features");
            s.put(JobOptions.CONTROL_TOPIC, "");
            s.put(JobOptions.BOUNDED, true);
            s.put(
                    JobOptions.CHECKPOINT_DIR,
                    Files.createTempDirectory("sql-it-ckpt").toUri().toString());
            s.put(JobOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(500));
            Configuration conf = new Configuration();
            conf.set(RestOptions.BIND_PORT, "0");
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, conf);
            ClassificationJob.build(env, JobConfig.of(s));
            env.execute("classification-for-sql-it");
            Map<String, Prediction> expected = new HashMap<>();
            try (TopicReader<Prediction> r =
                    new TopicReader<>(kafka.bootstrapServers(), "predictions", Prediction.class)) {
                for (Prediction p : r.readUntilQuiet(Duration.ofSeconds(2))) {
                    expected.put(p.getEventId(), p);
                }
            }
            assertEquals(events.keySet(), expected.keySet(), "the DataStream job answered every event once");

            // The same events through ML_PREDICT.
            StreamTableEnvironment tEnv = SqlTestSupport.tableEnv(2);
            String kafkaOptions = "'connector' = 'kafka', 'properties.bootstrap.servers' = '" + kafka.bootstrapServers()
                    + "', 'format' = 'avro'";
            tEnv.executeSql("CREATE TABLE feature_events (eventId STRING NOT NULL, `key` STRING NOT NULL, "
                    + "eventTime TIMESTAMP(3) NOT NULL, features ARRAY<FLOAT NOT NULL> NOT NULL, label STRING) WITH ("
                    + kafkaOptions + ", 'topic' = 'features', 'properties.group.id' = 'sql-it', "
                    + "'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset')");
            for (String topic : List.of("sql-async", "sql-sync", "sql-columns")) {
                tEnv.executeSql("CREATE TABLE `" + topic + "` (" + OUT_COLUMNS + ") WITH (" + kafkaOptions
                        + ", 'topic' = '" + topic + "')");
            }
            String outputs = "OUTPUT (predicted_class STRING, class_index INT, probability FLOAT, exit_stage INT, "
                    + "stages_run INT, model_version STRING)";
            tEnv.executeSql("CREATE MODEL fault_classifier INPUT (features ARRAY<FLOAT>) " + outputs
                    + " WITH ('provider' = 'exitflow', 'bundle' = '" + bundle + "', 'max-batch-size' = '16', "
                    + "'max-wait' = '20 ms')");
            StringBuilder columns = new StringBuilder();
            StringBuilder selectColumns = new StringBuilder();
            StringBuilder names = new StringBuilder();
            for (int i = 0; i < 36; i++) {
                String sep = i == 0 ? "" : ", ";
                columns.append(sep).append("f").append(i).append(" FLOAT");
                selectColumns
                        .append(sep)
                        .append("features[")
                        .append(i + 1)
                        .append("] AS f")
                        .append(i);
                names.append(sep).append("f").append(i);
            }
            tEnv.executeSql("CREATE MODEL fault_columns INPUT (" + columns + ") " + outputs
                    + " WITH ('provider' = 'exitflow', 'bundle' = '" + bundle + "')");
            tEnv.executeSql("CREATE TEMPORARY VIEW feature_columns AS SELECT eventId, " + selectColumns
                    + " FROM feature_events");
            String select = "SELECT eventId, predicted_class, class_index, probability, exit_stage, stages_run, "
                    + "model_version FROM ML_PREDICT(";
            StatementSet set = tEnv.createStatementSet();
            set.addInsertSql(
                    "INSERT INTO `sql-async` " + select + "TABLE feature_events, MODEL fault_classifier, "
                            + "DESCRIPTOR(features), MAP['max-concurrent-operations', '64', 'output-mode', 'allow_unordered'])");
            set.addInsertSql("INSERT INTO `sql-sync` " + select + "TABLE feature_events, MODEL fault_classifier, "
                    + "DESCRIPTOR(features), MAP['async', 'false'])");
            set.addInsertSql("INSERT INTO `sql-columns` " + select + "TABLE feature_columns, MODEL fault_columns, "
                    + "DESCRIPTOR(" + names + "))");
            set.execute().await();

            String version = expected.values().iterator().next().getModelVersion();
            for (String topic : List.of("sql-async", "sql-sync", "sql-columns")) {
                List<GenericRecord> rows = readAvro(kafka.bootstrapServers(), topic);
                assertEquals(events.size(), rows.size(), topic + ": one prediction per event");
                int earlyExits = 0;
                for (GenericRecord r : rows) {
                    String id = r.get("eventId").toString();
                    Prediction want = expected.get(id);
                    assertTrue(want != null, topic + ": unknown event " + id);
                    assertEquals(
                            want.getPredictedClass(), r.get("predicted_class").toString(), topic + " " + id);
                    assertEquals(want.getClassIndex(), (int) r.get("class_index"), topic + " " + id);
                    assertEquals(want.getExitStage(), (int) r.get("exit_stage"), topic + " " + id);
                    assertEquals(want.getExitStage() + 1, (int) r.get("stages_run"), topic + " " + id);
                    assertEquals(want.getProbability(), (float) r.get("probability"), 1e-4f, topic + " " + id);
                    assertEquals(version, r.get("model_version").toString());
                    earlyExits += want.getExitStage() < 3 ? 1 : 0;
                }
                assertTrue(earlyExits > rows.size() / 2, topic + ": most events leave early (" + earlyExits + ")");
            }
        }
    }

    /** FeatureEvents of the dataset's test sensors (DatasetWriter's definition), by event id. */
    private static Map<String, FeatureEvent> produceFeatureEvents(String bootstrap) throws Exception {
        SensorFleet fleet = new SensorFleet("test", 4, SensorFleet.DATASET_SEED, SensorFleet.DATASET_START_MILLIS);
        Map<String, List<SensorReading>> bySensor = new HashMap<>();
        for (int i = 0; i < 4 * 1200; i++) {
            SensorReading r = fleet.next();
            bySensor.computeIfAbsent(r.getSensorId(), k -> new ArrayList<>()).add(r);
        }
        AvroCodec<FeatureEvent> codec = AvroCodec.of(FeatureEvent.class);
        Map<String, FeatureEvent> events = new HashMap<>();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (List<SensorReading> readings : bySensor.values()) {
                for (int from = 0; from + 128 <= readings.size(); from += 32) {
                    FeatureEvent e = DatasetWriter.toFeatureEvent(SensorWindow.of(readings, from, 128));
                    events.put(e.getEventId(), e);
                    producer.send(new ProducerRecord<>(
                            "features", e.getKey().getBytes(StandardCharsets.UTF_8), codec.encode(e)));
                }
            }
        }
        return events;
    }

    /** Every record of {@code topic}, decoded with the Avro schema Flink's avro format derives from the sink's row. */
    private static List<GenericRecord> readAvro(String bootstrap, String topic) {
        Schema schema = AvroSchemaConverter.convertToSchema(OUT_ROW.getLogicalType());
        GenericDatumReader<GenericRecord> reader = new GenericDatumReader<>(schema);
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<GenericRecord> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(topic, i.partition()))
                    .toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            long deadline = System.currentTimeMillis() + 30_000;
            while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException(topic + ": not read to its end offsets " + end + " in 30 s");
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    try {
                        out.add(reader.read(null, DecoderFactory.get().binaryDecoder(r.value(), null)));
                    } catch (java.io.IOException e) {
                        throw new IllegalStateException(topic + " offset " + r.offset() + " is not the sink's Avro", e);
                    }
                }
            }
        }
        return out;
    }
}
