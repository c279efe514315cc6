package io.exitflow.jobs.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.runtime.api.EarlyExit;
import io.exitflow.runtime.onnx.OrtConfig;
import java.util.List;
import org.apache.flink.api.common.operators.SlotSharingGroup;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.junit.jupiter.api.Test;

/** The placement settings as a user types them: parsing, defaults, and every combination refused at start. */
class StagePlacementTest {
    private static final int STAGES = 4;

    private static StagePlacement placement(EarlyExit.Mode mode, String... args) {
        return StagePlacement.of(JobConfig.parse(args, new Configuration()), mode, STAGES);
    }

    private static String refused(EarlyExit.Mode mode, String... args) {
        return assertThrows(IllegalArgumentException.class, () -> placement(mode, args))
                .getMessage();
    }

    @Test
    void byDefaultEveryStageRunsOnCpuInTheDefaultGroupAndNothingAsksForAGpu() {
        for (EarlyExit.Mode mode : EarlyExit.Mode.values()) {
            StagePlacement p = placement(mode);
            for (int k = 0; k < STAGES; k++) {
                assertEquals(OrtConfig.Device.CPU, p.device(k));
                assertEquals(StagePlacement.DEFAULT_GROUP, p.slotSharingGroup(k));
            }
            assertTrue(p.gpuSlotSharingGroups().isEmpty());
        }
    }

    @Test
    void deviceCudaPutsEveryStageOnCudaInAnyMode() {
        StagePlacement cascade = placement(EarlyExit.Mode.CASCADE, "--device", "CUDA");
        for (int k = 0; k < STAGES; k++) {
            assertEquals(OrtConfig.Device.CUDA, cascade.device(k));
        }
        assertTrue(cascade.gpuSlotSharingGroups().isEmpty(), "one operator: the whole job goes where GPUs are");
        assertTrue(refused(EarlyExit.Mode.CASCADE, "--device", "tpu").contains("--device must be cpu or cuda"));
    }

    @Test
    void gpuStagesAloneGoToTheGpuGroupWhichAsksForOneGpuPerSlot() {
        StagePlacement p = placement(EarlyExit.Mode.SPLIT, "--gpu-stages", "2-3");
        assertEquals(
                List.of(OrtConfig.Device.CPU, OrtConfig.Device.CPU, OrtConfig.Device.CUDA, OrtConfig.Device.CUDA),
                List.of(p.device(0), p.device(1), p.device(2), p.device(3)));
        assertEquals(
                List.of("default", "default", "gpu", "gpu"),
                List.of(p.slotSharingGroup(0), p.slotSharingGroup(1), p.slotSharingGroup(2), p.slotSharingGroup(3)));
        SlotSharingGroup gpu = p.gpuSlotSharingGroups().get(0);
        assertEquals(1, p.gpuSlotSharingGroups().size());
        assertEquals("gpu", gpu.getName());
        assertEquals(1.0, gpu.getExternalResources().get("gpu"));
        assertEquals(1.0, gpu.getCpuCores().orElseThrow());
        assertEquals(MemorySize.parse("512m"), gpu.getTaskHeapMemory().orElseThrow());
    }

    @Test
    void namedGroupsMapStagesAndOnlyGroupsWithACudaStageAskForAGpu() {
        StagePlacement p = placement(
                EarlyExit.Mode.SPLIT,
                "--gpu-stages",
                "2,3",
                "--stage-slot-groups",
                "0-1:cpu, 2:deep-a,3:deep-b",
                "--gpu-slot-gpus",
                "0.5",
                "--gpu-slot-cpu-cores",
                "2",
                "--gpu-slot-task-heap",
                "1g",
                "--gpu-slot-managed-memory",
                "64m");
        assertEquals(
                List.of("cpu", "cpu", "deep-a", "deep-b"),
                List.of(p.slotSharingGroup(0), p.slotSharingGroup(1), p.slotSharingGroup(2), p.slotSharingGroup(3)));
        assertEquals(
                List.of("deep-a", "deep-b"),
                p.gpuSlotSharingGroups().stream().map(SlotSharingGroup::getName).toList());
        for (SlotSharingGroup g : p.gpuSlotSharingGroups()) {
            assertEquals(0.5, g.getExternalResources().get("gpu"));
            assertEquals(2.0, g.getCpuCores().orElseThrow());
            assertEquals(MemorySize.parse("1g"), g.getTaskHeapMemory().orElseThrow());
            assertEquals(MemorySize.parse("64m"), g.getManagedMemory().orElseThrow());
        }
        // Groups without a stage on CUDA: named, but no resources (default-sized slots on any TaskManager).
        StagePlacement cpuOnly = placement(EarlyExit.Mode.SPLIT, "--stage-slot-groups", "0:early,1-3:late");
        assertEquals("late", cpuOnly.slotSharingGroup(3));
        assertTrue(cpuOnly.gpuSlotSharingGroups().isEmpty());
    }

    @Test
    void perStageSettingsNeedSplit() {
        for (EarlyExit.Mode mode :
                List.of(EarlyExit.Mode.CASCADE, EarlyExit.Mode.FULL_DEPTH, EarlyExit.Mode.ROW_AT_A_TIME)) {
            String gpu = refused(mode, "--gpu-stages", "2,3");
            assertTrue(gpu.contains("--gpu-stages needs --mode SPLIT") && gpu.contains("--device cuda"), gpu);
            assertTrue(refused(mode, "--stage-slot-groups", "0:a").contains("--stage-slot-groups needs --mode SPLIT"));
            assertTrue(refused(mode, "--stage-parallelism", "0:2").contains("--stage-parallelism needs --mode SPLIT"));
        }
    }

    @Test
    void stagesOutOfRangeAndMalformedListsAreRefusedNamingTheSetting() {
        String range = refused(EarlyExit.Mode.SPLIT, "--gpu-stages", "3,4");
        assertTrue(range.startsWith("--gpu-stages: stage 4 is out of range") && range.contains("0..3"), range);
        assertTrue(refused(EarlyExit.Mode.SPLIT, "--gpu-stages", "two").contains("'two' is not a stage index"));
        assertTrue(refused(EarlyExit.Mode.SPLIT, "--gpu-stages", "3-2").contains("runs backwards"));
        assertTrue(refused(EarlyExit.Mode.SPLIT, "--gpu-stages", "-1").startsWith("--gpu-stages"));
        assertTrue(refused(EarlyExit.Mode.SPLIT, "--gpu-stages", "1,1").contains("stage 1 is named twice"));
        assertTrue(
                refused(EarlyExit.Mode.SPLIT, "--stage-slot-groups", "0-1cpu").contains("is not <stages>:<value>"));
        assertTrue(refused(EarlyExit.Mode.SPLIT, "--stage-slot-groups", "0-1:").contains("is not <stages>:<value>"));
        assertTrue(refused(EarlyExit.Mode.SPLIT, "--stage-slot-groups", "0-2:a,2:b")
                .contains("stage 2 is named twice"));
        assertTrue(refused(EarlyExit.Mode.SPLIT, "--stage-slot-groups", "5:a").contains("out of range"));
        assertTrue(refused(EarlyExit.Mode.SPLIT, "--stage-parallelism", "0:0").contains("needs a parallelism >= 1"));
        assertTrue(
                refused(EarlyExit.Mode.SPLIT, "--stage-parallelism", "0:many").contains("is not a number"));
    }

    @Test
    void contradictionsAreRefused() {
        assertTrue(refused(EarlyExit.Mode.SPLIT, "--device", "cuda", "--gpu-stages", "3")
                .contains("not both"));
        String left = refused(EarlyExit.Mode.SPLIT, "--gpu-stages", "2,3", "--stage-slot-groups", "0-2:x");
        assertTrue(left.contains("stage 3 runs on CUDA") && left.contains("'default'") && left.contains("3:gpu"), left);
        assertTrue(refused(EarlyExit.Mode.SPLIT, "--device", "cuda", "--stage-slot-groups", "0-2:x")
                .contains("stage 3 runs on CUDA"));
        assertTrue(refused(EarlyExit.Mode.SPLIT, "--gpu-stages", "3", "--gpu-slot-gpus", "0")
                .contains("--gpu-slot-gpus"));
        assertTrue(refused(EarlyExit.Mode.SPLIT, "--gpu-stages", "3", "--gpu-slot-cpu-cores", "-1")
                .contains("--gpu-slot-cpu-cores"));
        assertThrows(
                IllegalArgumentException.class,
                () -> JobConfig.parse(new String[] {"--gpu-slot-task-heap", "lots"}, new Configuration()));
    }

    @Test
    void placementSettingsComeFromFlinksConfigToo() {
        Configuration flink = new Configuration();
        flink.setString("exitflow.gpu-stages", "3");
        StagePlacement p = StagePlacement.of(JobConfig.parse(new String[0], flink), EarlyExit.Mode.SPLIT, STAGES);
        assertEquals(OrtConfig.Device.CUDA, p.device(3));
        assertEquals("gpu", p.slotSharingGroup(3));
    }
}
