package io.exitflow.runtime.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.runtime.TestBundles;
import io.exitflow.runtime.exit.Softmax;
import io.exitflow.runtime.manifest.BundleException;
import io.exitflow.runtime.manifest.Fixtures;
import io.exitflow.runtime.record.InferenceRequest;
import io.exitflow.schemas.Prediction;
import io.exitflow.schemas.StageStats;
import io.exitflow.schemas.ThresholdUpdate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The tiny bundle end to end on a real Flink MiniCluster, in every mode. */
class EarlyExitMiniClusterTest {
    private static final int COPIES = 5;

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(4)
            .build());

    private static Fixtures fx;

    @BeforeAll
    static void readFixtures() {
        fx = Fixtures.read(TestBundles.tiny());
    }

    private static List<InferenceRequest> requests() {
        List<InferenceRequest> all = new ArrayList<>();
        for (int c = 0; c < COPIES; c++) {
            for (int i = 0; i < fx.inputs().length; i++) {
                all.add(new InferenceRequest(
                        c + "-" + i,
                        "sensor-" + (i % 7),
                        1000L * c + i,
                        fx.inputs()[i].clone(),
                        i % 2 == 0 ? "alpha" : null));
            }
        }
        return all;
    }

    private record Run(List<Prediction> predictions, List<StageStats> stats) {}

    private static Run run(EarlyExit.Builder builder, List<ThresholdUpdate> control) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        DataStream<InferenceRequest> in = env.fromData(requests());
        DataStream<ThresholdUpdate> ctl =
                control == null ? null : env.fromData(control, new AvroTypeInfo<>(ThresholdUpdate.class));
        EarlyExit.Result out =
                builder.bundlePath(TestBundles.tiny().toString()).build().apply(in, ctl);
        CloseableIterator<Prediction> predictions = out.predictions().collectAsync();
        CloseableIterator<StageStats> stats = out.stageStats().collectAsync();
        env.execute("early-exit-test");
        List<Prediction> p = new ArrayList<>();
        predictions.forEachRemaining(p::add);
        List<StageStats> s = new ArrayList<>();
        stats.forEachRemaining(s::add);
        return new Run(p, s);
    }

    private static int fixtureIndex(Prediction p) {
        return Integer.parseInt(p.getEventId().substring(p.getEventId().indexOf('-') + 1));
    }

    @ParameterizedTest
    @EnumSource(
            value = EarlyExit.Mode.class,
            names = {"CASCADE", "SPLIT", "ROW_AT_A_TIME"})
    void everyEventIsAnsweredOnceWithTheToolkitsExitAndClass(EarlyExit.Mode mode) throws Exception {
        EarlyExit.Builder b = EarlyExit.builder().mode(mode).maxBatchSize(16).maxWait(Duration.ofMillis(5));
        if (mode == EarlyExit.Mode.SPLIT) {
            b.stageParallelism(2, 1, 1).slotSharingGroups("default", "deep", "deep");
        }
        Run r = run(b, null);
        assertEquals(COPIES * fx.inputs().length, r.predictions().size());
        Map<String, Prediction> byId = new HashMap<>();
        for (Prediction p : r.predictions()) {
            assertTrue(byId.put(p.getEventId(), p) == null, "answered twice: " + p.getEventId());
            int i = fixtureIndex(p);
            assertEquals(fx.expectedExit()[i], p.getExitStage(), p.getEventId());
            assertEquals(fx.expectedClass()[i], p.getClassIndex(), p.getEventId());
            assertEquals("tiny-mlp", p.getModelId());
            assertEquals(i % 2 == 0 ? "alpha" : null, p.getLabel());
        }
        long arrivals = r.stats().stream()
                .filter(s -> s.getFirstStage() == 0)
                .mapToLong(StageStats::getArrivals)
                .sum();
        assertEquals(COPIES * fx.inputs().length, arrivals, "stage stats count every arrival");
        long exits = r.stats().stream()
                .flatMap(s -> s.getExits().stream())
                .mapToLong(Long::longValue)
                .sum();
        assertEquals(COPIES * fx.inputs().length, exits, "and every exit");
        // the tasks' busy time (Flink's timers, millisecond resolution) covers the stages' ONNX time
        long taskBusy = 0, stageBusy = 0;
        for (StageStats s : r.stats()) {
            assertTrue(s.getTaskBusyNanos() >= 0, "task busy time known in a running job: " + s);
            taskBusy += s.getTaskBusyNanos();
            stageBusy += s.getBusyNanos().stream().mapToLong(Long::longValue).sum();
        }
        assertTrue(
                taskBusy >= stageBusy - 1_000_000L * r.stats().size(),
                "task busy " + taskBusy + " ns < stage busy " + stageBusy + " ns");
    }

    static List<java.nio.file.Path> bundles() {
        return TestBundles.withFixtures();
    }

    /** Each bundle we have (the toolkit's models/ once exported) served end to end with its own default thresholds. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("bundles")
    void everyBundleIsServedEndToEnd(java.nio.file.Path bundle) throws Exception {
        Fixtures f = Fixtures.read(bundle);
        float[] defaults = io.exitflow.runtime.bundle.ModelBundle.load(bundle)
                .manifest()
                .exit()
                .thresholds();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        List<InferenceRequest> in = new ArrayList<>();
        for (int i = 0; i < f.inputs().length; i++) {
            in.add(new InferenceRequest("e-" + i, "k" + (i % 5), i, f.inputs()[i], null));
        }
        EarlyExit.Result out = EarlyExit.builder()
                .bundlePath(bundle.toString())
                .maxBatchSize(8)
                .fullDepthSampleRate(0.25)
                .build()
                .apply(env.fromData(in), null);
        CloseableIterator<Prediction> it = out.predictions().collectAsync();
        env.execute("bundle-" + bundle.getFileName());
        List<Prediction> got = new ArrayList<>();
        it.forEachRemaining(got::add);
        assertEquals(f.inputs().length, got.size());
        boolean sameThresholds = java.util.Arrays.equals(defaults, f.thresholds());
        int borderline = 0;
        for (Prediction p : got) {
            if (sameThresholds) {
                borderline += io.exitflow.runtime.FixtureCheck.assertMatches(
                                f,
                                defaults,
                                fixtureIndex(p),
                                p,
                                bundle.getFileName().toString())
                        ? 1
                        : 0;
            }
            assertTrue(p.getExitStage() >= 0 && p.getExitStage() < p.getStagesRun());
        }
        assertTrue(borderline <= f.inputs().length / 10, "too many borderline exits: " + borderline);
    }

    @Test
    void fullDepthRunsEveryStage() throws Exception {
        Run r = run(EarlyExit.builder().mode(EarlyExit.Mode.FULL_DEPTH).maxBatchSize(16), null);
        assertEquals(COPIES * fx.inputs().length, r.predictions().size());
        for (Prediction p : r.predictions()) {
            float[] last = fx.stages().get(2).logits()[fixtureIndex(p)];
            assertEquals(2, p.getExitStage());
            assertEquals(3, p.getStagesRun());
            assertEquals(Softmax.argmax(last, 0, last.length), p.getClassIndex());
        }
    }

    @Test
    void aControlStreamIsBroadcastToTheOperators() throws Exception {
        ThresholdUpdate unknown = ThresholdUpdate.newBuilder()
                .setModelId("no-such-model")
                .setModelVersion("x")
                .setUpdateVersion(1)
                .setThresholds(List.of(0f, 0f, 0f))
                .setReason("test")
                .setTimestampMillis(0L)
                .build();
        Run r = run(
                EarlyExit.builder().mode(EarlyExit.Mode.SPLIT).statsInterval(Duration.ofMillis(50)), List.of(unknown));
        assertEquals(COPIES * fx.inputs().length, r.predictions().size());
        r.predictions()
                .forEach(p -> assertEquals(0L, p.getThresholdVersion(), "an unknown model's update is rejected"));
    }

    @Test
    void aBadBundleFailsAtBuildNamingTheFile() {
        BundleException e = assertThrows(
                BundleException.class,
                () -> EarlyExit.builder().bundlePath("/nonexistent/bundle").build());
        assertTrue(e.getMessage().contains("/nonexistent/bundle"), e.getMessage());
        IllegalArgumentException p = assertThrows(
                IllegalArgumentException.class,
                () -> EarlyExit.builder()
                        .bundlePath(TestBundles.tiny().toString())
                        .mode(EarlyExit.Mode.SPLIT)
                        .stageParallelism(1, 2)
                        .build());
        assertTrue(p.getMessage().contains("one value per stage (3)"), p.getMessage());
        assertFalse(EarlyExit.builder()
                        .bundlePath(TestBundles.tiny().toString())
                        .build()
                        .numStages()
                != 3);
    }
}
