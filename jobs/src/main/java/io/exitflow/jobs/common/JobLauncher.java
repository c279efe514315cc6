package io.exitflow.jobs.common;

import java.util.function.BiConsumer;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** What every job's {@code main} does: {@code --help}, settings from arguments and Flink config, build, execute. */
public final class JobLauncher {
    private JobLauncher() {}

    /**
     * Runs a job: prints the settings for {@code --help}/{@code -h}; otherwise parses {@code args} over the
     * environment's configuration (a bad setting fails here, before anything starts), lets {@code build} add the
     * job's operators and executes it as {@code jobName}.
     */
    public static void run(String[] args, String jobName, BiConsumer<StreamExecutionEnvironment, JobConfig> build)
            throws Exception {
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println(JobConfig.help());
            return;
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        JobConfig cfg = JobConfig.parse(args, env.getConfiguration());
        build.accept(env, cfg);
        env.execute(jobName);
    }
}
