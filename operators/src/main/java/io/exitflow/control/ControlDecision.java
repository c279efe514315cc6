package io.exitflow.control;

import io.exitflow.schemas.ThresholdUpdate;
import java.util.Optional;
import org.apache.flink.annotation.Internal;

/**
 * What the controller decided for one interval: an update to publish (absent when the thresholds in force are
 * still good enough, see the hysteresis in {@link ControllerConfig.Builder#costDeadband}) and the trace record.
 */
@Internal
public record ControlDecision(Optional<ThresholdUpdate> update, ControlTrace trace) {}
