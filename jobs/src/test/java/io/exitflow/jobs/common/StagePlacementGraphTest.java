package io.exitflow.jobs.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.anomaly.SensorAnomalyJob;
import io.exitflow.jobs.it.RepoPaths;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.onnx.OrtConfig;
import io.exitflow.runtime.operator.EarlyExitOperator;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.resources.ExternalResource;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.runtime.clusterframework.types.ResourceProfile;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.apache.flink.streaming.api.operators.SimpleOperatorFactory;
import org.junit.jupiter.api.Test;

/**
 * The sensor anomaly job built (not run) with placement settings: each stage operator lands in the requested slot
 * sharing group, with the requested device and parallelism, and the job graph Flink schedules carries the gpu
 * resource on exactly the groups that hold a CUDA stage.
 */
class StagePlacementGraphTest {
    private static final String BUNDLE = RepoPaths.resolve("models/sensor-cnn").toString();
    /** The settings below name stages 0 to 3. */
    private static final int STAGES = 4;

    /** The job's graphs for these settings (plus a bootstrap address; nothing connects). */
    private record Graphs(StreamGraph stream, JobGraph job) {
        StreamNode stage(int k) {
            List<StreamNode> found = stream.getStreamNodes().stream()
                    .filter(n -> n.getOperatorName().equals("early-exit-stage" + k))
                    .toList();
            assertEquals(1, found.size(), "one operator for stage " + k);
            return found.get(0);
        }

        /** The job vertex (task) that runs {@code node}: a vertex is named after the operators chained in it. */
        JobVertex vertexOf(StreamNode node) {
            List<JobVertex> found = new ArrayList<>();
            for (JobVertex v : job.getVertices()) {
                if (List.of(v.getName().split(" -> ")).contains(node.getOperatorName())) {
                    found.add(v);
                }
            }
            assertEquals(1, found.size(), "one job vertex runs " + node.getOperatorName());
            return found.get(0);
        }
    }

    private static Graphs build(String... settings) {
        assertEquals(STAGES, ModelBundle.load(Path.of(BUNDLE)).manifest().numStages(), "stages of " + BUNDLE);
        List<String> args = new ArrayList<>(List.of("--parallelism", "3", "--allow-jobmanager-checkpoints", "true"));
        args.addAll(List.of(settings));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
        SensorAnomalyJob.build(
                env, JobConfig.parse(OfflineArgs.of(BUNDLE, args.toArray(String[]::new)), new Configuration()));
        StreamGraph stream = env.getStreamGraph();
        return new Graphs(stream, stream.getJobGraph());
    }

    private static OrtConfig.Device device(StreamNode n) {
        SimpleOperatorFactory<?> f = (SimpleOperatorFactory<?>) n.getOperatorFactory();
        return ((EarlyExitOperator<?, ?>) f.getOperator()).ortConfig().device();
    }

    private static BigDecimal gpus(ResourceProfile p) {
        if (p.equals(ResourceProfile.UNKNOWN)) {
            return BigDecimal.ZERO;
        }
        ExternalResource gpu = p.getExtendedResources().get("gpu");
        return gpu == null ? BigDecimal.ZERO : gpu.getValue();
    }

    @Test
    void splitStagesLandInTheirGroupsAndOnlyTheGpuGroupAsksForAGpu() {
        Graphs g = build(
                "--mode",
                "SPLIT",
                "--gpu-stages",
                "2-3",
                "--stage-slot-groups",
                "0-1:cpu,2-3:gpu",
                "--stage-parallelism",
                "2-3:1",
                "--gpu-slot-cpu-cores",
                "2",
                "--gpu-slot-task-heap",
                "768m");
        Map<String, ResourceProfile> groupResources = new HashMap<>();
        for (int k = 0; k < STAGES; k++) {
            StreamNode stage = g.stage(k);
            boolean deep = k >= 2;
            assertEquals(deep ? "gpu" : "cpu", stage.getSlotSharingGroup(), "stage " + k);
            assertEquals(deep ? OrtConfig.Device.CUDA : OrtConfig.Device.CPU, device(stage), "stage " + k);
            assertEquals(deep ? 1 : 3, stage.getParallelism(), "stage " + k + " parallelism");
            JobVertex v = g.vertexOf(stage);
            assertNotNull(v.getSlotSharingGroup());
            groupResources.put(
                    stage.getSlotSharingGroup(), v.getSlotSharingGroup().getResourceProfile());
        }
        ResourceProfile gpu = groupResources.get("gpu");
        assertEquals(0, BigDecimal.ONE.compareTo(gpus(gpu)), "gpu group: one gpu per slot, got " + gpu);
        assertEquals(0, BigDecimal.valueOf(2).compareTo(gpu.getCpuCores().getValue()));
        assertEquals(MemorySize.parse("768m"), gpu.getTaskHeapMemory());
        assertEquals(ResourceProfile.UNKNOWN, groupResources.get("cpu"), "CPU stages take default slots anywhere");

        // Everything else (sources, windows, sinks, control) stays out of the GPU group's slots.
        for (StreamNode n : g.stream().getStreamNodes()) {
            if (!n.getOperatorName().startsWith("early-exit-stage")) {
                assertTrue(!n.getSlotSharingGroup().equals("gpu"), n.getOperatorName() + " is in the gpu group");
            }
        }
        for (JobVertex v : g.job().getVertices()) {
            boolean runsDeepStage =
                    v.getName().contains("early-exit-stage2") || v.getName().contains("early-exit-stage3");
            assertEquals(
                    runsDeepStage ? 1 : 0,
                    gpus(v.getSlotSharingGroup().getResourceProfile()).signum(),
                    v.getName());
        }
    }

    @Test
    void gpuStagesWithoutGroupsGetTheGpuGroupAndTheRestStayInDefault() {
        Graphs g = build("--mode", "SPLIT", "--gpu-stages", "3");
        for (int k = 0; k < STAGES; k++) {
            assertEquals(k == 3 ? "gpu" : "default", g.stage(k).getSlotSharingGroup());
            assertEquals(3, g.stage(k).getParallelism());
        }
        assertEquals(
                1,
                gpus(g.vertexOf(g.stage(3)).getSlotSharingGroup().getResourceProfile())
                        .signum());
    }

    @Test
    void cascadeOnCudaIsOneOperatorInTheDefaultGroup() {
        Graphs g = build("--mode", "CASCADE", "--device", "cuda");
        List<StreamNode> ops = g.stream().getStreamNodes().stream()
                .filter(n -> n.getOperatorName().equals("early-exit"))
                .toList();
        assertEquals(1, ops.size());
        assertEquals(OrtConfig.Device.CUDA, device(ops.get(0)));
        assertEquals("default", ops.get(0).getSlotSharingGroup());
        for (JobVertex v : g.job().getVertices()) {
            assertEquals(ResourceProfile.UNKNOWN, v.getSlotSharingGroup().getResourceProfile(), v.getName());
        }
    }
}
