package io.exitflow.jobs.anomaly;

import io.exitflow.jobs.common.DeadLetterSplitter;
import io.exitflow.jobs.common.DeadLetters;
import io.exitflow.jobs.common.InferencePipeline;
import io.exitflow.jobs.common.JobConfig;
import io.exitflow.jobs.common.JobLauncher;
import io.exitflow.jobs.common.JobOptions;
import io.exitflow.jobs.common.KafkaIo;
import io.exitflow.runtime.api.InferenceRequest;
import io.exitflow.runtime.bundle.Manifest;
import io.exitflow.runtime.bundle.ModelBundle;
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

/**
 * Sensor anomaly detection: Avro {@link SensorReading}s in; per sensor, event-time sliding windows (size and
 * slide from the bundle's {@code input.window}); the early-exit cascade classifies each window; Avro
 * {@link Prediction}s out, and {@link Alert}s for non-normal classes above {@code --alert-min-probability}.
 * Undecodable, invalid and late readings go to the dead-letter topic. Outputs are exactly once.
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

    private SensorAnomalyJob() {}

    public static void main(String[] args) throws Exception {
        JobLauncher.run(args, "exitflow sensor anomaly detection", SensorAnomalyJob::build);
    }

    /** Adds the job's operators to {@code env} (the demo, the tests and the benchmark run it in process). */
    public static void build(StreamExecutionEnvironment env, JobConfig cfg) {
        InferencePipeline.configure(env, cfg);
        Manifest manifest = ModelBundle.load(Path.of(cfg.require(JobOptions.BUNDLE))).manifest();
        WindowSpec spec = windowSpec(manifest, cfg);
        int normal = manifest.classes().indexOf("normal");
        if (normal < 0) {
            throw new IllegalArgumentException("the anomaly job needs a class named 'normal' in the bundle's classes "
                    + manifest.classes() + " (alerts are raised for every other class)");
        }
        KafkaIo io = new KafkaIo(cfg, NAME);
        String topic = cfg.get(JobOptions.INPUT_TOPIC, DEFAULT_INPUT_TOPIC);

        WatermarkStrategy<Either<DeadLetter, SensorReading>> watermarks = WatermarkStrategy
                .<Either<DeadLetter, SensorReading>>forBoundedOutOfOrderness(
                        Duration.ofMillis(cfg.get(JobOptions.OUT_OF_ORDERNESS_MS)))
                // Dead letters carry no event time: MIN_VALUE keeps them from moving the watermark.
                .withTimestampAssigner((e, kafkaTime) -> e.isRight()
                        ? e.right().getEventTime().toEpochMilli() : Long.MIN_VALUE)
                .withIdleness(Duration.ofMillis(cfg.get(JobOptions.IDLE_TIMEOUT_MS)));
        // Readings cross operators with their own serializer, not Flink's generic Avro one (SensorReadingSerializer).
        SingleOutputStreamOperator<SensorReading> readings = env
                .fromSource(io.decodingSource(topic, SensorReading.class, new SensorReadingValidator(spec.channels(),
                        cfg.get(JobOptions.MAX_FUTURE_MS), cfg.get(JobOptions.MAX_PAST_MS))),
                        watermarks, "readings: " + topic,
                        new EitherTypeInfo<>(new AvroTypeInfo<>(DeadLetter.class), SensorReadingTypeInfo.INSTANCE))
                .uid("readings-source")
                .process(new DeadLetterSplitter<SensorReading>(), SensorReadingTypeInfo.INSTANCE)
                .name("decode readings").uid("decode-readings");

        SingleOutputStreamOperator<InferenceRequest> windows = readings
                .keyBy(SensorReading::getSensorId, Types.STRING)
                .process(new WindowAssembler(spec, topic), TypeInformation.of(InferenceRequest.class))
                .name("assemble windows").uid("assemble-windows");

        DataStream<DeadLetter> deadLetters = readings.getSideOutput(DeadLetters.TAG)
                .union(windows.getSideOutput(DeadLetters.TAG));
        // each slide of a sensor's readings makes one window: the controller reads the input's lag in windows
        DataStream<Prediction> predictions = new InferencePipeline(env, cfg, io, topic, spec.slide())
                .attach(windows, deadLetters);

        predictions.flatMap(new AlertRule(normal, cfg.get(JobOptions.ALERT_MIN_PROBABILITY)), new AvroTypeInfo<>(Alert.class))
                .name("alerts").uid("alerts")
                .sinkTo(io.exactlyOnceSink(cfg.get(JobOptions.ALERT_TOPIC), Alert.class, Alert::getSensorId, "alerts"))
                .name("alert sink").uid("alert-sink");
    }

    /** Window cut from the manifest ({@code input.shape = [C, T]}, {@code input.window}) and the settings. */
    static WindowSpec windowSpec(Manifest manifest, JobConfig cfg) {
        Manifest.Input in = manifest.input();
        if (in == null || in.window() == null || in.shape() == null || in.shape().size() != 2) {
            throw new IllegalArgumentException("bundle " + manifest.modelId() + " is not a sensor-window model: the "
                    + "anomaly job needs input.shape [channels, time] and input.window in manifest.json");
        }
        Manifest.Window w = in.window();
        if (w.size() != in.shape().get(1)) {
            throw new IllegalArgumentException("manifest input.window.size " + w.size()
                    + " differs from input.shape[1] " + in.shape().get(1));
        }
        // The gap the toolkit cut the training windows with (format 2 manifests), else 3 sample periods.
        long gap = cfg.get(JobOptions.MAX_GAP_MS,
                w.maxGapMillis().orElse((long) Math.ceil(3 * Math.max(1, w.samplePeriodMs()))));
        return new WindowSpec(w.size(), w.slide(), in.shape().get(0), gap, cfg.get(JobOptions.ALLOWED_LATENESS_MS));
    }
}
