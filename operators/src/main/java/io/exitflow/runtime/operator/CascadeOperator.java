package io.exitflow.runtime.operator;

import io.exitflow.runtime.bundle.InputNormaliser;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.onnx.OrtConfig;
import io.exitflow.runtime.record.InferenceRequest;
import io.exitflow.runtime.record.RejectedRequest;
import io.exitflow.schemas.Prediction;
import java.util.Optional;
import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Requests in, predictions out: the cascade (every stage in one task), and with other settings the full-depth
 * (exits off) and row-at-a-time (batch 1) baselines. A split mode's first stage is this operator too, emitting
 * survivors on {@link #SURVIVORS}.
 */
@Internal
public class CascadeOperator extends EarlyExitOperator<InferenceRequest, Prediction> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(CascadeOperator.class);

    /** Requests that could not be served, with why. */
    public static final OutputTag<RejectedRequest> REJECTED =
            new OutputTag<>("exitflow-rejected", TypeInformation.of(RejectedRequest.class));
    /** Events that leave a split first stage unanswered, for the next stage operator. */
    public static final OutputTag<InFlightEvent> SURVIVORS =
            new OutputTag<>("exitflow-survivors", TypeInformation.of(InFlightEvent.class));

    private transient InputNormaliser normaliser;
    private transient FullDepthSampler sampler;

    public CascadeOperator(ModelBundle bundle, CascadeSettings settings, OrtConfig ortConfig) {
        super(bundle, settings, ortConfig);
        if (settings.firstStage() != 0) {
            throw new IllegalArgumentException("the request operator runs from stage 0, got " + settings.firstStage());
        }
    }

    @Override
    protected void onOpen() {
        normaliser = new InputNormaliser(manifest);
        sampler = new FullDepthSampler(settings.fullDepthSampleRate());
    }

    @Override
    protected InFlightEvent toEvent(InferenceRequest r) {
        Optional<String> problem = r.eventId == null ? Optional.of("eventId is missing") : normaliser.problem(r.input);
        if (problem.isPresent()) {
            metrics.rejectedRequests.inc();
            LOG.warn("{} rejected request {}: {}", getOperatorName(), r, problem.get());
            output.collect(REJECTED, new StreamRecord<>(new RejectedRequest(r, problem.get()), r.eventTime));
            return null;
        }
        return InFlightEvent.start(r, normaliser.normalise(r.input), manifest.numStages(), sampler.sample(r.eventId));
    }

    @Override
    protected void emitPrediction(Prediction p, long eventTime) {
        output.collect(new StreamRecord<>(p, eventTime));
    }

    @Override
    protected void emitSurvivor(InFlightEvent e) {
        output.collect(SURVIVORS, new StreamRecord<>(e, e.eventTime));
    }
}
