package io.exitflow.runtime.operator;

import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.onnx.OrtConfig;
import io.exitflow.schemas.Prediction;
import org.apache.flink.annotation.Internal;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * A later stage (or stage range) of a split deployment: survivors of the stage before in, answers out on the main
 * output, its own survivors on {@link CascadeOperator#SURVIVORS}. Each split stage has its own parallelism and slot
 * sharing group, so deep stages can sit on GPU TaskManagers.
 */
@Internal
public class SplitStageOperator extends EarlyExitOperator<InFlightEvent, Prediction> {
    private static final long serialVersionUID = 1L;

    public SplitStageOperator(ModelBundle bundle, CascadeSettings settings, OrtConfig ortConfig) {
        super(bundle, settings, ortConfig);
        if (settings.firstStage() == 0) {
            throw new IllegalArgumentException("stage 0 takes requests: use CascadeOperator for it");
        }
    }

    @Override
    protected InFlightEvent toEvent(InFlightEvent e) {
        return e;
    }

    @Override
    protected void emitPrediction(Prediction p, long eventTime) {
        output.collect(new StreamRecord<>(p, eventTime));
    }

    @Override
    protected void emitSurvivor(InFlightEvent e) {
        output.collect(CascadeOperator.SURVIVORS, new StreamRecord<>(e, e.eventTime));
    }
}
