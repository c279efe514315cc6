package io.exitflow.sql;

import ai.onnxruntime.OrtException;
import io.exitflow.runtime.bundle.InputNormaliser;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.exit.ScoreRule;
import io.exitflow.runtime.exit.Thresholds;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.runtime.onnx.GpuSelector;
import io.exitflow.runtime.onnx.OrtConfig;
import io.exitflow.runtime.onnx.SharedSessions;
import io.exitflow.runtime.onnx.StageRunner;
import io.exitflow.runtime.operator.BatchingCascade;
import io.exitflow.runtime.operator.CascadeObserver;
import io.exitflow.runtime.operator.InFlightEvent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.apache.flink.table.functions.FunctionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One predict function's share of the runtime: the bundle, one {@link StageRunner} per stage on the TaskManager's
 * shared ONNX Runtime sessions, and the {@link BatchingCascade} the DataStream operators use. Not thread-safe: one
 * thread drives it. {@link #close()} releases the sessions.
 */
final class CascadeEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CascadeEngine.class);

    final Manifest manifest;
    final InputNormaliser normaliser;
    final BatchingCascade cascade;
    private final List<StageRunner> runners;
    private long nextId;

    CascadeEngine(
            ModelSpec spec,
            FunctionContext ctx,
            BatchingCascade.Sink sink,
            Function<Manifest, CascadeObserver> observer) {
        ModelBundle bundle = ModelBundle.load(Path.of(spec.bundlePath()));
        this.manifest = bundle.manifest();
        int subtask = ctx.getTaskInfo().getIndexOfThisSubtask();
        Optional<Integer> gpu = Optional.empty();
        if (spec.ort().device() == OrtConfig.Device.CUDA) {
            gpu = GpuSelector.pick(spec.ort(), ctx.getExternalResourceInfos(GpuSelector.RESOURCE_NAME), subtask);
            if (gpu.isEmpty()) {
                LOG.warn(
                        "model {}: CUDA requested, but Flink's '{}' external resource offers no GPU to subtask {}: "
                                + "running on CPU",
                        spec.model(),
                        GpuSelector.RESOURCE_NAME,
                        subtask);
            }
        }
        ScoreRule rule = ScoreRule.of(manifest.exit().score());
        List<StageRunner> rs = new ArrayList<>();
        try {
            for (int k = 0; k < manifest.numStages(); k++) {
                rs.add(new StageRunner(
                        SharedSessions.acquire(
                                bundle.stageFile(k), gpu, spec.ort().intraOpThreads()),
                        manifest,
                        k,
                        rule,
                        spec.settings().maxBatchSize()));
            }
        } catch (RuntimeException e) {
            closeAll(rs);
            throw e;
        }
        this.runners = rs;
        Thresholds t = spec.thresholds() == null
                ? Thresholds.defaults(manifest)
                : new Thresholds(manifest.modelId(), manifest.modelVersion(), 0, spec.thresholds());
        this.cascade = new BatchingCascade(manifest, spec.settings(), runners, t, sink, observer.apply(manifest));
        this.normaliser = new InputNormaliser(manifest);
        LOG.info(
                "model {} subtask {}: serving {}@{} from {}, {} stages, batch {}, max wait {} ms, capacity {}, "
                        + "thresholds {}",
                spec.model(),
                subtask,
                manifest.modelId(),
                manifest.modelVersion(),
                spec.bundlePath(),
                manifest.numStages(),
                spec.settings().maxBatchSize(),
                spec.settings().maxWaitMillis(),
                spec.capacity(),
                t);
    }

    /** A row about to enter stage 0 with its already normalised input, under a fresh id. */
    InFlightEvent event(float[] normalised, long nowMillis) {
        InFlightEvent e = new InFlightEvent();
        e.eventId = Long.toString(nextId++);
        e.key = "";
        e.eventTime = nowMillis;
        e.nextStage = 0;
        e.state = normalised;
        e.stageLatencyMicros = new long[manifest.numStages()];
        return e;
    }

    void admit(InFlightEvent e, long nowMillis) throws OrtException {
        cascade.admit(e, nowMillis);
    }

    @Override
    public void close() {
        closeAll(runners);
    }

    private static void closeAll(List<StageRunner> rs) {
        RuntimeException first = null;
        for (StageRunner r : rs) {
            try {
                r.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        rs.clear();
        if (first != null) {
            throw first;
        }
    }
}
