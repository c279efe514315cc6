package io.exitflow.jobs.common;

import java.util.function.BiConsumer;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * What every job's {@code main} does: {@code --help}, settings from arguments and Flink config, build, start-up
 * checks, execute.
 */
public final class JobLauncher {
    private JobLauncher() {}

    /**
     * Runs a job: prints the settings for {@code --help}/{@code -h}; otherwise parses {@code args} over the
     * environment's configuration (a bad setting fails here, before anything starts), builds and checks the job
     * ({@link #prepare}) and executes it as {@code jobName}.
     */
    public static void run(String[] args, String jobName, BiConsumer<StreamExecutionEnvironment, JobConfig> build)
            throws Exception {
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println(JobConfig.help());
            return;
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        JobConfig cfg = JobConfig.parse(args, env.getConfiguration());
        prepare(env, cfg, build);
        env.execute(jobName);
    }

    /**
     * Lets {@code build} add the job's operators to {@code env} (offline checks of the settings fail there), then
     * runs the start-up checks the build registered against the outside world ({@link JobConfig#runStartChecks}:
     * the exactly-once sinks against the Kafka broker, {@link ExactlyOnceCheck}). What the launcher does before
     * it executes a job; the demo and tests that submit a job themselves call it too.
     *
     * @throws IllegalArgumentException naming the setting to change, when a setting or a check refuses the job
     */
    public static void prepare(
            StreamExecutionEnvironment env, JobConfig cfg, BiConsumer<StreamExecutionEnvironment, JobConfig> build) {
        build.accept(env, cfg);
        cfg.runStartChecks();
    }
}
