package io.exitflow.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.runtime.onnx.OrtConfig;
import io.exitflow.runtime.onnx.SharedSessions;
import io.exitflow.runtime.operator.CascadeSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.flink.streaming.util.MockStreamingRuntimeContext;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.FunctionContext;
import org.junit.jupiter.api.Test;

/**
 * The asynchronous predict function on the real features-mlp bundle and ONNX Runtime: when its batches run (full,
 * every admitted row waiting, max-wait, idle-flush), that each row's answer is the one-row-at-a-time cascade's, what
 * invalid rows do, and that close() releases the sessions. Timing bounds are one-sided (a row cannot be answered
 * before its batch is due) or generous (seconds), so a loaded machine does not fail them.
 */
class CascadePredictFunctionTest {
    private static final Path BUNDLE = SqlTestSupport.repo("models/features-mlp");
    private static final Manifest MANIFEST = ModelBundle.load(BUNDLE).manifest();

    private static ModelSpec spec(int capacity, long maxWaitMillis, long idleFlushMicros, boolean dropInvalid) {
        ModelColumns columns = ModelColumns.bind(
                "test_model",
                ResolvedSchema.of(Column.physical("features", DataTypes.ARRAY(DataTypes.FLOAT()))),
                ResolvedSchema.of(
                        Column.physical("predicted_class", DataTypes.STRING()),
                        Column.physical("exit_stage", DataTypes.INT()),
                        Column.physical("stages_run", DataTypes.INT())),
                MANIFEST);
        CascadeSettings settings =
                new CascadeSettings(0, MANIFEST.numStages() - 1, true, 64, maxWaitMillis, 0.0, 0, 60_000L, false);
        return new ModelSpec(
                "test_model",
                BUNDLE.toString(),
                settings,
                new OrtConfig(OrtConfig.Device.CPU, OrtConfig.FROM_EXTERNAL_RESOURCE, 1),
                null,
                columns,
                capacity,
                dropInvalid,
                idleFlushMicros);
    }

    private static FunctionContext context() {
        return new FunctionContext(new MockStreamingRuntimeContext(1, 0));
    }

    /** Raw feature rows near the bundle's mean, some far off it (hard ones that run deeper). */
    private static List<RowData> rows(int n, long seed) {
        Random r = new Random(seed);
        float[] mean = MANIFEST.input().mean();
        float[] std = MANIFEST.input().std();
        List<RowData> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Float[] x = new Float[mean.length];
            double spread = i % 3 == 0 ? 3.0 : 0.7;
            for (int j = 0; j < x.length; j++) {
                x[j] = (float) (mean[j] + spread * std[j] * r.nextGaussian());
            }
            out.add(GenericRowData.of(new GenericArrayData(x)));
        }
        return out;
    }

    private static void awaitAll(List<CompletableFuture<Collection<RowData>>> fs, long seconds) throws Exception {
        CompletableFuture.allOf(fs.toArray(new CompletableFuture<?>[0])).get(seconds, TimeUnit.SECONDS);
    }

    @Test
    void whenEveryAdmittedRowWaitsTheBatchesRunAtOnceAndAnswerAsTheRowAtATimeCascade() throws Exception {
        int openBefore = SharedSessions.openSessions();
        // max-wait 60 s and no idle flush: only the capacity rule can answer 8 rows within the test's bound.
        CascadePredictFunction async = new CascadePredictFunction(spec(8, 60_000, 0, false));
        RowPredictFunction sync = new RowPredictFunction(spec(8, 60_000, 0, false));
        async.open(context());
        sync.open(context());
        try {
            List<RowData> in = rows(8, 1);
            List<CompletableFuture<Collection<RowData>>> fs = new ArrayList<>();
            for (RowData r : in) {
                fs.add(async.asyncPredict(r));
            }
            awaitAll(fs, 20);
            int deeper = 0;
            for (int i = 0; i < in.size(); i++) {
                RowData got = fs.get(i).get().iterator().next();
                RowData want = sync.predict(in.get(i)).iterator().next();
                assertEquals(want.getString(0), got.getString(0), "row " + i);
                assertEquals(want.getInt(1), got.getInt(1), "row " + i);
                assertEquals(got.getInt(1) + 1, got.getInt(2), "stages run = exit stage + 1");
                assertTrue(MANIFEST.classes().contains(got.getString(0).toString()));
                deeper += got.getInt(1) > 0 ? 1 : 0;
            }
            assertTrue(deeper > 0, "some rows ran past stage 0, so survivors were batched too");
        } finally {
            async.close();
            sync.close();
        }
        assertEquals(openBefore, SharedSessions.openSessions(), "close() released every session");
    }

    @Test
    void aPartFullBatchWaitsForMaxWait() throws Exception {
        CascadePredictFunction f = new CascadePredictFunction(spec(1000, 400, 0, false));
        f.open(context());
        try {
            long start = System.nanoTime();
            List<CompletableFuture<Collection<RowData>>> fs = new ArrayList<>();
            for (RowData r : rows(3, 2)) {
                fs.add(f.asyncPredict(r));
            }
            Thread.sleep(100);
            boolean anyDone = fs.stream().anyMatch(CompletableFuture::isDone);
            long elapsed =
                    System.nanoTime() - start; // the check is void if the sleep overran max-wait (loaded machine)
            assertFalse(anyDone && elapsed < 400_000_000L, "a row was answered before max-wait");
            awaitAll(fs, 20);
            assertTrue(System.nanoTime() - start >= 400_000_000L, "answered only once its stage-0 batch was due");
        } finally {
            f.close();
        }
    }

    @Test
    void whenTheInputPausesIdleFlushRunsWhatWaits() throws Exception {
        // max-wait 60 s, capacity 1000: only idle-flush (1 ms) can answer these rows within the bound.
        CascadePredictFunction f = new CascadePredictFunction(spec(1000, 60_000, 1_000, false));
        f.open(context());
        try {
            List<CompletableFuture<Collection<RowData>>> fs = new ArrayList<>();
            for (RowData r : rows(5, 3)) {
                fs.add(f.asyncPredict(r));
            }
            awaitAll(fs, 20);
            for (CompletableFuture<Collection<RowData>> x : fs) {
                assertEquals(1, x.get().size());
            }
        } finally {
            f.close();
        }
    }

    @Test
    void invalidRowsFailOrAreDroppedAsConfigured() throws Exception {
        RowData wrongLength = GenericRowData.of(new GenericArrayData(new Float[10]));
        Float[] withNaN = new Float[36];
        java.util.Arrays.fill(withNaN, 1f);
        withNaN[4] = Float.NaN;
        CascadePredictFunction fail = new CascadePredictFunction(spec(8, 20, 1_000, false));
        fail.open(context());
        try {
            ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
                    ExecutionException.class,
                    () -> fail.asyncPredict(wrongLength).get(5, TimeUnit.SECONDS));
            assertEquals(
                    "model test_model cannot take a row: column `features` has 10 values, model test_model "
                            + "takes 36 (option 'invalid-input' = 'drop' skips such rows)",
                    e.getCause().getMessage());
            ExecutionException nan = org.junit.jupiter.api.Assertions.assertThrows(
                    ExecutionException.class,
                    () -> fail.asyncPredict(GenericRowData.of(new GenericArrayData(withNaN)))
                            .get(5, TimeUnit.SECONDS));
            assertTrue(
                    nan.getCause().getMessage().contains("input value 4 is NaN"),
                    nan.getCause().getMessage());
        } finally {
            fail.close();
        }
        CascadePredictFunction drop = new CascadePredictFunction(spec(8, 20, 1_000, true));
        drop.open(context());
        try {
            assertTrue(drop.asyncPredict(wrongLength).get(5, TimeUnit.SECONDS).isEmpty());
            assertEquals(
                    1,
                    drop.asyncPredict(rows(1, 4).get(0))
                            .get(20, TimeUnit.SECONDS)
                            .size(),
                    "the function goes on after a dropped row");
        } finally {
            drop.close();
        }
    }
}
