package io.exitflow.jobs.common;

import io.exitflow.runtime.api.EarlyExit;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.record.InferenceRequest;
import io.exitflow.runtime.record.RejectedRequest;
import io.exitflow.schemas.DeadLetter;
import io.exitflow.schemas.Prediction;
import io.exitflow.schemas.StageStats;
import io.exitflow.schemas.ThresholdUpdate;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The part both jobs share: early-exit inference over a stream of requests, the thresholds read back from
 * the control topic, the feedback loop, and the Kafka outputs (predictions and dead letters exactly once, or at
 * least once by {@code --delivery-guarantee}; stage stats and threshold updates at least once).
 */
public final class InferencePipeline {
    private final StreamExecutionEnvironment env;
    private final JobConfig cfg;
    private final KafkaIo io;
    private final ModelBundle bundle;
    private final String inputTopic;
    private final double recordsPerEvent;

    /**
     * @param bundle the model bundle the job loaded (once per job build); everything downstream uses this handle
     * @param inputTopic the job's input topic, named in dead letters of requests the runtime rejects
     * @param recordsPerEvent input records per request (1 when each record is one request; the window hop when
     *     each hop of readings makes a window), for the controller's reading of the topic's lag
     */
    public InferencePipeline(
            StreamExecutionEnvironment env,
            JobConfig cfg,
            KafkaIo io,
            ModelBundle bundle,
            String inputTopic,
            double recordsPerEvent) {
        this.env = env;
        this.cfg = cfg;
        this.io = io;
        this.bundle = bundle;
        this.inputTopic = inputTopic;
        this.recordsPerEvent = recordsPerEvent;
    }

    /**
     * The early-exit settings of this job (bundle, mode, batching, sampling, and the stages' devices, slot sharing
     * groups and parallelism: {@link StagePlacement}, whose GPU groups it registers on the environment).
     */
    public EarlyExit earlyExit(String name) {
        EarlyExit.Mode m = cfg.get(JobOptions.MODE);
        StagePlacement placement = StagePlacement.of(cfg, m, bundle.manifest().numStages());
        placement.registerSlotSharingGroups(env);
        return placement
                .applyTo(EarlyExit.builder())
                .bundle(bundle)
                .mode(m)
                .maxBatchSize(cfg.get(JobOptions.MAX_BATCH_SIZE))
                .maxWait(cfg.get(JobOptions.MAX_WAIT))
                .fullDepthSampleRate(cfg.get(JobOptions.FULL_DEPTH_SAMPLE_RATE))
                .statsInterval(cfg.get(JobOptions.STATS_INTERVAL))
                .intraOpThreads(cfg.get(JobOptions.INTRA_OP_THREADS))
                .name(name)
                .build();
    }

    /**
     * Runs the requests through the early-exit operators and writes every output.
     *
     * @param requests what to classify
     * @param deadLetters dead letters found upstream (decoding, validation, lateness), written with the rest
     * @return the predictions, for job-specific outputs (alerts)
     */
    public DataStream<Prediction> attach(DataStream<InferenceRequest> requests, DataStream<DeadLetter> deadLetters) {
        EarlyExit earlyExit = earlyExit("early-exit");
        DataStream<ThresholdUpdate> control = null;
        String controlTopic = cfg.get(JobOptions.CONTROL_TOPIC);
        if (!controlTopic.isEmpty()) {
            SingleOutputStreamOperator<ThresholdUpdate> updates = env.fromSource(
                            io.controlSource(controlTopic, ThresholdUpdate.class, RecordValidator.acceptAll()),
                            WatermarkStrategy.noWatermarks(),
                            "control: " + controlTopic)
                    .uid("control-source")
                    .setParallelism(1)
                    .process(new DeadLetterSplitter<ThresholdUpdate>(), new AvroTypeInfo<>(ThresholdUpdate.class))
                    .name("decode control")
                    .uid("decode-control")
                    .setParallelism(1);
            control = updates;
            deadLetters = deadLetters.union(updates.getSideOutput(DeadLetters.TAG));
        }

        EarlyExit.Result out = earlyExit.apply(requests, control);

        out.predictions()
                .sinkTo(io.dataSink(
                        cfg.get(JobOptions.PREDICTION_TOPIC), Prediction.class, Prediction::getKey, "predictions"))
                .name("predictions sink")
                .uid("predictions-sink");

        String statsTopic = cfg.get(JobOptions.STATS_TOPIC);
        if (!statsTopic.isEmpty()) {
            out.stageStats()
                    .sinkTo(io.atLeastOnceSink(statsTopic, StageStats.class, StageStats::getModelId))
                    .name("stage stats sink")
                    .uid("stats-sink");
        }
        FeedbackWiring.attach(cfg, io, bundle, out.stageStats(), inputTopic, recordsPerEvent);

        String topic = inputTopic; // a local, so the lambda does not capture this (unserialisable) pipeline
        DataStream<DeadLetter> rejected = out.rejected()
                .map(r -> rejectedToDeadLetter(r, topic), new AvroTypeInfo<>(DeadLetter.class))
                .name("rejected to dead letters")
                .uid("rejected-dead-letters");
        DeadLetters.sinkTo(deadLetters.union(rejected), cfg, io);
        return out.predictions();
    }

    /** A request the runtime refused: its event id as payload (its input was already validated upstream). */
    static DeadLetter rejectedToDeadLetter(RejectedRequest r, String topic) {
        String id = r.request == null ? "" : r.request.eventId;
        long time = r.request == null ? 0L : r.request.eventTime;
        return DeadLetters.of(
                topic,
                -1,
                -1L,
                "rejected by the runtime: " + r.reason,
                id == null ? new byte[0] : id.getBytes(StandardCharsets.UTF_8),
                time);
    }

    /**
     * Checkpointing (exactly-once, durable storage, a transaction timeout that covers the checkpoints:
     * {@link CheckpointSettings}), parallelism from the settings, and object reuse between chained operators.
     *
     * <p>Object reuse: without it Flink deep-copies every record passed between chained operators, once per
     * downstream operator (each {@code Prediction} through Avro's generic copy into the prediction sink and again
     * into the alert rule). It is safe here because no operator of the jobs changes a record after emitting it, nor
     * keeps one a chained operator handed it: the decoders, window assembler, early-exit operators, alert rule and
     * dead-letter steps build a new record for every output (the dead-letter splitter passes its input on
     * unchanged); the window assembler and the early-exit operators, which keep records (keyed state, batches), get
     * theirs over the network (keyBy), where Flink deserializes a new object for every record; the sinks encode a
     * record when they receive it. An operator added to these jobs must keep to that.
     */
    public static void configure(StreamExecutionEnvironment env, JobConfig cfg) {
        cfg.optional(JobOptions.PARALLELISM).ifPresent(env::setParallelism);
        CheckpointSettings.apply(env, cfg);
        env.getConfig().enableObjectReuse();
    }
}
