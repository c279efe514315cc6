package io.exitflow.jobs.classification;

import io.exitflow.jobs.common.DeadLetterSplitter;
import io.exitflow.jobs.common.DeadLetters;
import io.exitflow.jobs.common.InferencePipeline;
import io.exitflow.jobs.common.JobConfig;
import io.exitflow.jobs.common.JobLauncher;
import io.exitflow.jobs.common.JobOptions;
import io.exitflow.jobs.common.KafkaIo;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.runtime.manifest.Manifest;
import io.exitflow.runtime.record.InferenceRequest;
import io.exitflow.schemas.FeatureEvent;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Classification: Avro {@link FeatureEvent}s in, the early-exit cascade, Avro predictions out (exactly once);
 * undecodable and invalid events go to the dead-letter topic.
 *
 * <pre>flink run -c io.exitflow.jobs.classification.ClassificationJob exitflow-jobs-job.jar \
 *     --bootstrap-servers localhost:9092 --bundle /models/features-mlp [--input-topic feature-events ...]</pre>
 *
 * Settings: {@link JobOptions} ({@code --help}).
 */
public final class ClassificationJob {
    /** Short name: default consumer group and transactional-id prefix {@code exitflow-classification}. */
    public static final String NAME = "classification";
    /** Default input topic. */
    public static final String DEFAULT_INPUT_TOPIC = "feature-events";

    private ClassificationJob() {}

    public static void main(String[] args) throws Exception {
        JobLauncher.run(args, "exitflow classification", ClassificationJob::build);
    }

    /** Adds the job's operators to {@code env}. */
    public static void build(StreamExecutionEnvironment env, JobConfig cfg) {
        InferencePipeline.configure(env, cfg);
        ModelBundle bundle = ModelBundle.load(Path.of(cfg.require(JobOptions.BUNDLE))); // once per job build
        Manifest manifest = bundle.manifest();
        List<Integer> shape = manifest.input().shape();
        if (shape == null || shape.size() != 1) {
            throw new IllegalArgumentException("bundle " + manifest.modelId() + " is not a feature-vector model: the "
                    + "classification job needs input.shape [features] in manifest.json, got " + shape);
        }
        KafkaIo io = new KafkaIo(cfg, NAME);
        String topic = cfg.get(JobOptions.INPUT_TOPIC, DEFAULT_INPUT_TOPIC);
        SingleOutputStreamOperator<FeatureEvent> events = env.fromSource(
                        io.decodingSource(topic, FeatureEvent.class, new FeatureEventValidator(shape.get(0))),
                        WatermarkStrategy.noWatermarks(),
                        "events: " + topic)
                .uid("events-source")
                .process(new DeadLetterSplitter<FeatureEvent>(), new AvroTypeInfo<>(FeatureEvent.class))
                .name("decode events")
                .uid("decode-events");
        DataStream<InferenceRequest> requests = events.map(
                        ClassificationJob::toRequest, TypeInformation.of(InferenceRequest.class))
                .name("to requests")
                .uid("to-requests");
        new InferencePipeline(env, cfg, io, bundle, topic, 1).attach(requests, events.getSideOutput(DeadLetters.TAG));
    }

    /** The request of a (validated) feature event. */
    static InferenceRequest toRequest(FeatureEvent e) {
        List<Float> f = e.getFeatures();
        float[] input = new float[f.size()];
        for (int i = 0; i < input.length; i++) {
            input[i] = f.get(i);
        }
        return new InferenceRequest(e.getEventId(), e.getKey(), e.getEventTime().toEpochMilli(), input, e.getLabel());
    }
}
