package io.exitflow.jobs.common;

import io.exitflow.control.Budget;
import io.exitflow.runtime.api.EarlyExit;
import io.exitflow.schemas.StageStats;
import java.util.Optional;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * The feedback loop's wiring: stage stats -> controller -> control topic; the control topic is read back as
 * broadcast threshold updates by {@link InferencePipeline}. Runs when a budget is set
 * ({@code --budget-rate} or {@code --budget-cost}, optionally {@code --max-accuracy-loss}).
 */
public final class FeedbackLoop {
    private FeedbackLoop() {}

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

    /** Adds the controller when a budget is set. */
    static void attach(JobConfig cfg, KafkaIo io, DataStream<StageStats> stats, EarlyExit earlyExit) {
        Optional<Budget> budget = budget(cfg);
        if (budget.isEmpty()) {
            return;
        }
        if (cfg.get(JobOptions.CONTROL_TOPIC).isEmpty()) {
            throw new IllegalArgumentException("a budget needs a --control-topic to publish threshold updates on");
        }
        throw new UnsupportedOperationException("the in-job controller is not available yet in this build; "
                + "run without --budget-rate/--budget-cost (thresholds still follow the control topic)");
    }
}
