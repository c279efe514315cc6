package io.exitflow.jobs.common;

import io.exitflow.control.Budget;
import io.exitflow.control.ControllerConfig;
import io.exitflow.control.flink.FeedbackLoop;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.schemas.StageStats;
import io.exitflow.schemas.ThresholdUpdate;
import java.util.Optional;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * The feedback loop's wiring in a job: stage stats -> the controller ({@link FeedbackLoop}) -> the Kafka control
 * topic, which {@link InferencePipeline} reads back as broadcast threshold updates into the stage operators. Runs
 * when a budget is set ({@code --budget-rate} or {@code --budget-cost}, optionally {@code --max-accuracy-loss};
 * {@code --budget-utilisation} and {@code --budget-stage-costs} tune it).
 * Updates go out at least once (not transactionally), so they reach the operators between checkpoints; a
 * duplicate is harmless (operators apply only newer versions).
 */
public final class FeedbackWiring {
    private FeedbackWiring() {}

    /** The budget the settings ask for, if any. */
    public static Optional<Budget> budget(JobConfig cfg) {
        Optional<Double> rate = cfg.optional(JobOptions.BUDGET_RATE);
        Optional<Double> cost = cfg.optional(JobOptions.BUDGET_COST);
        if (rate.isEmpty() && cost.isEmpty()) {
            if (cfg.optional(JobOptions.MAX_ACCURACY_LOSS).isPresent()) {
                throw new IllegalArgumentException("--max-accuracy-loss needs --budget-rate or --budget-cost");
            }
            return Optional.empty();
        }
        if (rate.isPresent() && cost.isPresent()) {
            throw new IllegalArgumentException("give --budget-rate or --budget-cost, not both");
        }
        Budget.Builder b = Budget.builder();
        rate.ifPresent(b::targetRate);
        cost.ifPresent(b::costFraction);
        cfg.optional(JobOptions.MAX_ACCURACY_LOSS).ifPresent(b::maxAccuracyLoss);
        return Optional.of(b.build());
    }

    /**
     * The controller's tuning the settings ask for: the defaults but for {@code --budget-utilisation},
     * {@code --budget-workers} and {@code --budget-stage-costs}.
     */
    static ControllerConfig controllerConfig(JobConfig cfg) {
        Optional<Double> utilisation = cfg.optional(JobOptions.BUDGET_UTILISATION);
        if (utilisation.isPresent() && cfg.optional(JobOptions.BUDGET_RATE).isEmpty()) {
            throw new IllegalArgumentException("--budget-utilisation applies to --budget-rate only");
        }
        ControllerConfig.Builder c = ControllerConfig.builder()
                .fixedStageCosts(cfg.get(JobOptions.BUDGET_STAGE_COSTS) == JobOptions.StageCosts.BUNDLE);
        try {
            utilisation.ifPresent(c::targetUtilisation);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--budget-utilisation: " + e.getMessage(), e);
        }
        Optional<Integer> workers = cfg.optional(JobOptions.BUDGET_WORKERS);
        if (workers.isPresent()) {
            if (cfg.optional(JobOptions.BUDGET_RATE).isEmpty()) {
                throw new IllegalArgumentException("--budget-workers applies to --budget-rate only");
            }
            if (workers.get() < 1) {
                throw new IllegalArgumentException("--budget-workers must be >= 1, got " + workers.get());
            }
            c.workers(workers.get());
        }
        return c.build();
    }

    /**
     * Adds the controller when a budget is set, seeded from {@code bundle} (the job's handle, not loaded again).
     *
     * @param inputTopic the job's input topic, whose consumer-group lag the controller adds to the backlog
     *     ({@code --source-lag})
     * @param recordsPerEvent input records per event entering stage 0
     */
    static void attach(
            JobConfig cfg,
            KafkaIo io,
            ModelBundle bundle,
            DataStream<StageStats> stats,
            String inputTopic,
            double recordsPerEvent) {
        Optional<Budget> budget = budget(cfg);
        if (budget.isEmpty()) {
            return;
        }
        String controlTopic = cfg.get(JobOptions.CONTROL_TOPIC);
        if (controlTopic.isEmpty()) {
            throw new IllegalArgumentException("a budget needs a --control-topic to publish threshold updates on");
        }
        FeedbackLoop.Builder loop =
                FeedbackLoop.builder().bundle(bundle).budget(budget.get()).config(controllerConfig(cfg));
        if (cfg.get(JobOptions.SOURCE_LAG)) {
            loop.sourceLag(io.lagProbe(inputTopic, recordsPerEvent));
        }
        DataStream<ThresholdUpdate> updates = loop.build().apply(stats).updates();
        updates.sinkTo(io.atLeastOnceSink(controlTopic, ThresholdUpdate.class, ThresholdUpdate::getModelId))
                .name("threshold update sink")
                .uid("control-sink")
                .setParallelism(1);
    }
}
