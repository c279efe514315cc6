package io.exitflow.jobs.common;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.jobs.anomaly.SensorAnomalyJob;
import io.exitflow.jobs.classification.ClassificationJob;
import io.exitflow.jobs.it.RepoPaths;
import java.nio.file.Path;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints in the JobManager's memory (5 MB at most; past it every checkpoint fails and nothing is committed)
 * are refused at start unless a test opts in (issue 14, item 6). The job reads the effective configuration it is
 * built with: its own settings over the cluster's config.yaml.
 */
class CheckpointStorageTest {
    @TempDir
    Path dir;

    private static final String BUNDLE = RepoPaths.resolve("models/sensor-cnn").toString();

    private static void build(Configuration cluster, String... settings) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(cluster);
        SensorAnomalyJob.build(env, JobConfig.parse(OfflineArgs.of(BUNDLE, settings), env.getConfiguration()));
    }

    @Test
    void noCheckpointDirectoryAnywhereIsRefusedNamingWhatToSet() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> build(new Configuration()));
        assertTrue(
                e.getMessage().contains("JobManager's memory")
                        && e.getMessage().contains("--checkpoint-dir")
                        && e.getMessage().contains("execution.checkpointing.dir")
                        && e.getMessage().contains("--allow-jobmanager-checkpoints"),
                e.getMessage());
    }

    @Test
    void theClassificationJobIsRefusedToo() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
        assertThrows(
                IllegalArgumentException.class,
                () -> ClassificationJob.build(
                        env,
                        JobConfig.parse(
                                OfflineArgs.of(
                                        RepoPaths.resolve("models/features-mlp").toString()),
                                new Configuration())));
    }

    @Test
    void aDirectoryFromTheJobOrFromTheClustersConfigIsDurable() {
        assertDoesNotThrow(
                () -> build(new Configuration(), "--checkpoint-dir", dir.toUri().toString()));

        Configuration cluster = new Configuration();
        cluster.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir.toUri().toString());
        assertDoesNotThrow(() -> build(cluster));
        // as Flink's legacy key too (deprecated keys are read as fallbacks)
        Configuration legacy = new Configuration();
        legacy.setString("state.checkpoints.dir", dir.toUri().toString());
        assertDoesNotThrow(() -> build(legacy));
    }

    @Test
    void storageJobmanagerIsInMemoryEvenWithADirectory() {
        Configuration cluster = new Configuration();
        cluster.set(CheckpointingOptions.CHECKPOINT_STORAGE, "jobmanager");
        cluster.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir.toUri().toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> build(cluster));
        assertTrue(e.getMessage().contains("execution.checkpointing.storage is jobmanager"), e.getMessage());
        // --checkpoint-dir sets filesystem storage for the job, over the cluster's choice
        assertDoesNotThrow(() -> build(cluster, "--checkpoint-dir", dir.toUri().toString()));
    }

    @Test
    void testsMayOptIn() {
        assertDoesNotThrow(() -> build(new Configuration(), "--allow-jobmanager-checkpoints", "true"));
        Configuration cluster = new Configuration();
        cluster.setString("exitflow.allow-jobmanager-checkpoints", "true");
        assertDoesNotThrow(() -> build(cluster));
    }

    @Test
    void theDirectoryReachesTheJobsCheckpointStorage() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
        SensorAnomalyJob.build(
                env,
                JobConfig.parse(
                        OfflineArgs.of(BUNDLE, "--checkpoint-dir", dir.toUri().toString()), new Configuration()));
        assertEquals("filesystem", env.getConfiguration().get(CheckpointingOptions.CHECKPOINT_STORAGE));
        assertEquals(dir.toUri().toString(), env.getConfiguration().get(CheckpointingOptions.CHECKPOINTS_DIRECTORY));
    }
}
