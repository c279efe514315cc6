package io.exitflow.bench.e2e;

import ai.onnxruntime.OrtException;
import io.exitflow.runtime.bundle.InputNormaliser;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.exit.ScoreRule;
import io.exitflow.runtime.exit.Softmax;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.runtime.onnx.SharedSessions;
import io.exitflow.runtime.onnx.StageOutputs;
import io.exitflow.runtime.onnx.StageRunner;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.table.data.ArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.factories.ModelProviderFactory;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.PredictFunction;
import org.apache.flink.table.ml.ModelProvider;
import org.apache.flink.table.ml.PredictRuntimeProvider;

/**
 * Benchmark baseline, provider {@code onnx-row-bench}: what a plain ONNX model provider does, one synchronous ONNX
 * Runtime call per row of the bundle's whole-model graph ({@code full.onnx}, batch 1, no early exit), on the task
 * thread. INPUT one {@code ARRAY<FLOAT>} in the bundle's layout; OUTPUT {@code (predicted_class STRING, exit_stage
 * INT)} (the exit stage is always the last). For {@link SqlPredictBenchmark} only.
 */
public final class RowOnnxModelProviderFactory implements ModelProviderFactory {
    static final ConfigOption<String> BUNDLE =
            ConfigOptions.key("bundle").stringType().noDefaultValue();

    @Override
    public String factoryIdentifier() {
        return "onnx-row-bench";
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of(BUNDLE);
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Set.of();
    }

    @Override
    public ModelProvider createModelProvider(Context context) {
        FactoryUtil.ModelProviderFactoryHelper helper = FactoryUtil.createModelProviderFactoryHelper(this, context);
        helper.validate();
        String bundle = helper.getOptions().get(BUNDLE);
        if (ModelBundle.load(Path.of(bundle)).fullGraphFile().isEmpty()) {
            throw new IllegalArgumentException("bundle " + bundle + " has no whole-model graph (full_graph)");
        }
        return new Provider(bundle);
    }

    private record Provider(String bundle) implements PredictRuntimeProvider {
        @Override
        public PredictFunction createPredictFunction(ModelProvider.Context context) {
            return new RowFunction(bundle);
        }

        @Override
        public ModelProvider copy() {
            return new Provider(bundle);
        }
    }

    /** One row, one ONNX Runtime call of the whole graph. */
    public static final class RowFunction extends PredictFunction {
        private static final long serialVersionUID = 1L;

        private final String bundle;
        private transient Manifest manifest;
        private transient InputNormaliser normaliser;
        private transient StageRunner runner;

        public RowFunction(String bundle) {
            this.bundle = bundle;
        }

        @Override
        public void open(FunctionContext context) {
            ModelBundle b = ModelBundle.load(Path.of(bundle));
            manifest = b.manifest();
            normaliser = new InputNormaliser(manifest);
            runner = StageRunner.fullGraph(
                    SharedSessions.acquire(b.fullGraphFile().orElseThrow(), Optional.empty(), 1),
                    manifest,
                    ScoreRule.of(manifest.exit().score()),
                    1);
        }

        @Override
        public Collection<RowData> predict(RowData features) {
            ArrayData a = features.getArray(0);
            float[] x = new float[a.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = a.getFloat(i);
            }
            runner.put(0, normaliser.normalise(x), null);
            StageOutputs out;
            try {
                out = runner.run(1);
            } catch (OrtException e) {
                throw new IllegalStateException("ONNX Runtime failed", e);
            }
            int cls = Softmax.argmax(out.logitsArray(), 0, manifest.numClasses());
            return List.of(
                    GenericRowData.of(StringData.fromString(manifest.classes().get(cls)), manifest.numStages() - 1));
        }

        @Override
        public void close() {
            if (runner != null) {
                runner.close();
                runner = null;
            }
        }
    }
}
