package io.exitflow.control.flink;

import io.exitflow.control.ControlMeasurement;
import io.exitflow.control.sim.SimulatedPlant;
import io.exitflow.schemas.StageSample;
import io.exitflow.schemas.StageStats;
import io.exitflow.schemas.ThresholdUpdate;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

/**
 * A {@link SimulatedPlant} in closed loop with the controller function in Flink's operator harness: each plant
 * interval is reported as two cascade subtasks' {@link StageStats}, the interval's timer fires, and the updates the
 * controller emits are applied back to the plant.
 */
final class HarnessedPlant {
    private HarnessedPlant() {}

    /** What two cascade subtasks would report for one plant interval, the plant's backlog as theirs. */
    static List<StageStats> asStageStats(ControlMeasurement m, String model) {
        return asStageStats(m, model, m.backlog());
    }

    /** What two cascade subtasks would report for one plant interval with {@code backlog} in their batches. */
    static List<StageStats> asStageStats(ControlMeasurement m, String model, long backlog) {
        List<StageStats> out = new ArrayList<>();
        for (int sub = 0; sub < 2; sub++) {
            List<Long> arr = new ArrayList<>(), busy = new ArrayList<>(), zeros = new ArrayList<>();
            for (int k = 0; k < m.stageArrivals().length; k++) {
                arr.add(half(m.stageArrivals()[k], sub));
                busy.add(half(m.busyNanos()[k], sub));
                zeros.add(0L);
            }
            List<StageSample> samples = new ArrayList<>();
            for (int i = sub; i < m.samples().size(); i += 2) {
                ControlMeasurement.Sample s = m.samples().get(i);
                List<Float> sc = new ArrayList<>();
                List<Integer> cl = new ArrayList<>();
                for (int k = 0; k < s.scores().length; k++) {
                    sc.add(s.scores()[k]);
                    cl.add(s.classes()[k]);
                }
                samples.add(new StageSample(sc, cl, s.label()));
            }
            long end = m.endMillis(), start = end - Math.round(m.seconds() * 1000);
            out.add(new StageStats(
                    model,
                    "early-exit",
                    sub,
                    start,
                    end,
                    0,
                    half(m.arrivals(), sub),
                    arr,
                    zeros,
                    zeros,
                    busy,
                    half(backlog, sub),
                    m.minThresholdVersion(),
                    m.taskBusyNanos() < 0 ? -1 : half(m.taskBusyNanos(), sub),
                    samples));
        }
        return out;
    }

    private static long half(long v, int sub) {
        return sub == 0 ? v / 2 : v - v / 2;
    }

    /** Runs intervals [from, to) of the plant (model "synthetic") through the harness; returns the updates emitted. */
    static List<ThresholdUpdate> drive(
            KeyedOneInputStreamOperatorTestHarness<String, StageStats, ThresholdUpdate> h,
            SimulatedPlant plant,
            int from,
            int to)
            throws Exception {
        return drive(h, plant, from, to, true);
    }

    /**
     * Runs intervals [from, to) of the plant (model "synthetic") through the harness, the plant's backlog reported by
     * the operators or (when {@code operatorsSeeBacklog} is false) left waiting in the source, as backpressure does;
     * returns the updates emitted.
     */
    static List<ThresholdUpdate> drive(
            KeyedOneInputStreamOperatorTestHarness<String, StageStats, ThresholdUpdate> h,
            SimulatedPlant plant,
            int from,
            int to,
            boolean operatorsSeeBacklog)
            throws Exception {
        List<ThresholdUpdate> got = new ArrayList<>();
        for (int i = from; i < to; i++) {
            h.setProcessingTime(i * 1000L + 1);
            ControlMeasurement m = plant.step();
            for (StageStats s : asStageStats(m, "synthetic", operatorsSeeBacklog ? m.backlog() : 0)) {
                h.processElement(s, i * 1000L);
            }
            h.setProcessingTime((i + 1) * 1000L + 1);
            List<ThresholdUpdate> now = new ArrayList<>(h.extractOutputValues());
            h.getOutput().clear();
            now.forEach(plant::apply);
            got.addAll(now);
        }
        return got;
    }
}
