package io.exitflow.sql;

import java.time.Duration;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * The {@code WITH} options of {@code CREATE MODEL ... WITH ('provider' = 'exitflow', ...)}. Every option is checked
 * when a query that uses the model is planned ({@link ExitFlowModelProviderFactory}).
 */
public final class ExitFlowModelOptions {
    private ExitFlowModelOptions() {}

    public static final ConfigOption<String> BUNDLE = ConfigOptions.key("bundle")
            .stringType()
            .noDefaultValue()
            .withDescription("Model bundle directory (docs/bundle-contract.md); read when the query is planned and "
                    + "again by every TaskManager that runs it, so the path must exist on all of them.");

    public static final ConfigOption<Integer> MAX_BATCH_SIZE = ConfigOptions.key("max-batch-size")
            .intType()
            .defaultValue(64)
            .withDescription("Rows per ONNX Runtime call of one stage (>= 1). A stage runs as soon as its batch is "
                    + "full, when its oldest row has waited max-wait, or when every row ML_PREDICT lets into the "
                    + "function ('max-concurrent-operations') is waiting in the batches.");

    public static final ConfigOption<Duration> MAX_WAIT = ConfigOptions.key("max-wait")
            .durationType()
            .defaultValue(Duration.ofMillis(20))
            .withDescription("Longest time a row waits in one stage's batch for it to fill (>= 0); each stage adds "
                    + "at most this plus one batch of compute to a row's latency.");

    public static final ConfigOption<Duration> IDLE_FLUSH = ConfigOptions.key("idle-flush")
            .durationType()
            .defaultValue(Duration.ofMillis(1))
            .withDescription("The asynchronous function also runs the waiting batches when no new row has arrived "
                    + "for this long (>= 0; 0 turns it off): the input paused, or Flink's async operator admits no "
                    + "more rows (all of 'max-concurrent-operations' in flight, or, in ordered output mode, held "
                    + "behind an earlier row), so waiting longer would not fill the batches, only delay them.");

    public static final ConfigOption<String> DEVICE = ConfigOptions.key("device")
            .stringType()
            .defaultValue("cpu")
            .withDescription("cpu or cuda: where the stages run ONNX Runtime. cuda needs the onnxruntime_gpu jar "
                    + "and a GPU (an index from Flink's 'gpu' external resource); without one a warning is "
                    + "logged and the stages run on CPU.");

    public static final ConfigOption<Integer> INTRA_OP_THREADS = ConfigOptions.key("intra-op-threads")
            .intType()
            .defaultValue(1)
            .withDescription("ONNX Runtime intra-op threads per stage session (>= 1).");

    public static final ConfigOption<String> THRESHOLDS = ConfigOptions.key("thresholds")
            .stringType()
            .noDefaultValue()
            .withDescription("Fixed exit thresholds, one per stage, comma-separated, each in [0, 1] (e.g. "
                    + "'0.9,0.8,0.7,0'); the last stage always answers. Default: the bundle's thresholds.");

    public static final ConfigOption<String> INVALID_INPUT = ConfigOptions.key("invalid-input")
            .stringType()
            .defaultValue("fail")
            .withDescription("What a row the model cannot take does (null, wrong array length, NaN or infinite "
                    + "value): fail (the job fails, naming the model and the problem) or drop (ML_PREDICT "
                    + "returns no row for it; metric invalidRows and a WARN at most every 30 s).");

    /**
     * Options of the DataStream jobs' feedback loop that a model served through ML_PREDICT cannot honour: the loop
     * needs every subtask's stage statistics in one controller and its threshold updates broadcast back, which a
     * lookup-style predict function does not have. Refused at planning with a message saying so.
     */
    static final String[] BUDGET_KEYS = {
        "budget-rate", "budget-cost", "max-accuracy-loss", "budget-utilisation", "control-topic"
    };

    /** ML_PREDICT's runtime config (its CONFIG map): rows in flight in one subtask. */
    static final ConfigOption<Integer> ML_PREDICT_MAX_CONCURRENT =
            ConfigOptions.key("max-concurrent-operations").intType().noDefaultValue();

    /** The session default of {@link #ML_PREDICT_MAX_CONCURRENT} (Flink's default is 10). */
    static final ConfigOption<Integer> TABLE_EXEC_MAX_CONCURRENT = ConfigOptions.key(
                    "table.exec.async-ml-predict.max-concurrent-operations")
            .intType()
            .defaultValue(10);
}
