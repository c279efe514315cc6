package io.exitflow.runtime.onnx;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;

/**
 * Picks the CUDA device of a subtask: the configured index, else one of Flink's {@code gpu} external resources.
 * Every operator of a TaskManager sees the same GPU set, so subtasks spread over it by subtask index.
 */
@Internal
public final class GpuSelector {
    /** The name of Flink's GPU external resource ({@code external-resources: gpu}). */
    public static final String RESOURCE_NAME = "gpu";

    private GpuSelector() {}

    /**
     * @return the device index to use, or empty when none is configured and Flink offers no GPU
     */
    public static Optional<Integer> pick(OrtConfig config, Collection<ExternalResourceInfo> gpus, int subtaskIndex) {
        if (config.gpuIndex() >= 0) {
            return Optional.of(config.gpuIndex());
        }
        List<Integer> indexes = gpus.stream()
                .map(info -> info.getProperty("index"))
                .flatMap(Optional::stream)
                .map(Integer::parseInt)
                .sorted()
                .toList();
        if (indexes.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(indexes.get(subtaskIndex % indexes.size()));
    }
}
