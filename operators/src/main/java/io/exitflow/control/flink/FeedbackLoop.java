package io.exitflow.control.flink;

import io.exitflow.control.Budget;
import io.exitflow.control.ControllerConfig;
import io.exitflow.control.ControllerSeed;
import io.exitflow.runtime.bundle.ModelBundle;
import io.exitflow.schemas.StageStats;
import io.exitflow.schemas.ThresholdUpdate;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * Wires the controller into a job: stage statistics in, threshold updates (for the Kafka control topic the stage
 * operators consume as broadcast) and a JSON trace out.
 *
 * <pre>{@code
 * FeedbackLoop.Result loop = FeedbackLoop.builder()
 *         .bundle(bundle)                         // the job's ModelBundle, loaded once
 *         .budget(Budget.builder().targetRate(5_000).build())
 *         .build()
 *         .apply(earlyExit.stageStats());
 * loop.updates().sinkTo(controlTopicSink);   // and the control topic's source goes to EarlyExit.apply(requests, control)
 * }</pre>
 */
@PublicEvolving
public final class FeedbackLoop {
    private final ControllerSeed seed;
    private final Budget budget;
    private final ControllerConfig config;
    private final Duration interval;
    private final int maxSamplesPerInterval;
    private final String name;
    private final SourceLagProbe lagProbe;

    private FeedbackLoop(Builder b, ControllerSeed seed) {
        this.seed = seed;
        this.budget = b.budget;
        this.config = b.config;
        this.interval = b.interval;
        this.maxSamplesPerInterval = b.maxSamplesPerInterval;
        this.name = b.name;
        this.lagProbe = b.lagProbe;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** What the loop produces. */
    public record Result(DataStream<ThresholdUpdate> updates, DataStream<String> trace) {}

    /** Adds the controller (parallelism 1, keyed by model id) after {@code stageStats}. */
    public Result apply(DataStream<StageStats> stageStats) {
        SingleOutputStreamOperator<ThresholdUpdate> updates = stageStats
                .keyBy(new ByModel())
                .process(
                        new ThresholdControllerFunction(
                                seed, budget, config, interval.toMillis(), maxSamplesPerInterval, lagProbe),
                        new AvroTypeInfo<>(ThresholdUpdate.class))
                .name(name)
                .uid(name)
                .setParallelism(1)
                .setMaxParallelism(1);
        return new Result(updates, updates.getSideOutput(ThresholdControllerFunction.TRACE));
    }

    /** The model the controller serves. */
    public String modelId() {
        return seed.modelId();
    }

    private static final class ByModel implements KeySelector<StageStats, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(StageStats s) {
            return s.getModelId();
        }
    }

    /** Builder: the bundle (or a seed) and a budget are required. */
    public static final class Builder {
        private String bundlePath;
        private ModelBundle bundle;
        private ControllerSeed seed;
        private Budget budget;
        private ControllerConfig config = ControllerConfig.defaults();
        private Duration interval = Duration.ofSeconds(2);
        private int maxSamplesPerInterval = 4096;
        private String name = "exitflow-controller";
        private SourceLagProbe lagProbe;

        private Builder() {}

        /** The model bundle the job loaded, whose calibration.json seeds the controller (read at build time). */
        public Builder bundle(ModelBundle b) {
            this.bundle = Objects.requireNonNull(b, "bundle");
            return this;
        }

        /** As {@link #bundle}, for a bundle not loaded yet: loads and validates it at build time. */
        public Builder bundlePath(String path) {
            this.bundlePath = Objects.requireNonNull(path, "bundlePath");
            return this;
        }

        /** A seed built elsewhere (tests, replays) instead of a bundle. */
        public Builder seed(ControllerSeed s) {
            this.seed = Objects.requireNonNull(s, "seed");
            return this;
        }

        public Builder budget(Budget b) {
            this.budget = Objects.requireNonNull(b, "budget");
            return this;
        }

        public Builder config(ControllerConfig c) {
            this.config = Objects.requireNonNull(c, "config");
            return this;
        }

        /** Control interval (default 2 s): a few stats intervals, so each decision sees every subtask. */
        public Builder interval(Duration d) {
            if (d.toMillis() < 100) throw new IllegalArgumentException("interval must be >= 100 ms, got " + d);
            this.interval = d;
            return this;
        }

        /** Bound on the samples taken into one interval's measurement (default 4096). */
        public Builder maxSamplesPerInterval(int n) {
            if (n < 0) throw new IllegalArgumentException("maxSamplesPerInterval must be >= 0, got " + n);
            this.maxSamplesPerInterval = n;
            return this;
        }

        /** Operator name and uid (default "exitflow-controller"). */
        public Builder name(String n) {
            this.name = Objects.requireNonNull(n, "name");
            return this;
        }

        /**
         * The source's lag, added to the operators' backlog (optional; without it, overload the operators do not see
         * shows only as their throughput falling short of the input).
         */
        public Builder sourceLag(SourceLagProbe probe) {
            this.lagProbe = Objects.requireNonNull(probe, "probe");
            return this;
        }

        public FeedbackLoop build() {
            if (budget == null) throw new IllegalArgumentException("FeedbackLoop needs a budget");
            int given = (bundle == null ? 0 : 1) + (bundlePath == null ? 0 : 1) + (seed == null ? 0 : 1);
            if (given != 1) {
                throw new IllegalArgumentException("FeedbackLoop needs exactly one of bundle, bundlePath or seed");
            }
            ControllerSeed s = seed != null
                    ? seed
                    : ControllerSeed.fromBundle(
                            bundle != null ? bundle : ModelBundle.load(Path.of(bundlePath)),
                            config.reservoirCapacity());
            return new FeedbackLoop(this, s);
        }
    }
}
