package io.exitflow.jobs.common;

import java.util.Locale;
import java.util.Optional;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Checkpointing of the jobs: exactly-once mode, {@code --checkpoint-interval-ms}, {@code --checkpoint-timeout-ms}
 * and {@code --checkpoint-dir}, then two checks that fail the build (before anything runs) where a setting would
 * lose output without an error:
 * <ul>
 *   <li>checkpoints in the JobManager's memory (no checkpoint directory in the job's settings or in the effective
 *       Flink configuration, or {@code execution.checkpointing.storage: jobmanager}): past 5 MB of state every
 *       checkpoint fails, so nothing is ever committed; refused unless {@code --allow-jobmanager-checkpoints};</li>
 *   <li>a transaction timeout that does not cover the checkpoints ({@link ExactlyOnceCheck#checkTimeouts}; with
 *       {@code --delivery-guarantee exactly-once} only, the sinks of at-least-once have no transactions).</li>
 * </ul>
 */
public final class CheckpointSettings {
    /** Flink's name of the in-memory checkpoint storage ({@code execution.checkpointing.storage}). */
    static final String JOBMANAGER_STORAGE = "jobmanager";

    private CheckpointSettings() {}

    /**
     * Enables exactly-once checkpointing on {@code env} from the settings and checks the result.
     *
     * @throws IllegalArgumentException naming the settings to change when checkpoints would live in the
     *     JobManager's memory (without the opt-in) or the transaction timeout is too short for the checkpoints
     */
    public static void apply(StreamExecutionEnvironment env, JobConfig cfg) {
        long interval = cfg.get(JobOptions.CHECKPOINT_INTERVAL).toMillis();
        long timeout = cfg.get(JobOptions.CHECKPOINT_TIMEOUT).toMillis();
        if (interval < 10) {
            throw new IllegalArgumentException("--" + JobOptions.millisArgName(JobOptions.CHECKPOINT_INTERVAL)
                    + " must be at least 10 (ms), got " + interval);
        }
        if (timeout < 1) {
            throw new IllegalArgumentException("--" + JobOptions.millisArgName(JobOptions.CHECKPOINT_TIMEOUT)
                    + " must be positive (ms), got " + timeout);
        }
        env.enableCheckpointing(interval, CheckpointingMode.EXACTLY_ONCE);
        env.getCheckpointConfig().setCheckpointTimeout(timeout);
        cfg.optional(JobOptions.CHECKPOINT_DIR).ifPresent(dir -> {
            Configuration c = new Configuration();
            c.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
            c.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir);
            env.configure(c);
        });
        requireDurableStorage(env.getConfiguration(), cfg);
        if (KafkaIo.deliveryGuarantee(cfg) == DeliveryGuarantee.EXACTLY_ONCE) {
            // at-least-once sinks keep no transaction open across checkpoints: no timeout to check
            ExactlyOnceCheck.checkTimeouts(cfg, env.getCheckpointConfig().getTolerableCheckpointFailureNumber());
        }
    }

    /**
     * Whether checkpoints go to the JobManager's memory under this effective configuration: storage
     * {@code jobmanager}, or no storage and no checkpoint directory (Flink's default then).
     */
    static boolean inJobManagerMemory(ReadableConfig effective) {
        Optional<String> storage = effective.getOptional(CheckpointingOptions.CHECKPOINT_STORAGE);
        if (storage.isPresent()) {
            return storage.get().trim().toLowerCase(Locale.ROOT).equals(JOBMANAGER_STORAGE);
        }
        return effective.getOptional(CheckpointingOptions.CHECKPOINTS_DIRECTORY).isEmpty();
    }

    private static void requireDurableStorage(ReadableConfig effective, JobConfig cfg) {
        if (!inJobManagerMemory(effective) || cfg.get(JobOptions.ALLOW_JOBMANAGER_CHECKPOINTS)) {
            return;
        }
        String why =
                effective.getOptional(CheckpointingOptions.CHECKPOINT_STORAGE).isPresent()
                        ? CheckpointingOptions.CHECKPOINT_STORAGE.key() + " is " + JOBMANAGER_STORAGE
                        : "no checkpoint directory is set (--" + JobOptions.argName(JobOptions.CHECKPOINT_DIR) + ", or "
                                + CheckpointingOptions.CHECKPOINTS_DIRECTORY.key() + " in Flink's config.yaml)";
        throw new IllegalArgumentException("checkpoints would live in the JobManager's memory: " + why + ". That "
                + "storage holds at most 5 MB of state; past it every checkpoint fails, the job restarts and no output "
                + "is ever committed. Set --" + JobOptions.argName(JobOptions.CHECKPOINT_DIR) + " (e.g. "
                + "file:///var/lib/exitflow/checkpoints, s3://bucket/checkpoints; on a cluster a directory every "
                + "TaskManager and the JobManager can reach) or " + CheckpointingOptions.CHECKPOINTS_DIRECTORY.key()
                + " in the cluster's config.yaml, or, for tests with small state only, --"
                + JobOptions.argName(JobOptions.ALLOW_JOBMANAGER_CHECKPOINTS) + " true");
    }
}
