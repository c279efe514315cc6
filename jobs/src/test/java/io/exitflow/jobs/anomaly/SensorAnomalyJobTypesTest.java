package io.exitflow.jobs.anomaly;

import static org.junit.jupiter.api.Assertions.assertFalse;

import io.exitflow.jobs.common.JobConfig;
import io.exitflow.jobs.common.OfflineArgs;
import io.exitflow.jobs.it.RepoPaths;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.junit.jupiter.api.Test;

/**
 * Every type that crosses operators in the anomaly job has a serializer of its own: building the job graph with
 * generic (Kryo) types disabled creates every edge's serializer and throws on the first type that would need Kryo.
 */
class SensorAnomalyJobTypesTest {
    @Test
    void noTypeBetweenOperatorsFallsBackToKryo() {
        for (String mode : new String[] {"CASCADE", "SPLIT", "FULL_DEPTH", "ROW_AT_A_TIME"}) {
            Configuration noKryo = new Configuration();
            noKryo.set(PipelineOptions.GENERIC_TYPES, false);
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(noKryo);
            SensorAnomalyJob.build(
                    env,
                    JobConfig.parse(
                            OfflineArgs.of(
                                    RepoPaths.resolve("models/sensor-cnn").toString(),
                                    "--mode",
                                    mode,
                                    "--allow-jobmanager-checkpoints",
                                    "true"),
                            new Configuration()));
            StreamGraph graph = env.getStreamGraph();
            assertFalse(
                    graph.getJobGraph()
                            .getVerticesSortedTopologicallyFromSources()
                            .isEmpty(),
                    mode);
        }
    }
}
