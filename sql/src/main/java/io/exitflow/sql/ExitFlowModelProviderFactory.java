package io.exitflow.sql;

import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.manifest.BundleException;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.runtime.onnx.OrtConfig;
import io.exitflow.runtime.operator.CascadeSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.ResolvedCatalogModel;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.factories.ModelProviderFactory;
import org.apache.flink.table.ml.ModelProvider;

/**
 * Model provider {@code exitflow}: serves an ExitFlow bundle (an early-exit model cut into stages) to
 * {@code ML_PREDICT}, with the cascade's batching and early exits.
 *
 * <pre>
 * CREATE MODEL fault_classifier
 *   INPUT (features ARRAY&lt;FLOAT&gt;)
 *   OUTPUT (predicted_class STRING, probability FLOAT, exit_stage INT)
 *   WITH ('provider' = 'exitflow', 'bundle' = '/models/features-mlp');
 * </pre>
 *
 * Options: {@link ExitFlowModelOptions}; columns: {@link ModelColumns}. Everything is checked when a query using
 * the model is planned, against the bundle itself: a bad option or a column that does not fit fails with a
 * {@link ValidationException} naming it.
 */
public final class ExitFlowModelProviderFactory implements ModelProviderFactory {
    /** The value of {@code 'provider'}. */
    public static final String IDENTIFIER = "exitflow";

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of(ExitFlowModelOptions.BUNDLE);
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Set.of(
                ExitFlowModelOptions.MAX_BATCH_SIZE,
                ExitFlowModelOptions.MAX_WAIT,
                ExitFlowModelOptions.DEVICE,
                ExitFlowModelOptions.INTRA_OP_THREADS,
                ExitFlowModelOptions.THRESHOLDS,
                ExitFlowModelOptions.INVALID_INPUT,
                ExitFlowModelOptions.IDLE_FLUSH);
    }

    @Override
    public ModelProvider createModelProvider(Context context) {
        ResolvedCatalogModel catalogModel = context.getCatalogModel();
        String model = context.getObjectIdentifier().asSummaryString();
        Map<String, String> raw = catalogModel.getOptions();
        for (String key : ExitFlowModelOptions.BUDGET_KEYS) {
            if (raw.containsKey(key)) {
                throw new ValidationException("model " + model + ": option '" + key + "' does not apply to "
                        + "ML_PREDICT. A budget needs ExitFlow's feedback loop (every subtask's stage statistics in "
                        + "one controller, threshold updates broadcast back), which a predict function does not have; "
                        + "set fixed 'thresholds' here, or run the DataStream job (--budget-rate/--budget-cost).");
            }
        }
        FactoryUtil.ModelProviderFactoryHelper helper = FactoryUtil.createModelProviderFactoryHelper(this, context);
        helper.validate(); // 'bundle' present, no unknown option
        ReadableConfig options = helper.getOptions();

        String bundlePath = options.get(ExitFlowModelOptions.BUNDLE);
        Manifest manifest;
        try {
            manifest = ModelBundle.load(Path.of(bundlePath)).manifest();
        } catch (BundleException | java.nio.file.InvalidPathException e) {
            throw new ValidationException(
                    "model " + model + ": option 'bundle' = '" + bundlePath + "' is not a " + "usable model bundle: "
                            + e.getMessage(),
                    e);
        }
        int batch = options.get(ExitFlowModelOptions.MAX_BATCH_SIZE);
        if (batch < 1) {
            throw new ValidationException("model " + model + ": option 'max-batch-size' must be >= 1, got " + batch);
        }
        Duration wait = options.get(ExitFlowModelOptions.MAX_WAIT);
        if (wait.isNegative()) {
            throw new ValidationException("model " + model + ": option 'max-wait' must be >= 0, got " + wait);
        }
        Duration idle = options.get(ExitFlowModelOptions.IDLE_FLUSH);
        if (idle.isNegative()) {
            throw new ValidationException("model " + model + ": option 'idle-flush' must be >= 0, got " + idle);
        }
        int threads = options.get(ExitFlowModelOptions.INTRA_OP_THREADS);
        if (threads < 1) {
            throw new ValidationException(
                    "model " + model + ": option 'intra-op-threads' must be >= 1, got " + threads);
        }
        OrtConfig.Device device =
                switch (options.get(ExitFlowModelOptions.DEVICE).toLowerCase(Locale.ROOT)) {
                    case "cpu" -> OrtConfig.Device.CPU;
                    case "cuda" -> OrtConfig.Device.CUDA;
                    default ->
                        throw new ValidationException("model " + model + ": option 'device' must be cpu or cuda, got '"
                                + options.get(ExitFlowModelOptions.DEVICE) + "'");
                };
        boolean drop = switch (options.get(ExitFlowModelOptions.INVALID_INPUT).toLowerCase(Locale.ROOT)) {
            case "fail" -> false;
            case "drop" -> true;
            default ->
                throw new ValidationException("model " + model + ": option 'invalid-input' must be fail or "
                        + "drop, got '" + options.get(ExitFlowModelOptions.INVALID_INPUT) + "'");
        };
        float[] thresholds = options.getOptional(ExitFlowModelOptions.THRESHOLDS)
                .map(t -> thresholds(model, t, manifest))
                .orElse(null);
        ModelColumns columns = ModelColumns.bind(
                model, catalogModel.getResolvedInputSchema(), catalogModel.getResolvedOutputSchema(), manifest);

        CascadeSettings settings =
                new CascadeSettings(0, manifest.numStages() - 1, true, batch, wait.toMillis(), 0.0, 0, 60_000L, false);
        OrtConfig ort = new OrtConfig(device, OrtConfig.FROM_EXTERNAL_RESOURCE, threads);
        int capacity = context.getConfiguration().get(ExitFlowModelOptions.TABLE_EXEC_MAX_CONCURRENT);
        return new ExitFlowModelProvider(new ModelSpec(
                model, bundlePath, settings, ort, thresholds, columns, capacity, drop, idle.toNanos() / 1000));
    }

    /** Parses 'thresholds': one value in [0, 1] per stage of the bundle. */
    static float[] thresholds(String model, String text, Manifest manifest) {
        String[] parts = text.split(",", -1);
        if (parts.length != manifest.numStages()) {
            throw new ValidationException("model " + model + ": option 'thresholds' = '" + text + "' has "
                    + parts.length + " values, bundle " + manifest.modelId() + " has " + manifest.numStages()
                    + " stages (one threshold per stage; the last stage always answers)");
        }
        float[] t = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            float v;
            try {
                v = Float.parseFloat(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new ValidationException(
                        "model " + model + ": option 'thresholds' value " + i + " '" + parts[i].trim()
                                + "' is not a number",
                        e);
            }
            if (!(v >= 0 && v <= 1)) {
                throw new ValidationException(
                        "model " + model + ": option 'thresholds' value " + i + " is " + v + ", outside [0, 1]");
            }
            t[i] = v;
        }
        return t;
    }
}
