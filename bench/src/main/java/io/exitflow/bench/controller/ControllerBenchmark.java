package io.exitflow.bench.controller;

import io.exitflow.bench.BenchArgs;
import io.exitflow.control.Budget;
import io.exitflow.control.BudgetSolver;
import io.exitflow.control.CalibrationSet;
import io.exitflow.control.ControlDecision;
import io.exitflow.control.ControllerConfig;
import io.exitflow.control.ControllerSeed;
import io.exitflow.control.ExitPlan;
import io.exitflow.control.GridSearchOptimum;
import io.exitflow.control.ThresholdController;
import io.exitflow.control.sim.RateProfile;
import io.exitflow.control.sim.SimulatedPlant;
import io.exitflow.jobs.common.CommandLine;
import io.exitflow.runtime.bundle.ModelBundle;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * Controller benchmark: the {@link ThresholdController} against the {@link SimulatedPlant} driven by a real bundle's
 * calibration data (validation outputs of the trained model) and its measured per-stage ORT costs.
 *
 * <p>The calibration events are split in two: every other event seeds the controller, the rest is the plant's true
 * population (so the controller never starts from the truth). Scenario, 1 s intervals: base rate (planned cost 70% of
 * full depth), x2 at 60 s, x0.5 at 120 s, difficulty drift 180-240 s, end at 300 s. Per segment it reports time to
 * settle (true cost within 5% of the budget from then on), budget error, and the accuracy of the thresholds in force
 * against the offline optimum (exhaustive grid on the true population) at the same true cost; and, as a baseline,
 * what thresholds fitted offline at the base rate do at x2. Writes one JSON line per interval for plot_trace.py.
 *
 * <p>Usage: {@code ControllerBenchmark [--bundle models/sensor-cnn [--bundle ...]] [--out-dir DIR] [--task-busy]};
 * {@code --help} lists the settings with their defaults ({@link #OPTIONS}).
 */
public final class ControllerBenchmark {
    private static final String USAGE =
            "ControllerBenchmark [--bundle DIR [--bundle DIR ...]] [--out-dir DIR] [--task-busy [on|off]]";

    /** The bundles to run, each in both scenarios (sample targets from labels, from the full model's class). */
    static final ConfigOption<List<String>> BUNDLES = ConfigOptions.key("bench.bundle")
            .stringType()
            .asList()
            .defaultValues("models/sensor-cnn", "models/features-mlp")
            .withDescription("A bundle directory whose calibration data and stage costs drive the plant; give the "
                    + "flag once per bundle.");

    /** Where the per-interval traces go. */
    static final ConfigOption<String> OUT_DIR = ConfigOptions.key("bench.out-dir")
            .stringType()
            .defaultValue("bench/controller/out")
            .withDescription("Directory of the traces, <model>[-labels][-taskbusy]-trace.jsonl (plot_trace.py).");

    /** Whether the plant shows the controller its workers' busy time with the overhead in it. */
    static final ConfigOption<CommandLine.Switch> TASK_BUSY = CommandLine.onOff(
            "bench.task-busy",
            false,
            "on: the plant reports its workers' busy time, overhead included, as stage operators report their "
                    + "tasks' busy time; off: the overhead is hidden from the controller. Named alone it is on.");

    /** The benchmark's command line, in the order {@code --help} lists it. */
    static final List<ConfigOption<?>> OPTIONS = List.of(BUNDLES, OUT_DIR, TASK_BUSY);

    /** The utilisation the controller plans with by default: the ideal plans below use the same. */
    private static final double UTILISATION = ControllerConfig.DEFAULT_TARGET_UTILISATION;

    private static final int WORKERS = 2;
    private static final double OVERHEAD_SHARE = 0.2; // per-event time outside the stages, as a share of full depth
    private static final double BAND = 0.05;

    public static void main(String[] args) throws IOException {
        Optional<BenchArgs> parsed = BenchArgs.parse(args, USAGE, OPTIONS);
        if (parsed.isEmpty()) {
            return; // --help
        }
        BenchArgs a = parsed.get();
        List<String> bundles = a.get(BUNDLES);
        if (bundles.isEmpty()) {
            throw new IllegalArgumentException("--bundle names no bundle\nusage: " + USAGE);
        }
        Path outDir = Path.of(a.get(OUT_DIR));
        boolean taskBusy = a.get(TASK_BUSY).on();
        Files.createDirectories(outDir);
        System.out.println(
                "| model | sample targets | segment | settle (s) | mean budget error | max overshoot | accuracy (labels) | offline optimum at same cost | gap (points) |");
        System.out.println("|---|---|---|---:|---:|---:|---:|---:|---:|");
        for (String b : bundles) {
            ModelBundle bundle = ModelBundle.load(Path.of(b));
            run(bundle, outDir, false, taskBusy);
            run(bundle, outDir, true, taskBusy);
        }
    }

    /**
     * @param labels whether sampled events carry labels (a label topic), else their target is the full model's class
     * @param taskBusy whether the plant reports its workers' busy time, overhead included (as stage operators report
     *     their tasks' busy time), else the overhead is hidden from the controller
     */
    private static void run(ModelBundle bundle, Path outDir, boolean labels, boolean taskBusy) throws IOException {
        ControllerSeed all = ControllerSeed.fromBundle(bundle, 100_000);
        CalibrationSet data = all.samples();
        int k = data.stages();
        CalibrationSet seedHalf = new CalibrationSet(k, (data.size() + 1) / 2);
        CalibrationSet truthHalf = new CalibrationSet(k, data.size() / 2 + 1);
        for (int i = 0; i < data.size(); i++) (i % 2 == 0 ? seedHalf : truthHalf).addFrom(data, i);
        double[] cost = all.stageCostNanos();
        double full = Arrays.stream(cost).sum();
        double overhead = OVERHEAD_SHARE * full;
        double base = UTILISATION * WORKERS * 1e9 / (0.7 * full + overhead);
        RateProfile rate = RateProfile.constant(base).thenAt(60, 2 * base).thenAt(120, base);
        SimulatedPlant plant = SimulatedPlant.builder()
                .population(truthHalf)
                .stageCostNanos(cost)
                .overheadNanos(overhead)
                .workers(WORKERS)
                .rate(rate)
                .drift(180, 240, 3)
                .seed(7)
                .labelsKnown(labels)
                .taskBusyVisible(taskBusy)
                .initialThresholds(all.initialThresholds())
                .build();
        ThresholdController controller = new ThresholdController(
                all.modelId(),
                all.modelVersion(),
                Budget.builder().targetRate(base / 4).build(),
                ControllerConfig.defaults(),
                seedHalf,
                cost,
                all.initialThresholds());

        int n = 300;
        double[] err = new double[n], trueAcc = new double[n], trueCost = new double[n];
        long[] solveNanos = new long[n];
        double[][] thresholds = new double[n][];
        Path trace = outDir.resolve(
                all.modelId() + (labels ? "-labels" : "") + (taskBusy ? "-taskbusy" : "") + "-trace.jsonl");
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(trace))) {
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                ControlDecision d = controller.onInterval(plant.step());
                solveNanos[i] = System.nanoTime() - t0;
                d.update().ifPresent(plant::apply);
                SimulatedPlant.Truth t = plant.truth();
                double ideal = Math.min(full, UTILISATION * WORKERS * 1e9 / t.inputRate() - overhead);
                err[i] = t.costPerEvent() / ideal - 1;
                trueAcc[i] = t.accuracy();
                trueCost[i] = t.costPerEvent();
                thresholds[i] = t.thresholds();
                String json = d.trace().toJson();
                w.println(json.substring(0, json.length() - 1)
                        + String.format(
                                Locale.ROOT,
                                ",\"true_input_rate\":%.1f,\"true_cost\":%.1f,\"ideal_cost\":%.1f,\"true_accuracy\":%.5f,\"model\":\"%s\"}",
                                t.inputRate(),
                                t.costPerEvent(),
                                ideal,
                                t.accuracy(),
                                all.modelId()));
            }
        }
        String[] names = {"base (start)", "x2 at 60 s", "x0.5 at 120 s", "drift 180-240 s", "after drift"};
        int[][] segs = {{0, 60}, {60, 120}, {120, 180}, {180, 240}, {240, 300}};
        for (int s = 0; s < segs.length; s++) {
            int from = segs[s][0], to = segs[s][1];
            // settled: never again over the budget by more than the band (spending less is allowed: on a flat
            // accuracy curve the solver keeps cost it cannot turn into accuracy)
            int last = from - 1;
            for (int i = from; i < to; i++) if (err[i] > BAND) last = i;
            int settle = last + 1 - from;
            int settledFrom = Math.min(to - 1, last + 1);
            double signed = 0, over = Double.NEGATIVE_INFINITY;
            for (int i = settledFrom; i < to; i++) {
                signed += err[i];
                over = Math.max(over, err[i]);
            }
            signed /= (to - settledFrom);
            // accuracy at the segment's end: the thresholds in force on the population as it is then
            SimulatedPlant probe = SimulatedPlant.builder()
                    .population(truthHalf)
                    .stageCostNanos(cost)
                    .workers(1)
                    .rate(RateProfile.constant(1))
                    .drift(180, 240, 3)
                    .seed(7)
                    .build();
            for (int i = 0; i < to; i++) probe.step();
            CalibrationSet population = probe.currentPopulation(4000, 11);
            ExitPlan inForce = new BudgetSolver().evaluate(population, cost, thresholds[to - 1]);
            ExitPlan best = GridSearchOptimum.best(population, cost, inForce.expectedCost(), k <= 3 ? 200 : 32);
            System.out.printf(
                    Locale.ROOT,
                    "| %s | %s | %s | %s | %+.1f%% | %+.1f%% | %.4f | %.4f | %+.2f |%n",
                    all.modelId(),
                    labels ? "labels" : "full-depth class",
                    names[s],
                    settle >= to - from ? "never" : Integer.toString(settle),
                    100 * signed,
                    100 * over,
                    inForce.expectedAccuracy(),
                    best.expectedAccuracy(),
                    100 * (inForce.expectedAccuracy() - best.expectedAccuracy()));
        }
        // baseline: thresholds fitted offline at the base rate's budget, kept when the rate doubles
        SimulatedPlant staticPlant = SimulatedPlant.builder()
                .population(truthHalf)
                .stageCostNanos(cost)
                .overheadNanos(overhead)
                .workers(WORKERS)
                .rate(rate)
                .seed(7)
                .initialThresholds(thresholds[59])
                .build();
        for (int i = 0; i < 120; i++) staticPlant.step();
        SimulatedPlant.Truth st = staticPlant.truth();
        long[] sorted = solveNanos.clone();
        Arrays.sort(sorted);
        if (labels) return;
        System.out.printf(
                Locale.ROOT,
                "%n%s: full-depth cost %.0f ns/event, stage costs %s ns, overhead %.0f ns, base rate %.0f ev/s;"
                        + " static thresholds (fit at base) after 60 s at x2: backlog %d events, throughput %.0f of %.0f ev/s;"
                        + " controller time per interval p50 %.1f ms, p99 %.1f ms; trace %s%n",
                all.modelId(),
                full,
                Arrays.toString(cost),
                overhead,
                base,
                st.backlog(),
                st.throughput(),
                st.inputRate(),
                sorted[n / 2] / 1e6,
                sorted[n * 99 / 100] / 1e6,
                trace);
    }
}
