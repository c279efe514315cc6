package io.exitflow.runtime.record;

import org.apache.flink.annotation.PublicEvolving;

/**
 * A request the runtime could not serve (wrong input length, missing or non-finite values), with why. Emitted on
 * {@link EarlyExit#REJECTED} instead of failing the job, so nothing is dropped silently.
 */
@PublicEvolving
public class RejectedRequest {
    public InferenceRequest request;
    public String reason;

    /** For Flink's POJO serializer. */
    public RejectedRequest() {}

    public RejectedRequest(InferenceRequest request, String reason) {
        this.request = request;
        this.reason = reason;
    }

    @Override
    public String toString() {
        return "RejectedRequest{" + request + ": " + reason + "}";
    }
}
