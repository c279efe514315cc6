package io.exitflow.jobs.common;

import io.exitflow.runtime.api.EarlyExit;
import io.exitflow.runtime.onnx.GpuSelector;
import io.exitflow.runtime.onnx.OrtConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import org.apache.flink.api.common.ExecutionConfig;
import org.apache.flink.api.common.operators.SlotSharingGroup;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Where each stage of the model runs: its device (CPU or CUDA), its slot sharing group and its parallelism, from
 * {@code --device}, {@code --gpu-stages}, {@code --stage-slot-groups}, {@code --stage-parallelism} and the
 * {@code --gpu-slot-*} resources. Checked against the mode and the model's stage count when the job is built, so a
 * wrong combination fails at start saying what to change.
 *
 * <p>A slot sharing group that holds a CUDA stage is registered with resources that include Flink's {@code gpu}
 * external resource ({@link GpuSelector#RESOURCE_NAME}): Flink's slot manager (fine-grained in Flink 2.x, no switch
 * needed) then cuts its slots only from TaskManagers that declare one ({@code external-resources: gpu}). Groups
 * without a CUDA stage declare nothing and take default-sized slots anywhere.
 */
public final class StagePlacement {
    /** Flink's slot sharing group of operators that name none. */
    public static final String DEFAULT_GROUP = "default";
    /** The group of {@code --gpu-stages} stages that {@code --stage-slot-groups} does not name. */
    public static final String GPU_GROUP = "gpu";

    private final EarlyExit.Mode mode;
    private final OrtConfig.Device[] devices;
    private final String[] groups;
    private final int[] parallelism;
    private final List<SlotSharingGroup> gpuGroups;

    private StagePlacement(
            EarlyExit.Mode mode,
            OrtConfig.Device[] devices,
            String[] groups,
            int[] parallelism,
            List<SlotSharingGroup> gpuGroups) {
        this.mode = mode;
        this.devices = devices;
        this.groups = groups;
        this.parallelism = parallelism;
        this.gpuGroups = gpuGroups;
    }

    /**
     * Reads and checks the placement settings.
     *
     * @param numStages stages of the served model
     * @throws IllegalArgumentException naming the setting, for a combination the mode cannot run or a stage out of
     *     range
     */
    public static StagePlacement of(JobConfig cfg, EarlyExit.Mode mode, int numStages) {
        OrtConfig.Device device = cfg.get(JobOptions.DEVICE);
        boolean split = mode == EarlyExit.Mode.SPLIT;
        for (var perStage :
                List.of(JobOptions.GPU_STAGES, JobOptions.STAGE_SLOT_GROUPS, JobOptions.STAGE_PARALLELISM)) {
            if (!split && cfg.optional(perStage).isPresent()) {
                throw new IllegalArgumentException("--" + JobOptions.argName(perStage)
                        + " needs --mode SPLIT (there each "
                        + "stage is its own operator); --mode " + mode + " runs every stage in one operator"
                        + (perStage == JobOptions.GPU_STAGES ? ": use --device cuda to run them all on CUDA" : ""));
            }
        }
        OrtConfig.Device[] devices = new OrtConfig.Device[numStages];
        Arrays.fill(devices, device);
        SortedSet<Integer> gpuStages = new TreeSet<>();
        cfg.optional(JobOptions.GPU_STAGES).ifPresent(text -> {
            if (device == OrtConfig.Device.CUDA) {
                throw new IllegalArgumentException("give --device cuda (every stage on CUDA) or --gpu-stages (these "
                        + "stages on CUDA, the others on CPU), not both");
            }
            gpuStages.addAll(StageRanges.parseList(JobOptions.argName(JobOptions.GPU_STAGES), text, numStages));
            gpuStages.forEach(k -> devices[k] = OrtConfig.Device.CUDA);
        });
        if (!split) {
            return new StagePlacement(mode, devices, null, null, List.of());
        }

        String[] groups = groups(cfg, devices, gpuStages);
        int[] parallelism = parallelism(cfg, numStages);
        Set<String> gpuGroupNames = new TreeSet<>();
        for (int k = 0; groups != null && k < numStages; k++) {
            if (devices[k] == OrtConfig.Device.CUDA) {
                gpuGroupNames.add(groups[k]);
            }
        }
        List<SlotSharingGroup> gpuGroups = new ArrayList<>();
        for (String name : gpuGroupNames) {
            gpuGroups.add(gpuSlotSharingGroup(cfg, name));
        }
        return new StagePlacement(mode, devices, groups, parallelism, Collections.unmodifiableList(gpuGroups));
    }

    /** The group of each stage, or null when no setting names any (every stage stays in the default group). */
    private static String[] groups(JobConfig cfg, OrtConfig.Device[] devices, Set<Integer> gpuStages) {
        String setting = JobOptions.argName(JobOptions.STAGE_SLOT_GROUPS);
        if (cfg.optional(JobOptions.STAGE_SLOT_GROUPS).isEmpty() && gpuStages.isEmpty()) {
            return null;
        }
        String[] groups = new String[devices.length];
        Arrays.fill(groups, DEFAULT_GROUP);
        cfg.optional(JobOptions.STAGE_SLOT_GROUPS)
                .ifPresentOrElse(
                        text -> StageRanges.parseMap(setting, text, devices.length)
                                .forEach((k, g) -> groups[k] = g),
                        () -> gpuStages.forEach(k -> groups[k] = GPU_GROUP));
        for (int k = 0; k < devices.length; k++) {
            if (devices[k] == OrtConfig.Device.CUDA && groups[k].equals(DEFAULT_GROUP)) {
                throw new IllegalArgumentException("stage " + k + " runs on CUDA but --" + setting + " leaves it in "
                        + "the '" + DEFAULT_GROUP + "' slot sharing group, which cannot ask for a GPU; name a group "
                        + "for it (e.g. " + k + ":" + GPU_GROUP + ")");
            }
        }
        return groups;
    }

    /** Each stage's parallelism; {@link ExecutionConfig#PARALLELISM_DEFAULT} for stages not named (the job's). */
    private static int[] parallelism(JobConfig cfg, int numStages) {
        if (cfg.optional(JobOptions.STAGE_PARALLELISM).isEmpty()) {
            return null;
        }
        String setting = JobOptions.argName(JobOptions.STAGE_PARALLELISM);
        int[] out = new int[numStages];
        Arrays.fill(out, ExecutionConfig.PARALLELISM_DEFAULT);
        Map<Integer, String> named = StageRanges.parseMap(setting, cfg.get(JobOptions.STAGE_PARALLELISM), numStages);
        named.forEach((k, p) -> {
            try {
                out[k] = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        "--" + setting + ": '" + p + "' (stage " + k + ") is not a number", e);
            }
            if (out[k] < 1) {
                throw new IllegalArgumentException(
                        "--" + setting + ": stage " + k + " needs a parallelism >= 1, got " + out[k]);
            }
        });
        return out;
    }

    /** A group holding a CUDA stage: the --gpu-slot-* resources, Flink's gpu external resource included. */
    private static SlotSharingGroup gpuSlotSharingGroup(JobConfig cfg, String name) {
        double gpus = cfg.get(JobOptions.GPU_SLOT_GPUS);
        double cores = cfg.get(JobOptions.GPU_SLOT_CPU_CORES);
        MemorySize heap = cfg.get(JobOptions.GPU_SLOT_TASK_HEAP);
        if (!(gpus > 0)) {
            throw new IllegalArgumentException("--gpu-slot-gpus must be > 0, got " + gpus);
        }
        if (!(cores > 0)) {
            throw new IllegalArgumentException("--gpu-slot-cpu-cores must be > 0, got " + cores);
        }
        if (heap.getBytes() == 0) {
            throw new IllegalArgumentException("--gpu-slot-task-heap must be > 0");
        }
        return SlotSharingGroup.newBuilder(name)
                .setCpuCores(cores)
                .setTaskHeapMemory(heap)
                .setTaskOffHeapMemory(cfg.get(JobOptions.GPU_SLOT_TASK_OFF_HEAP))
                .setManagedMemory(cfg.get(JobOptions.GPU_SLOT_MANAGED_MEMORY))
                .setExternalResource(GpuSelector.RESOURCE_NAME, gpus)
                .build();
    }

    /** The device of stage {@code k}. */
    public OrtConfig.Device device(int k) {
        return devices[k];
    }

    /** The slot sharing group of stage {@code k} ({@link #DEFAULT_GROUP} outside SPLIT or when none is named). */
    public String slotSharingGroup(int k) {
        return groups == null ? DEFAULT_GROUP : groups[k];
    }

    /** The parallelism {@code --stage-parallelism} gives stage {@code k}; empty when it takes the job's. */
    public OptionalInt parallelism(int k) {
        return parallelism == null || parallelism[k] == ExecutionConfig.PARALLELISM_DEFAULT
                ? OptionalInt.empty()
                : OptionalInt.of(parallelism[k]);
    }

    /** The groups that hold a CUDA stage, with the resources they ask for. */
    public List<SlotSharingGroup> gpuSlotSharingGroups() {
        return gpuGroups;
    }

    /** Sets the devices, groups and parallelism on {@code b} (which must be built for this placement's mode). */
    public EarlyExit.Builder applyTo(EarlyExit.Builder b) {
        if (mode != EarlyExit.Mode.SPLIT) {
            // One operator runs every stage: one device for all (they are all the same here).
            return b.device(devices[0]);
        }
        b.stageDevices(devices);
        if (groups != null) {
            b.slotSharingGroups(groups);
        }
        if (parallelism != null) {
            b.stageParallelism(parallelism);
        }
        return b;
    }

    /** Registers the resources of the groups that hold a CUDA stage, so the job graph carries them. */
    public void registerSlotSharingGroups(StreamExecutionEnvironment env) {
        gpuGroups.forEach(env::registerSlotSharingGroup);
    }
}
