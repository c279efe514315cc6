package io.exitflow.jobs.common;

import io.exitflow.control.BudgetSolver;
import io.exitflow.control.ControllerSeed;
import io.exitflow.runtime.bundle.ModelBundle;

/**
 * Sizes a rate budget in a bundle's calibrated stage costs ({@code --budget-stage-costs bundle}): the
 * {@code --budget-utilisation} at which, at a given input rate, the stages may spend a chosen point between the
 * cheapest plan (every event leaves at stage 0) and the solver's unconstrained plan (the most accurate one).
 * At twice that rate the allowed cost halves, so the controller must move towards stage 0; at the rate itself it
 * has room. The demo and the feedback-loop test size their budgets with it.
 *
 * @param cheapestNanos expected cost per event when every event leaves at stage 0
 * @param unconstrainedNanos expected cost per event of the unconstrained plan
 * @param allowedNanos the cost per event the budget allows at the sizing rate
 * @param utilisation the share of each of the {@code workers} stage subtasks' time that gives {@code allowedNanos}
 */
public record BudgetSizing(double cheapestNanos, double unconstrainedNanos, double allowedNanos, double utilisation) {

    /**
     * @param bundle the loaded model bundle (its calibration.json supplies samples and stage costs)
     * @param eventsPerSecond the input rate the budget is sized for (windows per second in the anomaly job)
     * @param workers stage subtasks (the job's parallelism in CASCADE mode)
     * @param position where the allowed cost lies between cheapest (0) and unconstrained (1)
     */
    public static BudgetSizing of(ModelBundle bundle, double eventsPerSecond, int workers, double position) {
        if (!(position >= 0 && position <= 1) || !(eventsPerSecond > 0) || workers <= 0) {
            throw new IllegalArgumentException("need 0 <= position <= 1, a positive rate and workers; got " + position
                    + ", " + eventsPerSecond + ", " + workers);
        }
        ControllerSeed seed = ControllerSeed.fromBundle(bundle, 4000);
        BudgetSolver solver = new BudgetSolver();
        int stages = seed.stageCostNanos().length;
        double cheapest = solver.evaluate(seed.samples(), seed.stageCostNanos(), new double[stages])
                .expectedCost();
        double fullDepth = solver.evaluate(
                        seed.samples(), seed.stageCostNanos(), BudgetSolver.fullDepthThresholds(stages))
                .expectedCost();
        double unconstrained = solver.solve(seed.samples(), seed.stageCostNanos(), fullDepth, seed.initialThresholds())
                .expectedCost();
        double allowed = cheapest + position * (unconstrained - cheapest);
        return new BudgetSizing(cheapest, unconstrained, allowed, allowed * eventsPerSecond / (workers * 1e9));
    }
}
