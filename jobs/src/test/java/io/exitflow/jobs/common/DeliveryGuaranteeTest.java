package io.exitflow.jobs.common;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.anomaly.SensorAnomalyJob;
import io.exitflow.jobs.it.RepoPaths;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.dag.Transformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.transformations.SinkTransformation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --delivery-guarantee} (issue 13 item 5): the option parses in Flink's own spelling, defaults to exactly
 * once, refuses {@code none} naming the flag, and every data sink of the anomaly job is built with the guarantee
 * asked for (read from the KafkaSink the job graph holds), the transaction checks applying to exactly once only.
 */
class DeliveryGuaranteeTest {
    @TempDir
    Path dir;

    private String[] anomalyArgs(String... more) {
        return OfflineArgs.of(
                RepoPaths.resolve("models/sensor-cnn").toString(),
                java.util.stream.Stream.concat(
                                java.util.stream.Stream.of(
                                        "--checkpoint-dir", dir.toUri().toString()),
                                java.util.stream.Stream.of(more))
                        .toArray(String[]::new));
    }

    @Test
    void parsesFlinksSpellingDefaultsToExactlyOnceAndRefusesNone() {
        assertEquals(
                DeliveryGuarantee.EXACTLY_ONCE,
                KafkaIo.deliveryGuarantee(JobConfig.parse(anomalyArgs(), new Configuration())));
        assertEquals(
                DeliveryGuarantee.AT_LEAST_ONCE,
                KafkaIo.deliveryGuarantee(
                        JobConfig.parse(anomalyArgs("--delivery-guarantee", "at-least-once"), new Configuration())));
        assertEquals(
                DeliveryGuarantee.AT_LEAST_ONCE,
                KafkaIo.deliveryGuarantee(
                        JobConfig.parse(anomalyArgs("--delivery-guarantee", "AT-LEAST-ONCE"), new Configuration())));
        Configuration yaml = new Configuration();
        yaml.setString("exitflow.delivery-guarantee", "at-least-once");
        assertEquals(DeliveryGuarantee.AT_LEAST_ONCE, KafkaIo.deliveryGuarantee(JobConfig.parse(anomalyArgs(), yaml)));

        IllegalArgumentException bad = assertThrows(
                IllegalArgumentException.class,
                () -> JobConfig.parse(anomalyArgs("--delivery-guarantee", "twice"), new Configuration()));
        assertTrue(
                bad.getMessage().startsWith("--delivery-guarantee must be one of exactly-once, at-least-once, none"),
                bad.getMessage());
        IllegalArgumentException none = assertThrows(
                IllegalArgumentException.class,
                () -> KafkaIo.deliveryGuarantee(
                        JobConfig.parse(anomalyArgs("--delivery-guarantee", "none"), new Configuration())));
        assertTrue(
                none.getMessage().startsWith("--delivery-guarantee must be exactly-once or at-least-once, got 'none'"),
                none.getMessage());
    }

    @Test
    void everyDataSinkHasTheGuaranteeAskedFor() throws Exception {
        Map<String, DeliveryGuarantee> exactly = sinkGuarantees();
        Map<String, DeliveryGuarantee> atLeast = sinkGuarantees("--delivery-guarantee", "at-least-once");
        for (String data : List.of("predictions sink", "alert sink", "dead-letter sink")) {
            assertEquals(DeliveryGuarantee.EXACTLY_ONCE, exactly.get(data), data + " of " + exactly);
            assertEquals(DeliveryGuarantee.AT_LEAST_ONCE, atLeast.get(data), data + " of " + atLeast);
        }
        // control traffic is at least once either way
        assertEquals(DeliveryGuarantee.AT_LEAST_ONCE, exactly.get("stage stats sink"));
        assertEquals(exactly.keySet(), atLeast.keySet());
    }

    @Test
    void theTransactionTimeoutIsCheckedForExactlyOnceOnly() {
        String[] shortTimeout = {"--transaction-timeout-ms", "2000", "--checkpoint-interval-ms", "30000"};
        assertThrows(
                IllegalArgumentException.class,
                () -> SensorAnomalyJob.build(
                        StreamExecutionEnvironment.getExecutionEnvironment(new Configuration()),
                        JobConfig.parse(anomalyArgs(shortTimeout), new Configuration())));
        List<String> alo = new ArrayList<>(List.of(shortTimeout));
        alo.addAll(List.of("--delivery-guarantee", "at-least-once"));
        assertDoesNotThrow(() -> SensorAnomalyJob.build(
                StreamExecutionEnvironment.getExecutionEnvironment(new Configuration()),
                JobConfig.parse(anomalyArgs(alo.toArray(String[]::new)), new Configuration())));
    }

    /** Sink name to the guarantee of the KafkaSink inside it, for the anomaly job built with these arguments. */
    private Map<String, DeliveryGuarantee> sinkGuarantees(String... args) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
        SensorAnomalyJob.build(env, JobConfig.parse(anomalyArgs(args), new Configuration()));
        Map<String, DeliveryGuarantee> out = new TreeMap<>();
        for (Transformation<?> t : env.getTransformations()) {
            if (t instanceof SinkTransformation<?, ?> s) {
                Sink<?> sink = s.getSink();
                KafkaSink<?> kafka =
                        sink instanceof StrictKafkaSink<?> strict ? strict.delegate() : (KafkaSink<?>) sink;
                out.put(t.getName(), guarantee(kafka));
            }
        }
        return out;
    }

    /** KafkaSink keeps its guarantee in a private field and has no getter (flink-connector-kafka 5.0). */
    private static DeliveryGuarantee guarantee(KafkaSink<?> sink) throws ReflectiveOperationException {
        Field f = KafkaSink.class.getDeclaredField("deliveryGuarantee");
        f.setAccessible(true);
        return (DeliveryGuarantee) f.get(sink);
    }
}
