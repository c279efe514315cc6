package io.exitflow.control;

import io.exitflow.control.sim.RateProfile;
import io.exitflow.control.sim.SimulatedPlant;
import io.exitflow.schemas.ThresholdUpdate;
import java.util.ArrayList;
import java.util.List;

/** Runs a {@link ThresholdController} against a {@link SimulatedPlant} and keeps what happened, interval by interval. */
final class ClosedLoop {
    static final double[] STAGE_COST = {10_000, 25_000, 25_000, 25_000};
    static final double OVERHEAD = 8_000;
    static final int WORKERS = 2;
    /** Input rate at which the ideal cost per event is about 40 us, in the steep part of the accuracy curve. */
    static final double BASE_RATE = 35_000;
    /**
     * The controller's defaults without the warm-up rule: the standard plant has no warm-up transient (unless a test
     * asks for one), so its first intervals, the start's overload included, are true measurements to learn from. With
     * the default warm-up the controller would ignore them, and where the overhead is hidden from busy time it would
     * plan without it until the next overload (the warm-up's own tests are in ThresholdControllerTest).
     */
    static final ControllerConfig LEARN_FROM_START =
            ControllerConfig.builder().warmUp(0, 0, 0).build();

    final SimulatedPlant plant;
    final ThresholdController controller;
    final List<ControlTrace> traces = new ArrayList<>();
    final List<SimulatedPlant.Truth> truths = new ArrayList<>();
    final List<ThresholdUpdate> updates = new ArrayList<>();
    final double utilisation;

    ClosedLoop(SimulatedPlant plant, ThresholdController controller, double utilisation) {
        this.plant = plant;
        this.controller = controller;
        this.utilisation = utilisation;
    }

    /** The standard test plant (synthetic population, seed 11) and a controller seeded with other synthetic samples. */
    static ClosedLoop standard(
            Budget budget, RateProfile rate, double driftFrom, double driftTo, double driftStrength) {
        return standard(budget, rate, driftFrom, driftTo, driftStrength, false);
    }

    /** The standard loop; with {@code taskBusyVisible} the plant reports its workers' busy time, overhead included. */
    static ClosedLoop standard(
            Budget budget,
            RateProfile rate,
            double driftFrom,
            double driftTo,
            double driftStrength,
            boolean taskBusyVisible) {
        CalibrationSet population = SyntheticData.calibration(4000, 4, 5, 11);
        CalibrationSet calibration = SyntheticData.calibration(2000, 4, 5, 12);
        SimulatedPlant.Builder pb = SimulatedPlant.builder()
                .population(population)
                .stageCostNanos(STAGE_COST)
                .overheadNanos(OVERHEAD)
                .workers(WORKERS)
                .rate(rate)
                .seed(3)
                .taskBusyVisible(taskBusyVisible);
        if (driftStrength > 0) pb.drift(driftFrom, driftTo, driftStrength);
        ControllerConfig cfg = LEARN_FROM_START;
        ThresholdController c = new ThresholdController(
                "synthetic",
                "test",
                budget,
                cfg,
                calibration,
                new double[] {20_000, 20_000, 20_000, 20_000},
                BudgetSolver.fullDepthThresholds(4));
        return new ClosedLoop(pb.build(), c, cfg.targetUtilisation());
    }

    ClosedLoop run(int intervals) {
        for (int i = 0; i < intervals; i++) {
            ControlDecision d = controller.onInterval(plant.step());
            d.update().ifPresent(u -> {
                updates.add(u);
                plant.apply(u);
            });
            traces.add(d.trace());
            truths.add(plant.truth());
        }
        return this;
    }

    /** Cost per event the plant could afford at interval i's input rate (true overhead, target utilisation). */
    double idealCost(int i) {
        return utilisation * WORKERS * 1e9 / truths.get(i).inputRate() - OVERHEAD;
    }

    /** Relative error of the true cost per event against the ideal, interval i. */
    double budgetError(int i) {
        return truths.get(i).costPerEvent() / idealCost(i) - 1;
    }

    /**
     * Intervals after {@code from} until the true cost has settled: from then on to {@code to} (exclusive) it stays
     * within {@code band} of the ideal. -1 when it never settles.
     */
    int settleIntervals(int from, int to, double band) {
        int last = from - 1;
        for (int i = from; i < to; i++) if (Math.abs(budgetError(i)) > band) last = i;
        return last + 1 >= to ? -1 : last + 1 - from;
    }

    /** Mean absolute relative error of the true cost per event against the ideal over [from, to). */
    double meanAbsBudgetError(int from, int to) {
        double e = 0;
        for (int i = from; i < to; i++) e += Math.abs(budgetError(i));
        return e / (to - from);
    }

    /** Mean relative error of the true cost per event against the ideal over [from, to). */
    double meanBudgetError(int from, int to) {
        double cost = 0, ideal = 0;
        for (int i = from; i < to; i++) {
            cost += truths.get(i).costPerEvent();
            ideal += idealCost(i);
        }
        return cost / ideal - 1;
    }

    /** Reversals of direction of the true cost per event over [from, to), ignoring moves smaller than {@code dead}. */
    int reversals(int from, int to, double dead) {
        int n = 0, dir = 0;
        double ref = truths.get(from).costPerEvent();
        for (int i = from + 1; i < to; i++) {
            double c = truths.get(i).costPerEvent();
            if (Math.abs(c - ref) <= dead * ref) continue;
            int d = c > ref ? 1 : -1;
            if (dir != 0 && d != dir) n++;
            dir = d;
            ref = c;
        }
        return n;
    }

    long publishedBetween(int from, int to) {
        return traces.subList(from, to).stream().filter(ControlTrace::published).count();
    }
}
