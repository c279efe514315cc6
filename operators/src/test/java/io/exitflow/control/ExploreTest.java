package io.exitflow.control;

import io.exitflow.control.sim.RateProfile;
import io.exitflow.control.sim.SimulatedPlant;
import org.junit.jupiter.api.Test;

class ExploreTest {
    @Test
    void explore() {
        CalibrationSet pop = SyntheticCalibration.generate(4000, 4, 5, 11);
        CalibrationSet calib = SyntheticCalibration.generate(2000, 4, 5, 12);
        double[] cost = {15_000, 30_000, 30_000, 30_000};
        SimulatedPlant plant = SimulatedPlant.builder().population(pop).stageCostNanos(cost).overheadNanos(10_000)
                .workers(2).rate(RateProfile.constant(23_000).thenAt(30, 46_000).thenAt(70, 23_000))
                .drift(110, 150, 4).seed(3).build();
        Budget b = Budget.builder().targetRate(5_000).build();
        ThresholdController c = new ThresholdController("m", "v", b, ControllerConfig.defaults(), calib,
                new double[] {20_000, 20_000, 20_000, 20_000}, new double[] {1, 1, 1, 0});
        for (int i = 0; i < 190; i++) {
            long t0 = System.nanoTime();
            var m = plant.step();
            var d = c.onInterval(m);
            long t1 = System.nanoTime();
            d.update().ifPresent(plant::apply);
            var tr = plant.truth();
            double ideal = 0.85 * 2e9 / tr.inputRate() - 10_000;
            System.out.printf("%3.0f in=%6.0f thr=%6.0f bl=%6d cost=%7.0f ideal=%7.0f cmd=%7.0f plan=%7.0f acc=%.4f est=%.4f pub=%s ms=%d T=%s%n",
                    tr.timeSeconds(), tr.inputRate(), tr.throughput(), tr.backlog(), tr.costPerEvent(), ideal,
                    d.trace().allowedCost(), d.trace().plannedCost(), tr.accuracy(), d.trace().estAccuracy(), d.trace().published(),
                    (t1 - t0) / 1_000_000, java.util.Arrays.toString(d.trace().thresholds()));
        }
    }
}
