package io.exitflow.runtime.onnx;

import java.io.Serializable;
import org.apache.flink.annotation.PublicEvolving;

/**
 * How stage sessions run: device, GPU index and intra-op threads. Serializable so operators carry it to the
 * TaskManagers.
 *
 * @param device CPU (default) or CUDA (needs the {@code gpu} Maven profile's onnxruntime_gpu jar and CUDA 12)
 * @param gpuIndex CUDA device index; {@link #FROM_EXTERNAL_RESOURCE} picks one of Flink's {@code gpu} external
 *     resources by subtask index
 * @param intraOpThreads ORT intra-op threads per session (default 1: Flink slots own the cores)
 */
@PublicEvolving
public record OrtConfig(Device device, int gpuIndex, int intraOpThreads) implements Serializable {
    /** Marker: take the GPU index from Flink's {@code gpu} external resource. */
    public static final int FROM_EXTERNAL_RESOURCE = -1;

    /** Where a session runs. */
    public enum Device {
        CPU,
        CUDA
    }

    public OrtConfig {
        if (device == null) {
            throw new IllegalArgumentException("device must be CPU or CUDA");
        }
        if (intraOpThreads < 1) {
            throw new IllegalArgumentException("intraOpThreads must be >= 1, got " + intraOpThreads);
        }
        if (gpuIndex < FROM_EXTERNAL_RESOURCE) {
            throw new IllegalArgumentException("gpuIndex must be >= 0 or FROM_EXTERNAL_RESOURCE, got " + gpuIndex);
        }
    }

    /** CPU, one intra-op thread. */
    public static OrtConfig cpu() {
        return new OrtConfig(Device.CPU, FROM_EXTERNAL_RESOURCE, 1);
    }

    /** The same configuration with another device index (resolved at open). */
    public OrtConfig withGpuIndex(int index) {
        return new OrtConfig(device, index, intraOpThreads);
    }
}
