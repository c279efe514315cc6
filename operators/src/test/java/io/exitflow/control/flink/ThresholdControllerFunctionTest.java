package io.exitflow.control.flink;

import static io.exitflow.control.flink.HarnessedPlant.asStageStats;
import static io.exitflow.control.flink.HarnessedPlant.drive;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.exitflow.control.Budget;
import io.exitflow.control.BudgetSolver;
import io.exitflow.control.ControllerConfig;
import io.exitflow.control.ControllerSeed;
import io.exitflow.control.LogCapture;
import io.exitflow.control.SyntheticData;
import io.exitflow.control.sim.RateProfile;
import io.exitflow.control.sim.SimulatedPlant;
import io.exitflow.schemas.StageStats;
import io.exitflow.schemas.ThresholdUpdate;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.metrics.groups.InternalOperatorMetricGroup;
import org.apache.flink.runtime.metrics.groups.UnregisteredMetricGroups;
import org.apache.flink.runtime.metrics.util.InterceptingOperatorMetricGroup;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;

/** The controller function in Flink's operator harness: processing-time intervals, split stats, checkpoint/restore. */
class ThresholdControllerFunctionTest {
    private static final double[] COST = {10_000, 25_000, 25_000, 25_000};

    private final ControllerSeed seed = new ControllerSeed(
            "synthetic",
            "test",
            SyntheticData.calibration(2000, 4, 5, 12),
            new double[] {20_000, 20_000, 20_000, 20_000},
            BudgetSolver.fullDepthThresholds(4));
    private final Budget budget = Budget.builder().targetRate(5_000).build();

    private SimulatedPlant plant(RateProfile rate) {
        return SimulatedPlant.builder()
                .population(SyntheticData.calibration(4000, 4, 5, 11))
                .stageCostNanos(COST)
                .overheadNanos(8_000)
                .workers(2)
                .rate(rate)
                .seed(3)
                .build();
    }

    private KeyedOneInputStreamOperatorTestHarness<String, StageStats, ThresholdUpdate> harness() throws Exception {
        return harness(null);
    }

    private KeyedOneInputStreamOperatorTestHarness<String, StageStats, ThresholdUpdate> harness(SourceLagProbe lag)
            throws Exception {
        ThresholdControllerFunction f =
                new ThresholdControllerFunction(seed, budget, ControllerConfig.defaults(), 1000, 4096, lag);
        return new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(f), StageStats::getModelId, Types.STRING);
    }

    @Test
    void thresholdsFallWhenTheRateDoublesAndTheStateSurvivesARestore() throws Exception {
        SimulatedPlant plant = plant(RateProfile.constant(35_000).thenAt(20, 70_000));
        var h = harness();
        h.open();
        List<ThresholdUpdate> first = drive(h, plant, 0, 20);
        assertTrue(!first.isEmpty(), "an initial plan is published");
        ThresholdUpdate atBase = first.get(first.size() - 1);
        assertEquals(20, h.getSideOutput(ThresholdControllerFunction.TRACE).size(), "one trace line per interval");
        assertTrue(h.getSideOutput(ThresholdControllerFunction.TRACE)
                .peek()
                .getValue()
                .startsWith("{\"time_ms\":"));

        OperatorSubtaskState snapshot = h.snapshot(1, 20_000);
        h.close();
        var restored = harness();
        restored.initializeState(snapshot);
        restored.open();
        List<ThresholdUpdate> after = drive(restored, plant, 20, 35);
        assertTrue(!after.isEmpty(), "the doubled rate must move the thresholds");
        assertTrue(
                after.get(0).getUpdateVersion() > atBase.getUpdateVersion(), "versions keep increasing over a restore");
        ThresholdUpdate last = after.get(after.size() - 1);
        assertTrue(
                mean(last) < mean(atBase) - 0.1,
                "thresholds fall: " + atBase.getThresholds() + " -> " + last.getThresholds());
        for (int i = 0; i < 5; i++) plant.step();
        assertEquals(0, plant.truth().backlog(), "the job keeps up at twice the rate");
        restored.close();
    }

    @Test
    void theIntervalTimerFiresEveryIntervalWhenRecordsArriveBeforeADueTimer() throws Exception {
        // Under load the task thread handles records before a due timer: the clock is past the timer, the timer has
        // not fired. Such a record must not restart the interval (one decision per interval, not per 2-4).
        SimulatedPlant plant = plant(RateProfile.constant(35_000));
        var h = harness();
        h.open();
        h.setProcessingTime(1);
        for (StageStats s : asStageStats(plant.step(), "synthetic")) h.processElement(s, 0); // timer due at 1001
        int intervals = 10;
        for (int i = 1; i <= intervals; i++) {
            long due = i * 1000L + 1;
            moveClockWithoutFiringTimers(h, due + 300); // the timer due at `due` waits behind the records
            for (StageStats s : asStageStats(plant.step(), "synthetic")) h.processElement(s, due + 300);
            h.setProcessingTime(due + 300); // now the task thread gets to the timer
            var traces = h.getSideOutput(ThresholdControllerFunction.TRACE);
            assertEquals(i, traces == null ? 0 : traces.size(), "one decision per interval; after " + i + " intervals");
        }
        h.close();
    }

    /** Advances the harness's processing-time clock as a busy task thread sees it: timers come due but do not fire. */
    private static void moveClockWithoutFiringTimers(
            KeyedOneInputStreamOperatorTestHarness<String, StageStats, ThresholdUpdate> h, long time) throws Exception {
        Object clock = h.getProcessingTimeService().getClock(); // TestProcessingTimeService's manual clock
        Method set = clock.getClass().getDeclaredMethod("setCurrentTime", long.class, TimeUnit.class);
        set.setAccessible(true);
        set.invoke(clock, time, TimeUnit.MILLISECONDS);
        assertEquals(time, h.getProcessingTimeService().getCurrentProcessingTime(), "clock moved, timers pending");
    }

    @Test
    void statsOfAnotherModelOrShapeAreRejectedNotFatal() throws Exception {
        var h = harness();
        h.open();
        SimulatedPlant plant = plant(RateProfile.constant(35_000));
        h.setProcessingTime(1);
        for (StageStats s : asStageStats(plant.step(), "other-model")) h.processElement(s, 0);
        StageStats wrongShape = asStageStats(plant.step(), "synthetic").get(0);
        wrongShape.setBusyNanos(List.of(1L));
        h.processElement(wrongShape, 0);
        h.setProcessingTime(5_000);
        assertTrue(h.extractOutputValues().isEmpty());
        assertTrue(h.getSideOutput(ThresholdControllerFunction.TRACE) == null
                || h.getSideOutput(ThresholdControllerFunction.TRACE).isEmpty());
        h.close();
    }

    /** The plant's true source backlog, as {@code KafkaLagProbe} reads the consumer-group lag on a broker. */
    private static final class PlantLag implements SourceLagProbe {
        private final transient SimulatedPlant plant;
        final List<long[]> completed = new ArrayList<>();
        boolean opened, closed;

        PlantLag(SimulatedPlant plant) {
            this.plant = plant;
        }

        @Override
        public void open() {
            opened = true;
        }

        @Override
        public void onCheckpointComplete(long checkpointId, long triggerMillis) {
            completed.add(new long[] {checkpointId, triggerMillis});
        }

        @Override
        public long eventsBehind(long nowMillis) {
            return plant.truth() == null ? -1 : plant.truth().backlog();
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    /** Sum of the plant's source backlog over intervals [from, to), the controller's thresholds applied as they come. */
    private static long backlogUnderOverload(
            SimulatedPlant plant,
            int from,
            int to,
            KeyedOneInputStreamOperatorTestHarness<String, StageStats, ThresholdUpdate> h)
            throws Exception {
        long sum = 0;
        for (int i = from; i < to; i++) {
            drive(h, plant, i, i + 1, false);
            sum += plant.truth().backlog();
        }
        return sum;
    }

    @Test
    void overloadThatOnlyTheSourcesLagShowsIsDrainedWithAProbe() throws Exception {
        // Backpressure keeps the operators' batches short; the excess waits in Kafka, where only a probe sees it.
        RateProfile overload = RateProfile.constant(35_000).thenAt(10, 90_000);
        SimulatedPlant blind = plant(overload), probed = plant(overload);
        var withoutProbe = harness();
        PlantLag lag = new PlantLag(probed);
        var withProbe = harness(lag);
        withoutProbe.open();
        withProbe.open();
        assertTrue(lag.opened, "the function opens its probe");
        long blindBacklog = backlogUnderOverload(blind, 0, 40, withoutProbe);
        long probedBacklog = backlogUnderOverload(probed, 0, 40, withProbe);
        // measured: 26,974,123 events summed without the probe (the backlog still growing at the end), 202,276 with it
        assertTrue(
                probedBacklog < blindBacklog / 10,
                "the lag makes the controller drain: " + probedBacklog + " vs " + blindBacklog
                        + " events summed over the intervals");
        assertEquals(0, probed.truth().backlog(), "with the lag in view the job catches up");
        String trace = new ArrayList<>(withProbe.getSideOutput(ThresholdControllerFunction.TRACE))
                .get(39)
                .getValue();
        assertTrue(trace.contains("\"source_lag\":0"), "the trace records the lag the decision saw: " + trace);

        withProbe.snapshot(7, 123_456);
        withProbe.notifyOfCompletedCheckpoint(7);
        assertEquals(1, lag.completed.size());
        assertEquals(7, lag.completed.get(0)[0]);
        assertEquals(123_456, lag.completed.get(0)[1], "the probe learns when the sources took their positions");
        withProbe.close();
        withoutProbe.close();
        assertTrue(lag.closed, "the function closes its probe");
    }

    /** Metrics the function registers, kept for the test to read. */
    private static final class CapturedMetrics extends UnregisteredMetricGroups.UnregisteredTaskMetricGroup {
        final InterceptingOperatorMetricGroup operator = new InterceptingOperatorMetricGroup();

        @Override
        public InternalOperatorMetricGroup getOrAddOperator(OperatorID id, String name, Map<String, String> variables) {
            return operator;
        }

        Object gauge(String name) {
            Metric m = operator.get(name);
            assertNotNull(m, "metric " + name + " is not registered");
            return ((Gauge<?>) m).getValue();
        }

        double number(String name) {
            return ((Number) gauge(name)).doubleValue();
        }

        long count(String name) {
            return ((Counter) operator.get(name)).getCount();
        }
    }

    private KeyedOneInputStreamOperatorTestHarness<String, StageStats, ThresholdUpdate> harness(
            ControllerSeed s, Budget b, ControllerConfig cfg, SourceLagProbe lag, CapturedMetrics metrics)
            throws Exception {
        ThresholdControllerFunction f = new ThresholdControllerFunction(s, b, cfg, 1000, 4096, lag);
        MockEnvironment env = MockEnvironment.builder()
                .setTaskName("controller")
                .setManagedMemorySize(3 * 1024 * 1024)
                .setParallelism(1)
                .setMaxParallelism(1)
                .setSubtaskIndex(0)
                .setMetricGroup(metrics)
                .build();
        return new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(f), StageStats::getModelId, Types.STRING, env);
    }

    private static JsonNode lastTrace(KeyedOneInputStreamOperatorTestHarness<String, StageStats, ThresholdUpdate> h)
            throws Exception {
        List<StreamRecord<String>> traces = new ArrayList<>(h.getSideOutput(ThresholdControllerFunction.TRACE));
        return new ObjectMapper().readTree(traces.get(traces.size() - 1).getValue());
    }

    @Test
    void itsMetricsShowTheBudgetAndTheDecisionInForce() throws Exception {
        SimulatedPlant plant = plant(RateProfile.constant(35_000).thenAt(10, 70_000));
        PlantLag lag = new PlantLag(plant);
        CapturedMetrics metrics = new CapturedMetrics();
        var h = harness(seed, budget, ControllerConfig.defaults(), lag, metrics);
        h.open();
        assertEquals(5_000.0, metrics.number("budgetTargetRate"), "budget in events/s");
        assertNull(metrics.operator.get("budgetCostFraction"), "a rate budget has no cost fraction");
        assertTrue(Double.isNaN(metrics.number("allowedCostNanos")), "nothing decided yet");
        assertEquals(-1L, metrics.gauge("sourceLag"));
        assertEquals(0L, metrics.gauge("thresholdVersion"), "the bundle's defaults are in force");

        List<ThresholdUpdate> updates = drive(h, plant, 0, 20, false);
        assertTrue(updates.size() >= 2, "an initial plan and a cut at the step");
        JsonNode t = lastTrace(h);
        ThresholdUpdate inForce = updates.get(updates.size() - 1);
        assertEquals(inForce.getUpdateVersion(), metrics.gauge("thresholdVersion"), "the version in force");
        assertEquals(t.get("version").asLong(), metrics.gauge("thresholdVersion"));
        assertEquals(t.get("allowed_cost").asDouble(), metrics.number("allowedCostNanos"));
        assertEquals(t.get("cost_per_event").asDouble(), metrics.number("costPerEventNanos"));
        assertEquals(t.get("planned_cost").asDouble(), metrics.number("plannedCostNanos"));
        assertEquals(t.get("est_accuracy").asDouble(), metrics.number("estimatedAccuracy"));
        assertEquals(
                t.get("full_accuracy").asDouble() - t.get("est_accuracy").asDouble(),
                metrics.number("estimatedAccuracyLoss"),
                1e-12);
        assertTrue(metrics.number("estimatedAccuracyLoss") > 0.01, "the cut at twice the rate costs accuracy");
        assertEquals(t.get("input_rate").asDouble(), metrics.number("inputRate"));
        assertEquals(plant.truth().backlog(), metrics.gauge("sourceLag"), "the lag the last decision saw");
        assertEquals(t.get("source_lag").asLong(), metrics.gauge("sourceLag"));
        assertEquals(0, metrics.gauge("budgetInfeasible"));
        assertEquals(t.get("warming_up").asBoolean() ? 1 : 0, metrics.gauge("warmingUp"));
        assertEquals(updates.size(), metrics.count("thresholdUpdates"));
        assertEquals(0, metrics.count("controllerAlerts"));
        h.close();

        CapturedMetrics costMetrics = new CapturedMetrics();
        var byCost = harness(
                seed, Budget.builder().costFraction(0.4).build(), ControllerConfig.defaults(), null, costMetrics);
        byCost.open();
        assertEquals(0.4, costMetrics.number("budgetCostFraction"), "budget as a fraction of full-depth cost");
        assertNull(costMetrics.operator.get("budgetTargetRate"));
        byCost.close();
    }

    /**
     * Issue 14's start-up panic through the function: a cold start whose stage tasks spend up to 30x the steady
     * overhead for 15 s. Learning from the first intervals, the budget looks infeasible until the transient has gone,
     * and the gauge says so in every such interval; with the default warm-up it never does.
     */
    @Test
    void theInfeasibilityGaugeIsUpWhileTheAlertLastsAndNeverForAWarmUp() throws Exception {
        for (boolean warmUp : new boolean[] {false, true}) {
            SimulatedPlant plant = SimulatedPlant.builder()
                    .population(SyntheticData.calibration(4000, 4, 5, 11))
                    .stageCostNanos(COST)
                    .overheadNanos(8_000)
                    .workers(2)
                    .rate(RateProfile.constant(60).thenAt(2, 5_000))
                    .seed(3)
                    .taskBusyVisible(true)
                    .warmUp(15, 30)
                    .build();
            ControllerConfig cfg = warmUp
                    ? ControllerConfig.defaults()
                    : ControllerConfig.builder().warmUp(0, 0, 0).build();
            CapturedMetrics metrics = new CapturedMetrics();
            var h = harness(seed, Budget.builder().targetRate(35_000).build(), cfg, null, metrics);
            h.open();
            int alerting = 0, since = -1;
            for (int i = 0; i < 40; i++) {
                drive(h, plant, i, i + 1);
                boolean alert = lastTrace(h).get("alert").asBoolean();
                assertEquals(alert ? 1 : 0, metrics.gauge("budgetInfeasible"), "gauge at " + i + ", warm-up " + warmUp);
                if (alert) {
                    alerting++;
                    if (since < 0) since = i;
                    else assertEquals(1, metrics.gauge("budgetInfeasible"));
                }
            }
            assertEquals(alerting, metrics.count("controllerAlerts"));
            if (warmUp) {
                assertEquals(0, alerting, "the warm-up is no reason for an alert");
            } else {
                assertTrue(alerting >= 5, "learned from the transient, the budget looks infeasible: " + alerting);
                assertEquals(0, metrics.gauge("budgetInfeasible"), "and the gauge falls once it has gone");
            }
            h.close();
        }
    }

    @Test
    void aRestoreForANewModelVersionDropsTheOldControllerAndStartsFromTheBundle() throws Exception {
        SimulatedPlant plant = plant(RateProfile.constant(35_000));
        var h = harness();
        h.open();
        List<ThresholdUpdate> before = drive(h, plant, 0, 10);
        assertTrue(!before.isEmpty());
        OperatorSubtaskState savepoint = h.snapshot(1, 10_000);
        h.close();

        ControllerSeed newVersion = new ControllerSeed(
                "synthetic", "test-2", seed.samples(), seed.stageCostNanos(), seed.initialThresholds());
        try (LogCapture log = new LogCapture(ThresholdControllerFunction.class)) {
            ThresholdControllerFunction f =
                    new ThresholdControllerFunction(newVersion, budget, ControllerConfig.defaults(), 1000, 4096);
            var restored = new KeyedOneInputStreamOperatorTestHarness<>(
                    new KeyedProcessOperator<>(f), StageStats::getModelId, Types.STRING);
            restored.initializeState(savepoint);
            restored.open();
            List<String> dropped =
                    log.lines(Level.WARN, "dropping the restored controller of model synthetic version test");
            assertEquals(1, dropped.size(), "one log line names what was dropped");
            assertTrue(dropped.get(0).contains("serves model synthetic version test-2"), dropped.get(0));
            List<ThresholdUpdate> after = drive(restored, plant, 10, 12);
            assertTrue(!after.isEmpty(), "the new version's controller publishes its initial plan");
            assertEquals("test-2", after.get(0).getModelVersion());
            assertTrue(
                    after.get(0).getReason().startsWith("initial plan"),
                    after.get(0).getReason());
            restored.close();
        }

        // the same version goes on where it was: no initial plan, no log line
        try (LogCapture log = new LogCapture(ThresholdControllerFunction.class)) {
            var same = harness();
            same.initializeState(savepoint);
            same.open();
            assertTrue(log.lines(Level.WARN, "dropping the restored controller").isEmpty());
            for (ThresholdUpdate u : drive(same, plant, 12, 20)) {
                assertTrue(!u.getReason().startsWith("initial plan"), u.getReason());
                assertTrue(u.getUpdateVersion() > before.get(before.size() - 1).getUpdateVersion());
            }
            same.close();
        }
    }

    private static double mean(ThresholdUpdate u) {
        double s = 0;
        for (int i = 0; i < u.getThresholds().size() - 1; i++)
            s += u.getThresholds().get(i);
        return s / (u.getThresholds().size() - 1);
    }
}
