package io.exitflow.jobs.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.it.RepoPaths;
import io.exitflow.runtime.api.EarlyExit;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.manifest.Fixtures;
import io.exitflow.runtime.record.InferenceRequest;
import io.exitflow.schemas.Prediction;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.util.TestStreamEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.apache.flink.util.ExceptionUtils;
import org.junit.jupiter.api.Test;

/**
 * The placement settings against Flink's real scheduler (a MiniCluster; no GPU on this machine): the deep stages'
 * slot sharing group gets slots on a TaskManager that declares Flink's {@code gpu} external resource (where the
 * CUDA stages, on the CPU onnxruntime jar, log a warning and run on CPU, answering every event), and gets none on a
 * TaskManager that declares no GPU: the job then fails for want of resources instead of running its deep stages
 * on a CPU-only TaskManager.
 */
class GpuSlotSchedulingIT {
    private static final String BUNDLE = RepoPaths.resolve("models/sensor-cnn").toString();
    private static final String[] DEEP_STAGES_ON_GPU = {"--gpu-stages", "2-3", "--stage-slot-groups", "0-1:cpu,2-3:gpu"
    };

    /** One TaskManager with 4 slots and {@code gpus} GPUs declared as Flink's gpu external resource (0: none). */
    private static MiniCluster cluster(int gpus) throws Exception {
        Configuration conf = new Configuration();
        if (gpus > 0) {
            // Only the amount: the resource counts for scheduling without the GPU driver plugin.
            conf.setString("external-resources", "gpu");
            conf.setString("external-resource.gpu.amount", String.valueOf(gpus));
        }
        conf.setString("slot.request.timeout", "5 s");
        conf.setString("restart-strategy.type", "none");
        MiniCluster mc = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(conf)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(4)
                .build());
        mc.start();
        return mc;
    }

    /** Runs every fixture window of the bundle through the SPLIT stages placed by {@code args}. */
    private static List<Prediction> run(MiniCluster mc, List<InferenceRequest> requests, String... args)
            throws Exception {
        StreamExecutionEnvironment env = new TestStreamEnvironment(mc, 1);
        StagePlacement placement = StagePlacement.of(
                JobConfig.parse(args, new Configuration()),
                EarlyExit.Mode.SPLIT,
                ModelBundle.load(Path.of(BUNDLE)).manifest().numStages());
        placement.registerSlotSharingGroups(env);
        EarlyExit.Result out = placement
                .applyTo(EarlyExit.builder())
                .bundlePath(BUNDLE)
                .mode(EarlyExit.Mode.SPLIT)
                .maxWait(java.time.Duration.ofMillis(5))
                .build()
                .apply(env.fromData(requests), null);
        List<Prediction> predictions = new ArrayList<>();
        try (CloseableIterator<Prediction> it = out.predictions().collectAsync()) {
            env.execute("gpu slot scheduling");
            it.forEachRemaining(predictions::add);
        }
        return predictions;
    }

    private static List<InferenceRequest> requests() {
        float[][] inputs = Fixtures.read(RepoPaths.resolve("models/sensor-cnn")).inputs();
        List<InferenceRequest> out = new ArrayList<>();
        for (int i = 0; i < inputs.length; i++) {
            out.add(new InferenceRequest("w" + i, "sensor-" + (i % 5), i, inputs[i], null));
        }
        return out;
    }

    @Test
    void deepStagesRunOnATaskManagerWithAGpuAndAnswerEveryEvent() throws Exception {
        List<InferenceRequest> requests = requests();
        try (MiniCluster mc = cluster(4)) {
            List<Prediction> predictions = run(mc, requests, DEEP_STAGES_ON_GPU);
            assertEquals(requests.size(), predictions.size(), "one prediction per event");
            Set<String> ids = new HashSet<>();
            predictions.forEach(p -> ids.add(p.getEventId()));
            assertEquals(requests.size(), ids.size(), "no event answered twice");
        }
    }

    @Test
    void withoutAGpuTheDeepStagesGetNoSlot() throws Exception {
        List<InferenceRequest> requests = requests();
        try (MiniCluster mc = cluster(0)) {
            // The same job with every stage on CPU needs no GPU: the cluster itself is fine.
            assertEquals(
                    requests.size(),
                    run(mc, requests, "--stage-slot-groups", "0-1:cpu,2-3:deep").size());
            Exception e = assertThrows(Exception.class, () -> run(mc, requests, DEEP_STAGES_ON_GPU));
            assertTrue(
                    ExceptionUtils.findThrowable(e, NoResourceAvailableException.class)
                            .isPresent(),
                    "fails for want of a GPU slot: " + ExceptionUtils.stringifyException(e));
        }
    }

    @Test
    void aGpuSlotAsksForItsShareOfTheGpus() throws Exception {
        List<InferenceRequest> requests = requests();
        // One GPU, 4 slots: a default-sized slot takes a quarter of it. Two deep-stage subtasks asking for a whole
        // GPU each cannot both fit; asking for a quarter (one slot's share) they can.
        try (MiniCluster mc = cluster(1)) {
            Exception e = assertThrows(
                    Exception.class,
                    () -> run(
                            mc,
                            requests,
                            "--gpu-stages",
                            "3",
                            "--stage-slot-groups",
                            "3:gpu",
                            "--stage-parallelism",
                            "3:2"));
            assertTrue(
                    ExceptionUtils.findThrowable(e, NoResourceAvailableException.class)
                            .isPresent(),
                    ExceptionUtils.stringifyException(e));
            assertEquals(
                    requests.size(),
                    run(
                                    mc,
                                    requests,
                                    "--gpu-stages",
                                    "3",
                                    "--stage-slot-groups",
                                    "3:gpu",
                                    "--stage-parallelism",
                                    "3:2",
                                    "--gpu-slot-gpus",
                                    "0.25")
                            .size());
        }
    }
}
