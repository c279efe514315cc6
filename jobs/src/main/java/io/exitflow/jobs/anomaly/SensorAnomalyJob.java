package io.exitflow.jobs.anomaly;

import io.exitflow.jobs.common.DeadLetterSplitter;
import io.exitflow.jobs.common.DeadLetters;
import io.exitflow.jobs.common.DecodingDeserializer;
import io.exitflow.jobs.common.InferencePipeline;
import io.exitflow.jobs.common.JobConfig;
import io.exitflow.jobs.common.JobLauncher;
import io.exitflow.jobs.common.JobOptions;
import io.exitflow.jobs.common.KafkaIo;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.runtime.record.InferenceRequest;
import io.exitflow.schemas.Alert;
import io.exitflow.schemas.DeadLetter;
import io.exitflow.schemas.Prediction;
import io.exitflow.schemas.SensorReading;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.EitherTypeInfo;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.types.Either;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sensor anomaly detection: Avro {@link SensorReading}s in; per sensor, event-time sliding windows (size and
 * slide from the bundle's {@code input.window}); the early-exit cascade classifies each window; Avro
 * {@link Prediction}s out, and {@link Alert}s for the alert classes ({@code --normal-class}, {@code --alert-classes},
 * checked against the bundle's classes at start: {@link AlertRule#choose}) above {@code --alert-min-probability}.
 * Undecodable, invalid and late readings go to the dead-letter topic, with their Kafka partition and offset.
 * Outputs are exactly once. Watermark alignment on the source and a cap per sensor bound the readings that wait for
 * the watermark ({@link WindowAssembler}).
 *
 * <pre>flink run -c io.exitflow.jobs.anomaly.SensorAnomalyJob exitflow-jobs-job.jar \
 *     --bootstrap-servers localhost:9092 --bundle /models/sensor-cnn [--input-topic sensor-readings ...]</pre>
 *
 * Settings: {@link JobOptions} ({@code --help}).
 */
public final class SensorAnomalyJob {
    /** Short name: default consumer group and transactional-id prefix {@code exitflow-anomaly}. */
    public static final String NAME = "anomaly";
    /** Default input topic. */
    public static final String DEFAULT_INPUT_TOPIC = "sensor-readings";
    /** How often the source's watermark alignment compares the partitions' watermarks. */
    static final Duration ALIGNMENT_UPDATE_INTERVAL = Duration.ofMillis(100);
    /** Shortest {@code --idle-timeout} that watermark alignment is used with (FLINK-40093). */
    static final long ALIGNMENT_MIN_IDLE_TIMEOUT_MS = 5_000;

    private static final Logger LOG = LoggerFactory.getLogger(SensorAnomalyJob.class);

    private SensorAnomalyJob() {}

    public static void main(String[] args) throws Exception {
        JobLauncher.run(args, "exitflow sensor anomaly detection", SensorAnomalyJob::build);
    }

    /** Adds the job's operators to {@code env} (the demo, the tests and the benchmark run it in process). */
    public static void build(StreamExecutionEnvironment env, JobConfig cfg) {
        // The bundle-dependent settings first: a bad one fails the start with its own message.
        // The bundle is loaded and validated here, once; the operators get this handle and check its digest on open.
        ModelBundle bundle = ModelBundle.load(Path.of(cfg.require(JobOptions.BUNDLE)));
        Manifest manifest = bundle.manifest();
        WindowSpec spec = windowSpec(manifest, cfg);
        AlertRule.Choice alerts = AlertRule.choose(
                manifest.modelId(),
                manifest.classes(),
                cfg.optional(JobOptions.NORMAL_CLASS).orElse(null),
                cfg.optional(JobOptions.ALERT_CLASSES).orElse(null));
        InferencePipeline.configure(env, cfg);
        if (alerts.on()) {
            LOG.info("anomaly job, bundle {}: {}", manifest.modelId(), alerts.description());
        } else {
            LOG.warn("anomaly job, bundle {}: {}", manifest.modelId(), alerts.description());
        }
        LOG.info(
                "anomaly job, bundle {}: windows of {} readings every {}; a step over {} ms restarts a sensor's "
                        + "window (--max-gap-ms); at most {} readings of a sensor wait for the watermark "
                        + "(--max-waiting-readings)",
                manifest.modelId(),
                spec.size(),
                spec.slide(),
                spec.maxGapMillis(),
                spec.maxWaitingReadings());
        KafkaIo io = new KafkaIo(cfg, NAME);
        String topic = cfg.get(JobOptions.INPUT_TOPIC, DEFAULT_INPUT_TOPIC);

        // Readings cross operators with their own serializer, not Flink's generic Avro one (SensorReadingSerializer),
        // with their Kafka partition and offset (PositionedReading), so the window step's dead letters name them.
        SingleOutputStreamOperator<PositionedReading> readings = env.fromSource(
                        io.inputSource(
                                topic,
                                new PositionedReadingDeserializer(new DecodingDeserializer<>(
                                        SensorReading.class,
                                        new SensorReadingValidator(
                                                spec.channels(),
                                                cfg.get(JobOptions.MAX_FUTURE).toMillis(),
                                                cfg.get(JobOptions.MAX_PAST).toMillis()),
                                        io.schemaRegistry()))),
                        watermarks(cfg, topic),
                        "readings: " + topic,
                        new EitherTypeInfo<>(new AvroTypeInfo<>(DeadLetter.class), PositionedReadingTypeInfo.INSTANCE))
                .uid("readings-source")
                .process(new DeadLetterSplitter<PositionedReading>(), PositionedReadingTypeInfo.INSTANCE)
                .name("decode readings")
                .uid("decode-readings");

        SingleOutputStreamOperator<InferenceRequest> windows = readings.keyBy(PositionedReading::sensorId, Types.STRING)
                .process(new WindowAssembler(spec, topic), TypeInformation.of(InferenceRequest.class))
                .name("assemble windows")
                .uid("assemble-windows");

        DataStream<DeadLetter> deadLetters =
                readings.getSideOutput(DeadLetters.TAG).union(windows.getSideOutput(DeadLetters.TAG));
        // each slide of a sensor's readings makes one window: the controller reads the input's lag in windows
        DataStream<Prediction> predictions =
                new InferencePipeline(env, cfg, io, bundle, topic, spec.slide()).attach(windows, deadLetters);

        if (alerts.on()) {
            predictions
                    .flatMap(
                            new AlertRule(alerts.alerting(), cfg.get(JobOptions.ALERT_MIN_PROBABILITY)),
                            new AvroTypeInfo<>(Alert.class))
                    .name("alerts")
                    .uid("alerts")
                    .sinkTo(io.dataSink(cfg.get(JobOptions.ALERT_TOPIC), Alert.class, Alert::getSensorId, "alerts"))
                    .name("alert sink")
                    .uid("alert-sink");
        }
    }

    /**
     * Event time of the readings: bounded out-of-orderness ({@code --out-of-orderness}), idle partitions stop
     * holding the watermark back ({@code --idle-timeout}), and watermark alignment
     * ({@code --watermark-max-drift}): a partition whose watermark runs further ahead of the slowest partition's
     * is paused (Kafka splits pause and resume), so a partition read far ahead of another waits in Kafka, not in the
     * window step's state. Not with bounded input ({@code --bounded}) nor with an idle timeout under 5 s: see
     * below. In Flink 2.2 a partition paused longer than {@code --idle-timeout} counts as idle and reads on, so
     * alignment bounds the wait only roughly; the window step's cap per sensor ({@code --max-waiting-readings}) is
     * the hard bound.
     */
    static WatermarkStrategy<Either<DeadLetter, PositionedReading>> watermarks(JobConfig cfg, String topic) {
        WatermarkStrategy<Either<DeadLetter, PositionedReading>> w =
                WatermarkStrategy.<Either<DeadLetter, PositionedReading>>forBoundedOutOfOrderness(
                                cfg.get(JobOptions.OUT_OF_ORDERNESS))
                        // Dead letters carry no event time: MIN_VALUE keeps them from moving the watermark.
                        .withTimestampAssigner((e, kafkaTime) ->
                                e.isRight() ? e.right().reading().getEventTime().toEpochMilli() : Long.MIN_VALUE)
                        .withIdleness(cfg.get(JobOptions.IDLE_TIMEOUT));
        Duration drift = cfg.get(JobOptions.WATERMARK_MAX_DRIFT);
        if (drift.isNegative()) {
            throw new IllegalArgumentException("--" + JobOptions.millisArgName(JobOptions.WATERMARK_MAX_DRIFT)
                    + " must be >= 0 (0: no alignment), got " + drift.toMillis());
        }
        long idle = cfg.get(JobOptions.IDLE_TIMEOUT).toMillis();
        boolean aligned = !drift.isZero();
        if (aligned && cfg.get(JobOptions.BOUNDED)) {
            // flink-connector-kafka 5.0.0 fails the source when alignment pauses or resumes a split that has just
            // finished (FLINK-39728: "No current assignment for partition"), which bounded input does at its end.
            LOG.info(
                    "bounded input: no watermark alignment (--{} is for unbounded input); --{} bounds the readings "
                            + "that wait for the watermark all the same",
                    JobOptions.millisArgName(JobOptions.WATERMARK_MAX_DRIFT),
                    JobOptions.argName(JobOptions.MAX_WAITING_READINGS));
        } else if (aligned && idle < ALIGNMENT_MIN_IDLE_TIMEOUT_MS) {
            // Flink 2.2: a split paused by alignment just as it turns idle may never be resumed (FLINK-40093); the
            // race needs an idle timeout about as short as alignment's reaction time.
            LOG.info(
                    "--{} {} ms is under {} ms: no watermark alignment (a partition paused just as it turned idle "
                            + "could stay paused, FLINK-40093); --{} bounds the readings that wait for the watermark all the "
                            + "same",
                    JobOptions.millisArgName(JobOptions.IDLE_TIMEOUT),
                    idle,
                    ALIGNMENT_MIN_IDLE_TIMEOUT_MS,
                    JobOptions.argName(JobOptions.MAX_WAITING_READINGS));
        } else if (aligned) {
            w = w.withWatermarkAlignment("exitflow-" + NAME + "-" + topic, drift, ALIGNMENT_UPDATE_INTERVAL);
        }
        return w;
    }

    /** Window cut from the manifest ({@code input.shape = [C, T]}, {@code input.window}) and the settings. */
    static WindowSpec windowSpec(Manifest manifest, JobConfig cfg) {
        Manifest.Input in = manifest.input();
        if (in == null
                || in.window() == null
                || in.shape() == null
                || in.shape().size() != 2) {
            throw new IllegalArgumentException("bundle " + manifest.modelId() + " is not a sensor-window model: the "
                    + "anomaly job needs input.shape [channels, time] and input.window in manifest.json");
        }
        Manifest.Window w = in.window();
        if (w.size() != in.shape().get(1)) {
            throw new IllegalArgumentException("manifest input.window.size " + w.size()
                    + " differs from input.shape[1] " + in.shape().get(1));
        }
        double period = w.samplePeriodMs(); // may be fractional (format 2)
        if (!(period > 0) || Double.isInfinite(period)) {
            throw new IllegalArgumentException(
                    "manifest input.window.sample_period_ms must be a positive number, got " + period);
        }
        // The gap the toolkit cut the training windows with (format 2 manifests; its default is the same tolerance
        // of the period), else that tolerance of the period.
        long gap = cfg.optional(JobOptions.MAX_GAP)
                .map(Duration::toMillis)
                .orElseGet(() -> w.maxGapMillis().orElse(WindowSpec.defaultMaxGapMillis(period)));
        if (gap <= 0) {
            throw new IllegalArgumentException(
                    "--" + JobOptions.millisArgName(JobOptions.MAX_GAP) + " must be > 0, got " + gap);
        }
        long lateness = cfg.get(JobOptions.ALLOWED_LATENESS).toMillis();
        if (lateness < 0) {
            throw new IllegalArgumentException(
                    "--" + JobOptions.millisArgName(JobOptions.ALLOWED_LATENESS) + " must be >= 0, got " + lateness);
        }
        int waiting = cfg.get(
                JobOptions.MAX_WAITING_READINGS,
                WindowSpec.defaultMaxWaitingReadings(
                        w.size(),
                        period,
                        cfg.get(JobOptions.OUT_OF_ORDERNESS).toMillis(),
                        cfg.get(JobOptions.WATERMARK_MAX_DRIFT).toMillis()));
        if (waiting <= 0) {
            throw new IllegalArgumentException(
                    "--" + JobOptions.argName(JobOptions.MAX_WAITING_READINGS) + " must be > 0, got " + waiting);
        }
        return new WindowSpec(w.size(), w.slide(), in.shape().get(0), period, gap, lateness, waiting);
    }
}
