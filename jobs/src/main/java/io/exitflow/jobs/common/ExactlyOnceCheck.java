package io.exitflow.jobs.common;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.apache.flink.configuration.ConfigOption;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exactly-once settings that would lose output without an error, refused at start.
 *
 * <p>Offline, while the job is built ({@link #checkTimeouts}): a transaction timeout too short for the checkpoints.
 * A transaction of a Kafka exactly-once sink is open from the first record after one checkpoint until the next
 * checkpoint completes and commits it; the broker aborts a transaction older than its timeout, and then the commit
 * fails while the checkpoint (and the input offsets) have already moved on.
 *
 * <p>Against the broker, before the job is submitted ({@link #checkBroker}, via {@link JobConfig#runStartChecks}):
 * <ul>
 *   <li>a transaction timeout above the broker's {@code transaction.max.timeout.ms} (every transaction would fail
 *       at start, and the job restarts forever): refused;</li>
 *   <li>a transactional-id prefix that another running producer uses (two jobs with one prefix fence each other's
 *       transactions): refused when it is unambiguous, a warning otherwise. The rule: the transactions whose ids
 *       the job's sinks would use ({@code <prefix>-<subtask>-<n>}) are read twice, a probe window apart. Before the
 *       job is submitted none of them is ours, so a transaction that begins, commits or re-initialises in between
 *       comes from a live producer: another job (or another instance of this one) is writing with the prefix.
 *       A restarted job finds only what its previous run left: finished transactions, or open ones that nobody
 *       touches until the broker's timeout aborts them (the sink aborts its own leftovers when it starts); open
 *       leftovers give a warning, never a refusal. A job whose checkpoints are slower than the probe window, or
 *       idle without checkpoints, is not seen.</li>
 * </ul>
 * A broker that cannot be asked (unreachable from where the job is submitted, or no DESCRIBE_CONFIGS / DESCRIBE
 * rights for the job's principal) gives a warning and the job starts: a secured cluster should not need extra
 * rights just for a check, and what the checks guard against no longer passes silently at run time either (a
 * timeout above the maximum fails every start with InvalidTxnTimeoutException; a fenced or aborted commit fails the
 * job, {@link StrictKafkaSink}).
 */
public final class ExactlyOnceCheck {
    private static final Logger LOG = LoggerFactory.getLogger(ExactlyOnceCheck.class);

    /** The smallest margin of the transaction timeout over the longest time a transaction is open. */
    public static final long MIN_MARGIN_MS = 60_000;
    /** The broker setting a transaction timeout may not exceed. */
    static final String BROKER_MAX_TIMEOUT = "transaction.max.timeout.ms";
    /** How long each admin request may take before the check gives up with a warning. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(15);
    /** Longest probe window for a prefix in use. */
    static final Duration MAX_PROBE = Duration.ofSeconds(20);

    private static final Pattern SUBTASK_AND_NUMBER = Pattern.compile("\\d+-\\d+");

    private ExactlyOnceCheck() {}

    /**
     * The smallest transaction timeout that covers the checkpoints: a transaction is open for up to
     * {@code W = (tolerableFailures + 1) x (interval + checkpointTimeout)} (each tolerated failed checkpoint leaves
     * it open until a later one completes), and the timeout must exceed that by {@code max(1 min, W / 2)}: room for
     * checkpoints that queue behind a slow one, the commit itself, and a restart that commits the transactions it
     * recovers.
     */
    public static long minTransactionTimeoutMs(long intervalMs, long checkpointTimeoutMs, int tolerableFailures) {
        long open = saturatedMultiply(Math.max(0, tolerableFailures) + 1L, intervalMs + checkpointTimeoutMs);
        long margin = Math.max(MIN_MARGIN_MS, open / 2);
        return open > Long.MAX_VALUE - margin ? Long.MAX_VALUE : open + margin;
    }

    /**
     * Refuses a {@code --transaction-timeout-ms} below {@link #minTransactionTimeoutMs}.
     *
     * @param tolerableFailures Flink's {@code execution.checkpointing.tolerable-failed-checkpoints} in effect
     * @throws IllegalArgumentException naming the flags, the rule and the smallest accepted value
     */
    public static void checkTimeouts(JobConfig cfg, int tolerableFailures) {
        long tx = cfg.get(JobOptions.TRANSACTION_TIMEOUT).toMillis();
        long interval = cfg.get(JobOptions.CHECKPOINT_INTERVAL).toMillis();
        long ckptTimeout = cfg.get(JobOptions.CHECKPOINT_TIMEOUT).toMillis();
        long min = minTransactionTimeoutMs(interval, ckptTimeout, tolerableFailures);
        if (tx >= min) {
            return;
        }
        int tolerated = Math.max(0, tolerableFailures);
        long open = saturatedMultiply(tolerated + 1L, interval + ckptTimeout);
        throw new IllegalArgumentException("--" + arg(JobOptions.TRANSACTION_TIMEOUT) + " " + tx + " is too short "
                + "for the checkpoints, and the broker would abort transactions before they are committed: their output "
                + "would be lost while the job runs on. A transaction of the exactly-once sinks is open from the first "
                + "record after one checkpoint until the next checkpoint completes and commits it: up to "
                + (tolerated > 0 ? (tolerated + 1) + " x " : "") + "(--" + arg(JobOptions.CHECKPOINT_INTERVAL) + " "
                + interval + " + --" + arg(JobOptions.CHECKPOINT_TIMEOUT) + " " + ckptTimeout + ") = " + open + " ms"
                + (tolerated > 0 ? " (execution.checkpointing.tolerable-failed-checkpoints " + tolerated + ")" : "")
                + ", and the timeout needs a margin of max(1 min, half of that) on top, for checkpoints queued behind a "
                + "slow one, the commit and a restart. Set --" + arg(JobOptions.TRANSACTION_TIMEOUT)
                + " to at least "
                + min + " (and at most the broker's " + BROKER_MAX_TIMEOUT + ", 15 min by default), or lower --"
                + arg(JobOptions.CHECKPOINT_INTERVAL) + " or --" + arg(JobOptions.CHECKPOINT_TIMEOUT) + ".");
    }

    /**
     * The broker checks: the transaction timeout against {@code transaction.max.timeout.ms}, and the transactional
     * ids {@code <prefix>-<subtask>-<n>} of every prefix in {@code prefixes} against live producers (class comment).
     *
     * @param adminProperties client settings (bootstrap servers, security) of an admin client
     * @param transactionTimeoutMs {@code --transaction-timeout-ms}
     * @param prefixes the exactly-once sinks' full transactional-id prefixes
     * @param probe how long to watch transactions that already use a prefix (capped at {@link #MAX_PROBE})
     * @throws IllegalArgumentException naming the setting to change, when a check refuses
     */
    public static void checkBroker(
            Properties adminProperties, long transactionTimeoutMs, Collection<String> prefixes, Duration probe) {
        Properties p = new Properties();
        p.putAll(adminProperties);
        p.putIfAbsent(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, String.valueOf(REQUEST_TIMEOUT.toMillis()));
        p.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(REQUEST_TIMEOUT.toMillis()));
        try (Admin admin = Admin.create(p)) {
            checkMaxTimeout(admin, transactionTimeoutMs);
            checkPrefixesUnused(admin, prefixes, probe.compareTo(MAX_PROBE) > 0 ? MAX_PROBE : probe);
        }
    }

    private static void checkMaxTimeout(Admin admin, long transactionTimeoutMs) {
        long max;
        try {
            Collection<Node> nodes = get(admin.describeCluster().nodes());
            if (nodes.isEmpty()) {
                throw new IllegalStateException("the cluster named no broker");
            }
            ConfigResource broker = new ConfigResource(
                    ConfigResource.Type.BROKER,
                    String.valueOf(nodes.iterator().next().id()));
            Map<ConfigResource, Config> configs =
                    get(admin.describeConfigs(List.of(broker)).all());
            ConfigEntry e = configs.get(broker).get(BROKER_MAX_TIMEOUT);
            if (e == null || e.value() == null) {
                throw new IllegalStateException("the broker did not report " + BROKER_MAX_TIMEOUT);
            }
            max = Long.parseLong(e.value().trim());
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.warn(
                    "Could not read the broker's {} ({}): --{} {} is not checked against it. A timeout above it makes "
                            + "every transaction fail (InvalidTxnTimeoutException) and the job restart until it is lowered.",
                    BROKER_MAX_TIMEOUT,
                    cause(e),
                    arg(JobOptions.TRANSACTION_TIMEOUT),
                    transactionTimeoutMs);
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading the broker's " + BROKER_MAX_TIMEOUT, e);
        }
        if (transactionTimeoutMs > max) {
            throw new IllegalArgumentException("--" + arg(JobOptions.TRANSACTION_TIMEOUT) + " "
                    + transactionTimeoutMs
                    + " is above the broker's " + BROKER_MAX_TIMEOUT + " " + max + ": the broker refuses every "
                    + "transaction of the exactly-once sinks and the job would restart forever. Set --"
                    + arg(JobOptions.TRANSACTION_TIMEOUT) + " to at most " + max + " (and lower --"
                    + arg(JobOptions.CHECKPOINT_INTERVAL) + " or --" + arg(JobOptions.CHECKPOINT_TIMEOUT)
                    + " if the checkpoints then need more), or raise " + BROKER_MAX_TIMEOUT + " on the brokers.");
        }
    }

    private static void checkPrefixesUnused(Admin admin, Collection<String> prefixes, Duration probe) {
        if (prefixes.isEmpty()) {
            return;
        }
        try {
            Map<String, Snapshot> before = snapshot(admin, prefixes);
            if (before.isEmpty()) {
                return; // no transaction with these ids on this cluster (within transactional.id.expiration.ms)
            }
            Thread.sleep(probe.toMillis());
            Map<String, Snapshot> after = snapshot(admin, prefixes);
            List<String> live = new ArrayList<>();
            List<String> open = new ArrayList<>();
            after.forEach((id, now) -> {
                Snapshot then = before.get(id);
                if (now.showsALiveProducerSince(then)) {
                    live.add(id + " (" + (then == null ? "new" : then.state) + " -> " + now.state + ")");
                } else if (now.state == TransactionState.ONGOING) {
                    open.add(id + " (open since " + now.startTimeMs.orElse(-1) + ", producer " + now.producerId + ")");
                }
            });
            if (!live.isEmpty()) {
                throw new IllegalArgumentException("transactional-id prefix " + String.join(", ", prefixes)
                        + " is in use by a running producer: within " + probe.toMillis() + " ms these transactions "
                        + "began, committed or were re-initialised, before this job started: " + live + ". Another job "
                        + "(or another instance of this one) writes with this prefix; two jobs with one prefix fence "
                        + "each other and lose output. Stop the other job, or give this one its own --"
                        + JobOptions.argName(JobOptions.TRANSACTIONAL_ID_PREFIX)
                        + " (the default differs per job name, input topic "
                        + "and consumer group).");
            }
            if (!open.isEmpty()) {
                LOG.warn(
                        "Open transactions with this job's transactional-id prefix {} that nobody touched for {} ms: "
                                + "{}. Left by a previous run of this job (the sink aborts them as it starts, or the broker "
                                + "when they time out) or by another job that is stuck or does not checkpoint. If another job "
                                + "uses this prefix, stop it or give this job its own --{}: two jobs with one prefix fence "
                                + "each other and lose output.",
                        prefixes,
                        probe.toMillis(),
                        open,
                        JobOptions.argName(JobOptions.TRANSACTIONAL_ID_PREFIX));
            }
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            if (e instanceof IllegalArgumentException) {
                throw (IllegalArgumentException) e;
            }
            LOG.warn(
                    "Could not list the broker's transactions ({}): not checked whether another job uses the "
                            + "transactional-id prefix {} (needs DESCRIBE on those transactional ids). Two jobs with one "
                            + "prefix fence each other; the fenced commits then fail the job.",
                    cause(e),
                    prefixes);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking transactional-id prefix " + prefixes, e);
        }
    }

    /** Whether {@code id} is one of the sink transactional ids {@code <prefix>-<subtask>-<n>} of a prefix. */
    static boolean usesPrefix(String id, Collection<String> prefixes) {
        for (String prefix : prefixes) {
            if (id.startsWith(prefix + "-")
                    && SUBTASK_AND_NUMBER
                            .matcher(id.substring(prefix.length() + 1))
                            .matches()) {
                return true;
            }
        }
        return false;
    }

    private static Map<String, Snapshot> snapshot(Admin admin, Collection<String> prefixes)
            throws ExecutionException, TimeoutException, InterruptedException {
        List<String> ids = new ArrayList<>();
        for (TransactionListing t : get(admin.listTransactions().all())) {
            if (usesPrefix(t.transactionalId(), prefixes)) {
                ids.add(t.transactionalId());
            }
        }
        Map<String, Snapshot> out = new LinkedHashMap<>();
        if (ids.isEmpty()) {
            return out;
        }
        get(admin.describeTransactions(ids).all()).forEach((id, d) -> out.put(id, Snapshot.of(d)));
        return out;
    }

    /** What one transactional id looked like at one moment. */
    private record Snapshot(TransactionState state, long producerId, short epoch, OptionalLong startTimeMs) {
        static Snapshot of(TransactionDescription d) {
            return new Snapshot(d.state(), d.producerId(), (short) d.producerEpoch(), d.transactionStartTimeMs());
        }

        /**
         * Whether going from {@code then} (null: the id did not exist) to this took a live producer: the id was
         * created, a transaction began (a new start time), was committed, or the id was re-initialised. The broker
         * itself only aborts (timed-out transactions), which is not counted.
         */
        boolean showsALiveProducerSince(Snapshot then) {
            if (then == null) {
                return true;
            }
            boolean changed = !equals(then);
            return changed
                    && switch (state) {
                        case ONGOING, PREPARE_COMMIT, COMPLETE_COMMIT, EMPTY, PREPARE_EPOCH_FENCE -> true;
                        default -> false;
                    };
        }
    }

    private static <T> T get(org.apache.kafka.common.KafkaFuture<T> f)
            throws ExecutionException, TimeoutException, InterruptedException {
        return f.get(REQUEST_TIMEOUT.toMillis() + 5_000, TimeUnit.MILLISECONDS);
    }

    private static String cause(Throwable e) {
        Throwable c = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        return c.getClass().getSimpleName() + ": " + c.getMessage();
    }

    private static long saturatedMultiply(long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** The flag of a duration in messages that give its value in milliseconds: its {@code -ms} spelling. */
    private static String arg(ConfigOption<Duration> o) {
        return JobOptions.millisArgName(o);
    }
}
