package io.exitflow.jobs.common;

import io.exitflow.control.ControllerConfig;
import io.exitflow.runtime.api.EarlyExit;
import io.exitflow.runtime.onnx.OrtConfig;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.connector.base.DeliveryGuarantee;

/**
 * Every setting of the ExitFlow jobs, with its key, type, default and meaning: the one place each job default is
 * stated (the early-exit runtime's come from {@link EarlyExit}, the controller's from {@link ControllerConfig}). A
 * setting comes from the command line ({@code --max-batch-size 128}) or from Flink's config.yaml
 * ({@code exitflow.max-batch-size: 128}); the command line wins ({@link CommandLine}). {@code --help} prints this
 * list; README "Jobs" documents it.
 *
 * <p>Durations are {@link Duration} options ({@code --checkpoint-interval 5s}); each also keeps its older spelling in
 * whole milliseconds ({@code --checkpoint-interval-ms 5000}, {@code exitflow.checkpoint-interval-ms} in config.yaml) as
 * the option's deprecated key ({@link CommandLine#durationWithMillisSpelling}). Code reads the duration option.
 */
public final class JobOptions {
    private static final String PREFIX = "exitflow.";

    private JobOptions() {}

    /** Where a fresh job starts reading its input ({@code --starting-offsets}). */
    public enum StartingOffsets {
        /** The consumer group's committed offsets, else the earliest. */
        COMMITTED,
        /** The earliest offsets. */
        EARLIEST,
        /** The end of each partition. */
        LATEST
    }

    /** Stage costs the controller plans with ({@code --budget-stage-costs}). */
    public enum StageCosts {
        /** Learned from the operators' busy time. */
        MEASURED,
        /** The bundle's calibration.json, fixed. */
        BUNDLE
    }

    // --- Kafka -----------------------------------------------------------------------------------------------
    public static final ConfigOption<String> BOOTSTRAP_SERVERS = ConfigOptions.key(PREFIX + "bootstrap-servers")
            .stringType()
            .noDefaultValue()
            .withDescription("Kafka bootstrap servers (required).");
    public static final ConfigOption<String> INPUT_TOPIC = ConfigOptions.key(PREFIX + "input-topic")
            .stringType()
            .noDefaultValue()
            .withDescription(
                    "Input topic (default: sensor-readings for the anomaly job, feature-events for classification).");
    public static final ConfigOption<String> PREDICTION_TOPIC = ConfigOptions.key(PREFIX + "prediction-topic")
            .stringType()
            .defaultValue("predictions")
            .withDescription("Output topic of Avro Prediction records.");
    public static final ConfigOption<String> ALERT_TOPIC = ConfigOptions.key(PREFIX + "alert-topic")
            .stringType()
            .defaultValue("alerts")
            .withDescription("Anomaly job: output topic of Avro Alert records.");
    public static final ConfigOption<String> DEAD_LETTER_TOPIC = ConfigOptions.key(PREFIX + "dead-letter-topic")
            .stringType()
            .defaultValue("dead-letters")
            .withDescription("Topic of Avro DeadLetter records: undecodable, invalid, late and rejected input.");
    public static final ConfigOption<Integer> DEAD_LETTER_MAX_PAYLOAD_BYTES = ConfigOptions.key(
                    PREFIX + "dead-letter-max-payload-bytes")
            .intType()
            .defaultValue(65_536)
            .withDescription("A dead letter keeps at most this many bytes of the record it carries (the first ones), "
                    + "with the record's whole size and SHA-256, so it always fits the dead-letter topic. Refused at "
                    + "start unless it plus 8192 bytes fits the producer's max.request.size (--kafka-properties); the "
                    + "topic's max.message.bytes must allow as much.");
    public static final ConfigOption<String> STATS_TOPIC = ConfigOptions.key(PREFIX + "stats-topic")
            .stringType()
            .defaultValue("stage-stats")
            .withDescription("Topic of Avro StageStats records (per stage operator per interval); empty to disable.");
    public static final ConfigOption<String> CONTROL_TOPIC = ConfigOptions.key(PREFIX + "control-topic")
            .stringType()
            .defaultValue("threshold-updates")
            .withDescription("Topic of Avro ThresholdUpdate records, read back and broadcast to every stage operator; "
                    + "the in-job controller writes it when a budget is set. Empty to run on the bundle's thresholds.");
    public static final ConfigOption<String> KAFKA_PROPERTIES = ConfigOptions.key(PREFIX + "kafka-properties")
            .stringType()
            .noDefaultValue()
            .withDescription(
                    "A Kafka client properties file (security.protocol, sasl.*, ssl.*, tuning) applied to every "
                            + "source, sink and admin client of the job; read where the job is built. Settings the job owns "
                            + "(bootstrap.servers, group.id, isolation.level, transactions, (de)serializers) are refused.");
    public static final ConfigOption<String> GROUP_ID = ConfigOptions.key(PREFIX + "group-id")
            .stringType()
            .noDefaultValue()
            .withDescription("Kafka consumer group (default: exitflow-<job>).");

    // --- Schema registry (SchemaRegistrySettings) -----------------------------------------------------------------
    public static final ConfigOption<String> SCHEMA_REGISTRY_URL = ConfigOptions.key(PREFIX + "schema-registry-url")
            .stringType()
            .noDefaultValue()
            .withDescription(
                    "Schema registry URL(s), comma-separated (a registry speaking Confluent's REST API): every "
                            + "topic of the job, in and out, uses the registry wire format (magic byte 0, 4-byte schema id, Avro "
                            + "binary); input is decoded with the writer's schema fetched by id and resolved into the job's. "
                            + "Unset: plain Avro binary (and Avro single-object encoding on input).");
    public static final ConfigOption<String> SCHEMA_REGISTRY_PROPERTIES = ConfigOptions.key(
                    PREFIX + "schema-registry-properties")
            .stringType()
            .noDefaultValue()
            .withDescription("A properties file of registry client settings (basic.auth.credentials.source, "
                    + "basic.auth.user.info, schema.registry.ssl.*, bearer.auth.*); such keys in --kafka-properties "
                    + "apply too, this file wins.");
    public static final ConfigOption<SchemaRegistrySettings.SubjectStrategy> SCHEMA_REGISTRY_SUBJECT_STRATEGY =
            ConfigOptions.key(PREFIX + "schema-registry-subject-strategy")
                    .enumType(SchemaRegistrySettings.SubjectStrategy.class)
                    .defaultValue(SchemaRegistrySettings.SubjectStrategy.TOPIC)
                    .withDescription(
                            "Subject of a topic's schemas: topic (<topic>-value, Confluent's default), record (the "
                                    + "record's full name) or topic-record (<topic>-<record full name>).");
    public static final ConfigOption<Boolean> SCHEMA_REGISTRY_AUTO_REGISTER = ConfigOptions.key(
                    PREFIX + "schema-registry-auto-register")
            .booleanType()
            .defaultValue(true)
            .withDescription("Register the output schemas under their subjects on first use; false: they must be "
                    + "registered already (the job fails at start naming the subject otherwise).");
    public static final ConfigOption<StartingOffsets> STARTING_OFFSETS = CommandLine.lowerCase(ConfigOptions.key(
                    PREFIX + "starting-offsets")
            .enumType(StartingOffsets.class)
            .defaultValue(StartingOffsets.COMMITTED)
            .withDescription("Where a fresh job starts reading: committed (the group's offsets, else earliest), "
                    + "earliest or latest. A job restored from a checkpoint resumes from the checkpoint."));
    public static final ConfigOption<Boolean> BOUNDED = ConfigOptions.key(PREFIX + "bounded")
            .booleanType()
            .defaultValue(false)
            .withDescription(
                    "Stop at the input's end offsets as of job start (replays, tests); the job then finishes.");
    public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX = ConfigOptions.key(
                    PREFIX + "transactional-id-prefix")
            .stringType()
            .noDefaultValue()
            .withDescription("Prefix of the exactly-once sinks' transactional ids; unique per job on one Kafka cluster "
                    + "(two jobs with one prefix fence each other and lose output). Default: derived from the job, the "
                    + "input topic and the consumer group, exitflow-<job>-<topic>-<8 hex of a hash>, the same on every "
                    + "restart. At start a prefix that another running producer uses is refused.");
    public static final ConfigOption<Duration> TRANSACTION_TIMEOUT = millisSpelling(ConfigOptions.key(
                    PREFIX + "transaction-timeout")
            .durationType()
            .defaultValue(Duration.ofMinutes(10))
            .withDescription("transaction.timeout.ms of the exactly-once sinks. Checked at start: at most the broker's "
                    + "transaction.max.timeout.ms (15 min by default), and at least W + max(1 min, W/2) where W = "
                    + "(tolerable failed checkpoints + 1) x (checkpoint interval + checkpoint timeout), the longest a "
                    + "transaction stays open before its checkpoint commits it."));
    public static final ConfigOption<DeliveryGuarantee> DELIVERY_GUARANTEE = ConfigOptions.key(
                    PREFIX + "delivery-guarantee")
            .enumType(DeliveryGuarantee.class)
            .defaultValue(DeliveryGuarantee.EXACTLY_ONCE)
            .withDescription("Guarantee of the prediction, alert and dead-letter sinks (Flink's DeliveryGuarantee): "
                    + "exactly-once (transactions committed at each checkpoint; read_committed consumers see output "
                    + "only then, up to a checkpoint interval later) or at-least-once (no transactions: output is "
                    + "visible as soon as it is sent, and a restart may write some of it twice). The transaction "
                    + "checks at start apply to exactly-once only.");

    // --- Flink ------------------------------------------------------------------------------------------------
    public static final ConfigOption<Duration> CHECKPOINT_INTERVAL = millisSpelling(
            ConfigOptions.key(PREFIX + "checkpoint-interval")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(5))
                    .withDescription(
                            "Checkpoint interval; outputs become visible to read_committed consumers at each checkpoint."));

    public static final ConfigOption<String> CHECKPOINT_DIR = ConfigOptions.key(PREFIX + "checkpoint-dir")
            .stringType()
            .noDefaultValue()
            .withDescription("Checkpoint storage directory (a file system URI, e.g. file:///data/ckpt or s3://...); "
                    + "default: the cluster's execution.checkpointing.dir. A job without one (checkpoints in the "
                    + "JobManager's memory, 5 MB at most) refuses to start unless --allow-jobmanager-checkpoints.");
    public static final ConfigOption<Duration> CHECKPOINT_TIMEOUT = millisSpelling(ConfigOptions.key(
                    PREFIX + "checkpoint-timeout")
            .durationType()
            .defaultValue(Duration.ofMinutes(2))
            .withDescription("A checkpoint that takes longer expires (execution.checkpointing.timeout). Shorter than "
                    + "Flink's 10 min so that the default --transaction-timeout covers interval + timeout."));
    public static final ConfigOption<Boolean> ALLOW_JOBMANAGER_CHECKPOINTS = ConfigOptions.key(
                    PREFIX + "allow-jobmanager-checkpoints")
            .booleanType()
            .defaultValue(false)
            .withDescription("Run with checkpoints in the JobManager's memory when no checkpoint directory is set "
                    + "(tests with small state only): past 5 MB of state every checkpoint fails and nothing is "
                    + "committed. Without it such a job refuses to start.");
    public static final ConfigOption<Integer> PARALLELISM = ConfigOptions.key(PREFIX + "parallelism")
            .intType()
            .noDefaultValue()
            .withDescription("Job parallelism (default: the cluster's parallelism.default).");

    // --- model and early exit ---------------------------------------------------------------------------------
    public static final ConfigOption<String> BUNDLE = ConfigOptions.key(PREFIX + "bundle")
            .stringType()
            .noDefaultValue()
            .withDescription(
                    "Model bundle directory (docs/bundle-contract.md), readable on every TaskManager (required).");
    public static final ConfigOption<EarlyExit.Mode> MODE = ConfigOptions.key(PREFIX + "mode")
            .enumType(EarlyExit.Mode.class)
            .defaultValue(EarlyExit.DEFAULT_MODE)
            .withDescription("CASCADE, SPLIT, FULL_DEPTH or ROW_AT_A_TIME (EarlyExit.Mode).");
    public static final ConfigOption<Integer> MAX_BATCH_SIZE = ConfigOptions.key(PREFIX + "max-batch-size")
            .intType()
            .defaultValue(EarlyExit.DEFAULT_MAX_BATCH_SIZE)
            .withDescription("Events per ONNX call.");
    public static final ConfigOption<Duration> MAX_WAIT = millisSpelling(ConfigOptions.key(PREFIX + "max-wait")
            .durationType()
            .defaultValue(EarlyExit.DEFAULT_MAX_WAIT)
            .withDescription("Longest time an event waits for its stage's batch to fill."));
    public static final ConfigOption<Double> FULL_DEPTH_SAMPLE_RATE = ConfigOptions.key(
                    PREFIX + "full-depth-sample-rate")
            .doubleType()
            .defaultValue(EarlyExit.DEFAULT_FULL_DEPTH_SAMPLE_RATE)
            .withDescription("Share of events run through every stage, for the controller's accuracy estimates.");
    public static final ConfigOption<Duration> STATS_INTERVAL =
            millisSpelling(ConfigOptions.key(PREFIX + "stats-interval")
                    .durationType()
                    .defaultValue(EarlyExit.DEFAULT_STATS_INTERVAL)
                    .withDescription("How often each stage operator emits StageStats."));
    public static final ConfigOption<Integer> INTRA_OP_THREADS = ConfigOptions.key(PREFIX + "intra-op-threads")
            .intType()
            .defaultValue(EarlyExit.DEFAULT_INTRA_OP_THREADS)
            .withDescription("ONNX Runtime intra-op threads per stage session.");

    // --- devices and stage placement (StagePlacement; deploy/k8s/README.md) ------------------------------------
    public static final ConfigOption<OrtConfig.Device> DEVICE = CommandLine.lowerCase(ConfigOptions.key(
                    PREFIX + "device")
            .enumType(OrtConfig.Device.class)
            .defaultValue(EarlyExit.DEFAULT_DEVICE)
            .withDescription("cpu or cuda: where every stage runs ONNX Runtime. cuda needs the onnxruntime_gpu jar "
                    + "(Maven profile gpu; the Kubernetes image) and a gpu external resource on the TaskManager; "
                    + "without either, a CUDA stage logs a warning and runs on CPU."));
    public static final ConfigOption<String> GPU_STAGES = ConfigOptions.key(PREFIX + "gpu-stages")
            .stringType()
            .noDefaultValue()
            .withDescription("SPLIT mode: the stages that run on CUDA, the others on CPU (e.g. 2,3 or 2-3). "
                    + "Stages that --stage-slot-groups does not name go to the slot sharing group 'gpu'.");
    public static final ConfigOption<String> STAGE_SLOT_GROUPS = ConfigOptions.key(PREFIX + "stage-slot-groups")
            .stringType()
            .noDefaultValue()
            .withDescription("SPLIT mode: slot sharing group per stage (e.g. 0-1:cpu,2-3:gpu); stages not named stay "
                    + "in 'default'. A group holding a CUDA stage asks for the --gpu-slot-* resources, a gpu external "
                    + "resource included, so Flink gives it slots only on TaskManagers that declare one.");
    public static final ConfigOption<String> STAGE_PARALLELISM = ConfigOptions.key(PREFIX + "stage-parallelism")
            .stringType()
            .noDefaultValue()
            .withDescription("SPLIT mode: parallelism per stage (e.g. 0-1:4,2-3:1); stages not named take the job's.");
    public static final ConfigOption<Double> GPU_SLOT_GPUS = ConfigOptions.key(PREFIX + "gpu-slot-gpus")
            .doubleType()
            .defaultValue(1.0)
            .withDescription(
                    "gpu external resource per slot of a group holding a CUDA stage: 1 is a whole GPU; "
                            + "1/taskmanager.numberOfTaskSlots of the GPU TaskManagers lets every slot there hold a GPU stage.");
    public static final ConfigOption<Double> GPU_SLOT_CPU_CORES = ConfigOptions.key(PREFIX + "gpu-slot-cpu-cores")
            .doubleType()
            .defaultValue(1.0)
            .withDescription("CPU cores per slot of a group holding a CUDA stage.");
    public static final ConfigOption<MemorySize> GPU_SLOT_TASK_HEAP = ConfigOptions.key(PREFIX + "gpu-slot-task-heap")
            .memoryType()
            .defaultValue(MemorySize.parse("512m"))
            .withDescription("Task heap per slot of a group holding a CUDA stage.");
    public static final ConfigOption<MemorySize> GPU_SLOT_TASK_OFF_HEAP = ConfigOptions.key(
                    PREFIX + "gpu-slot-task-off-heap")
            .memoryType()
            .defaultValue(MemorySize.ZERO)
            .withDescription("Task off-heap (direct) memory per slot of a group holding a CUDA stage.");
    public static final ConfigOption<MemorySize> GPU_SLOT_MANAGED_MEMORY = ConfigOptions.key(
                    PREFIX + "gpu-slot-managed-memory")
            .memoryType()
            .defaultValue(MemorySize.ZERO)
            .withDescription("Managed memory per slot of a group holding a CUDA stage (needed only with the "
                    + "RocksDB state backend).");

    // --- feedback loop ----------------------------------------------------------------------------------------
    public static final ConfigOption<Double> BUDGET_RATE = ConfigOptions.key(PREFIX + "budget-rate")
            .doubleType()
            .noDefaultValue()
            .withDescription("Rate budget in events/s the job must keep up with; starts the in-job controller.");
    public static final ConfigOption<Double> BUDGET_COST = ConfigOptions.key(PREFIX + "budget-cost")
            .doubleType()
            .noDefaultValue()
            .withDescription("Cost budget: average cost per event as a fraction of full depth, in (0, 1]; "
                    + "starts the in-job controller. Give at most one of budget-rate and budget-cost.");
    public static final ConfigOption<Double> MAX_ACCURACY_LOSS = ConfigOptions.key(PREFIX + "max-accuracy-loss")
            .doubleType()
            .noDefaultValue()
            .withDescription(
                    "Accuracy floor for the controller: largest loss against full depth (0.005 = half a point).");
    public static final ConfigOption<Double> BUDGET_UTILISATION = ConfigOptions.key(PREFIX + "budget-utilisation")
            .doubleType()
            .noDefaultValue()
            .withDescription(
                    "With --budget-rate: share of each stage subtask's time the stages (ONNX Runtime) may fill "
                            + "at the planned rate, in (0, 1] (default " + ControllerConfig.DEFAULT_TARGET_UTILISATION
                            + "). Lower it "
                            + "when decoding, windowing and sinks "
                            + "take most of the job's CPU, or to leave inference only a slice of shared cores.");
    public static final ConfigOption<StageCosts> BUDGET_STAGE_COSTS = CommandLine.lowerCase(ConfigOptions.key(
                    PREFIX + "budget-stage-costs")
            .enumType(StageCosts.class)
            .defaultValue(StageCosts.MEASURED)
            .withDescription("Stage costs the controller plans with: measured (learned from the operators' busy time) "
                    + "or bundle (calibration.json's, fixed: plans follow only the input rate, the budget and the "
                    + "samples, the same on any machine; for machines whose busy time is too noisy to steer by)."));
    public static final ConfigOption<Integer> BUDGET_WORKERS = ConfigOptions.key(PREFIX + "budget-workers")
            .intType()
            .noDefaultValue()
            .withDescription(
                    "Parallel workers a rate budget plans capacity for (default: the subtasks running stage 0). "
                            + "Set it in SPLIT mode when the stages have different parallelism or share fewer cores than "
                            + "they have subtasks: capacity = workers x 1 s of stage time per second.");
    public static final ConfigOption<Boolean> SOURCE_LAG = ConfigOptions.key(PREFIX + "source-lag")
            .booleanType()
            .defaultValue(true)
            .withDescription("Whether the controller adds the input topic's consumer-group lag (end offsets minus the "
                    + "offsets the source commits on checkpoints, corrected for what it read since) to the operators' "
                    + "backlog, so overload that backpressure hides from the operators still shows. Needs "
                    + "checkpointing; the job's admin client reads the group's offsets.");

    // --- anomaly job: windows and alerts ----------------------------------------------------------------------
    public static final ConfigOption<Duration> OUT_OF_ORDERNESS = millisSpelling(ConfigOptions.key(
                    PREFIX + "out-of-orderness")
            .durationType()
            .defaultValue(Duration.ofMillis(200))
            .withDescription("Watermark bound: how far out of order readings may arrive and still be used in order."));
    public static final ConfigOption<Duration> ALLOWED_LATENESS = millisSpelling(ConfigOptions.key(
                    PREFIX + "allowed-lateness")
            .durationType()
            .defaultValue(Duration.ofSeconds(1))
            .withDescription("A reading behind the watermark by at most this is still used when it is newer than "
                    + "the sensor's last used reading; later ones go to the dead-letter topic (reason late)."));
    public static final ConfigOption<Duration> MAX_GAP = millisSpelling(ConfigOptions.key(PREFIX + "max-gap")
            .durationType()
            .noDefaultValue()
            .withDescription("A larger step between a sensor's readings restarts its window (default: the "
                    + "manifest's max_gap_ms, the gap the training windows were cut with; in format 1 bundles 3 x "
                    + "sample_period_ms + jitter max(2 ms, period/10), rounded up). A sensor whose window keeps "
                    + "restarting shows in a WARN and the metrics sensorsWithoutWindows and readingsInNoWindow."));
    public static final ConfigOption<Integer> MAX_WAITING_READINGS = ConfigOptions.key(PREFIX + "max-waiting-readings")
            .intType()
            .noDefaultValue()
            .withDescription("Most readings of one sensor that wait for the watermark; past it the earliest is used "
                    + "without waiting (metric readingsReleasedEarly, a WARN) and readings older than it go to the "
                    + "dead-letter topic as late. Bounds the window step's memory (default: 2 x the readings of "
                    + "--out-of-orderness + --watermark-max-drift at the manifest's period, at least 2 windows).");
    public static final ConfigOption<Duration> WATERMARK_MAX_DRIFT = millisSpelling(ConfigOptions.key(
                    PREFIX + "watermark-max-drift")
            .durationType()
            .defaultValue(Duration.ofSeconds(1))
            .withDescription("Watermark alignment: an input partition whose watermark runs further ahead of the "
                    + "slowest one's is paused until that one catches up, so readings of a partition read far ahead "
                    + "wait in Kafka, not in the job's state. 0 turns alignment off; bounded input, and an "
                    + "--idle-timeout under 5s, have none (Flink 2.2 bugs, README)."));
    public static final ConfigOption<Duration> MAX_FUTURE = millisSpelling(ConfigOptions.key(PREFIX + "max-future")
            .durationType()
            .defaultValue(Duration.ofHours(1))
            .withDescription("A reading stamped further ahead of the clock than this is invalid (dead letter), "
                    + "so one wrong clock cannot drag the watermark ahead of every other sensor."));
    public static final ConfigOption<Duration> MAX_PAST = millisSpelling(ConfigOptions.key(PREFIX + "max-past")
            .durationType()
            .defaultValue(Duration.ofDays(3650))
            .withDescription("A reading stamped further behind the clock than this is invalid "
                    + "(dead letter), so one reset clock (1970, 2000) cannot hold the watermark back for every other "
                    + "sensor; raise it to replay older recordings."));
    public static final ConfigOption<Duration> IDLE_TIMEOUT = millisSpelling(ConfigOptions.key(PREFIX + "idle-timeout")
            .durationType()
            .defaultValue(Duration.ofSeconds(5))
            .withDescription("A partition silent this long stops holding the watermark back."));
    public static final ConfigOption<Double> ALERT_MIN_PROBABILITY = ConfigOptions.key(PREFIX + "alert-min-probability")
            .doubleType()
            .defaultValue(0.9)
            .withDescription("Anomaly job: alert on a non-normal class predicted with at least this probability.");
    public static final ConfigOption<String> NORMAL_CLASS = ConfigOptions.key(PREFIX + "normal-class")
            .stringType()
            .noDefaultValue()
            .withDescription("Anomaly job: the bundle's class that raises no alert; every other class does "
                    + "(default: normal, when the bundle has that class; a bundle without it needs this, "
                    + "--alert-classes, or --alert-classes none).");
    public static final ConfigOption<String> ALERT_CLASSES = ConfigOptions.key(PREFIX + "alert-classes")
            .stringType()
            .noDefaultValue()
            .withDescription("Anomaly job: the bundle's classes that raise alerts (a,b), or none for no alerts; "
                    + "instead of --normal-class. Checked against the bundle's classes at start.");

    /** Every option declared above, in declaration order. */
    public static List<ConfigOption<?>> all() {
        List<ConfigOption<?>> out = new ArrayList<>();
        for (Field f : JobOptions.class.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == ConfigOption.class) {
                try {
                    out.add((ConfigOption<?>) f.get(null));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return out;
    }

    /** The command-line name of an option: its key without the {@code exitflow.} prefix. */
    public static String argName(ConfigOption<?> option) {
        return CommandLine.name(option);
    }

    /**
     * The older command-line name of a duration option, in whole milliseconds ({@code checkpoint-interval-ms}): the
     * name messages use when they give its value in milliseconds.
     *
     * @throws IllegalArgumentException for a duration option without that spelling
     */
    public static String millisArgName(ConfigOption<Duration> option) {
        return CommandLine.millisSpelling(option)
                .orElseThrow(() -> new IllegalArgumentException(
                        "--" + argName(option) + " has no millisecond spelling (--" + argName(option) + "-ms)"));
    }

    /** A duration option that also takes its older spelling {@code --<name>-ms MILLIS}. */
    private static ConfigOption<Duration> millisSpelling(ConfigOption<Duration> option) {
        return CommandLine.durationWithMillisSpelling(option);
    }
}
