package io.exitflow.jobs.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.anomaly.SensorAnomalyJob;
import io.exitflow.jobs.it.RepoPaths;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Object reuse (issue 13 item 4) is on, and holds only while the operators that keep records get them over the
 * network: the window assembler (keyed state) and the early-exit operators (batches) must each head their chain,
 * never be chained behind an operator that would hand them an object it may reuse.
 */
class ObjectReuseTest {
    @TempDir
    Path dir;

    @Test
    void objectReuseIsOnAndTheOperatorsThatKeepRecordsHeadTheirChains() {
        for (String mode : List.of("cascade", "split")) {
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
            SensorAnomalyJob.build(
                    env,
                    JobConfig.parse(
                            OfflineArgs.of(
                                    RepoPaths.resolve("models/sensor-cnn").toString(),
                                    "--checkpoint-dir",
                                    dir.toUri().toString(),
                                    "--mode",
                                    mode),
                            new Configuration()));
            assertTrue(env.getConfig().isObjectReuseEnabled());
            JobGraph graph = env.getStreamGraph().getJobGraph();
            List<String> keepers = new ArrayList<>();
            for (JobVertex v : graph.getVertices()) {
                String[] chain = v.getName().split(" -> ");
                for (int i = 0; i < chain.length; i++) {
                    if (chain[i].startsWith("assemble windows") || chain[i].startsWith("early-exit")) {
                        assertEquals(
                                0, i, mode + ": " + chain[i] + " is chained behind another operator: " + v.getName());
                        keepers.add(chain[i]);
                    }
                }
            }
            assertTrue(keepers.size() >= 2, mode + ": " + keepers);
        }
    }
}
