package io.exitflow.bench.eos;

import io.exitflow.jobs.common.CommandLine;
import io.exitflow.jobs.common.JobOptions;
import java.util.List;
import java.util.Locale;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * Every setting of {@link EosBenchmark} ({@code bench/eos/run.sh eos|soak|capacity}), with its default: the one place
 * each is stated. {@code --help} lists them. A default that depends on the mode is a named constant here, and the
 * option's description says which applies where.
 */
final class EosOptions {
    private static final String PREFIX = "bench.eos.";

    private EosOptions() {}

    /** {@code eos}: readings per second when {@code --rate} is not given. */
    static final double EOS_RATE = 5000;
    /** Seconds between samples in {@code eos} when {@code --sample-s} is not given. */
    static final double EOS_SAMPLE_S = 5;
    /** Seconds between samples in {@code soak} when {@code --sample-s} is not given. */
    static final double SOAK_SAMPLE_S = 60;
    /** Seconds the end of an {@code eos} or {@code soak} run waits for the last windows, without {@code --drain-timeout-s}. */
    static final long DRAIN_TIMEOUT_S = 300;
    /** Seconds a capacity probe waits for 80% of its backlog's windows, without {@code --drain-timeout-s}. */
    static final long CAPACITY_DRAIN_TIMEOUT_S = 600;

    static final ConfigOption<String> JOB_JAR = ConfigOptions.key(PREFIX + "job-jar")
            .stringType()
            .noDefaultValue()
            .withDescription("The anomaly job's shaded JAR (required; mvn -B -DskipTests -pl jobs -am package builds "
                    + "it, run.sh passes it).");
    static final ConfigOption<String> BUNDLE = ConfigOptions.key(PREFIX + "bundle")
            .stringType()
            .defaultValue("models/sensor-cnn")
            .withDescription("Model bundle directory, relative to the repository root.");
    static final ConfigOption<String> OUT = ConfigOptions.key(PREFIX + "out")
            .stringType()
            .noDefaultValue()
            .withDescription("Results directory (default: bench/eos/runs/<mode>-<UTC time>).");
    static final ConfigOption<String> WORK = ConfigOptions.key(PREFIX + "work")
            .stringType()
            .defaultValue("bench/target-eos/eos-work")
            .withDescription("The local cluster's work directory (run.sh: bench/<build folder>/eos-work).");
    static final ConfigOption<Long> READINGS = ConfigOptions.key(PREFIX + "readings")
            .longType()
            .defaultValue(1_000_000L)
            .withDescription("eos: readings the sensor fleet sends.");
    static final ConfigOption<Double> RATE = ConfigOptions.key(PREFIX + "rate")
            .doubleType()
            .noDefaultValue()
            .withDescription(String.format(
                    Locale.ROOT,
                    "Readings per second (default: %.0f in eos; in soak, --capacity-share of the capacity measured "
                            + "first).",
                    EOS_RATE));
    static final ConfigOption<String> SENSORS = ConfigOptions.key(PREFIX + "sensors")
            .stringType()
            .defaultValue("auto")
            .withDescription("Sensors in the fleet: a positive number, or auto (rate / 100, at least one per "
                    + "partition, so event time keeps in step with the clock at the bundle's 10 ms period).");
    static final ConfigOption<Integer> KILLS = ConfigOptions.key(PREFIX + "kills")
            .intType()
            .defaultValue(2)
            .withDescription("eos: TaskManagers killed (SIGKILL) at random points spread over the run.");
    static final ConfigOption<Double> RESTART_AFTER_S = ConfigOptions.key(PREFIX + "restart-after-s")
            .doubleType()
            .defaultValue(10.0)
            .withDescription("eos: seconds after a kill that the TaskManager is started again.");
    static final ConfigOption<Long> KILL_SEED = ConfigOptions.key(PREFIX + "kill-seed")
            .longType()
            .noDefaultValue()
            .withDescription("eos: seed of the kill points and victims (default: a new one each run, written to "
                    + "summary.json, so a run can be repeated).");
    static final ConfigOption<Double> MINUTES = ConfigOptions.key(PREFIX + "minutes")
            .doubleType()
            .defaultValue(30.0)
            .withDescription("soak: minutes of steady input.");
    static final ConfigOption<Double> CAPACITY_SHARE = ConfigOptions.key(PREFIX + "capacity-share")
            .doubleType()
            .defaultValue(0.7)
            .withDescription("soak without --rate: the rate as a share of the capacity measured first, in (0, 1].");
    static final ConfigOption<Long> PROBE_READINGS = ConfigOptions.key(PREFIX + "probe-readings")
            .longType()
            .defaultValue(600_000L)
            .withDescription("capacity (and soak's probe): readings of the backlog the capacity is measured on.");
    static final ConfigOption<Double> SAMPLE_S = ConfigOptions.key(PREFIX + "sample-s")
            .doubleType()
            .noDefaultValue()
            .withDescription(String.format(
                    Locale.ROOT,
                    "Seconds between samples of heap, RSS, checkpoints and lag (default: %.0f in eos, %.0f in soak).",
                    EOS_SAMPLE_S,
                    SOAK_SAMPLE_S));
    static final ConfigOption<Integer> PARTITIONS = ConfigOptions.key(PREFIX + "partitions")
            .intType()
            .defaultValue(2)
            .withDescription("Partitions of the input and output topics.");
    /** Passed on to the job as its {@code --parallelism}. */
    static final ConfigOption<Integer> PARALLELISM = ConfigOptions.key(PREFIX + "parallelism")
            .intType()
            .defaultValue(2)
            .withDescription("The job's parallelism.");

    static final ConfigOption<Integer> TASKMANAGERS = ConfigOptions.key(PREFIX + "taskmanagers")
            .intType()
            .defaultValue(2)
            .withDescription("TaskManager JVMs of the local cluster.");
    static final ConfigOption<Integer> SLOTS =
            ConfigOptions.key(PREFIX + "slots").intType().defaultValue(2).withDescription("Slots per TaskManager.");
    static final ConfigOption<String> JOB_ARGS = ConfigOptions.key(PREFIX + "job-args")
            .stringType()
            .defaultValue("")
            .withDescription("More settings for the job, split at spaces ('--max-batch-size 64 ...').");
    static final ConfigOption<Long> DRAIN_TIMEOUT = ConfigOptions.key(PREFIX + "drain-timeout-s")
            .longType()
            .noDefaultValue()
            .withDescription(String.format(
                    Locale.ROOT,
                    "Seconds to wait at most for the job's last answers (default: %d at the end of eos and soak, "
                            + "%d for a capacity probe's backlog).",
                    DRAIN_TIMEOUT_S,
                    CAPACITY_DRAIN_TIMEOUT_S));
    static final ConfigOption<CommandLine.Switch> KEEP_CLUSTER = CommandLine.onOff(
            PREFIX + "keep-cluster",
            false,
            "on: leave the local cluster running at the end (stop it with EXITFLOW_WORK=<work> "
                    + "deploy/local/stop.sh).");

    /**
     * The benchmark's settings, in the order {@code --help} lists them; the checkpoint interval is the job's own
     * option ({@link JobOptions#CHECKPOINT_INTERVAL}), passed on when given.
     */
    static List<ConfigOption<?>> all() {
        return List.of(
                JOB_JAR,
                BUNDLE,
                OUT,
                WORK,
                READINGS,
                RATE,
                SENSORS,
                KILLS,
                RESTART_AFTER_S,
                KILL_SEED,
                MINUTES,
                CAPACITY_SHARE,
                PROBE_READINGS,
                SAMPLE_S,
                PARTITIONS,
                PARALLELISM,
                TASKMANAGERS,
                SLOTS,
                JobOptions.CHECKPOINT_INTERVAL,
                JOB_ARGS,
                DRAIN_TIMEOUT,
                KEEP_CLUSTER);
    }
}
