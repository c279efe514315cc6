package io.exitflow.jobs.common;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.SupportsWriterState;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.connector.kafka.sink.KafkaCommittable;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.sink.KafkaWriterState;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.connector.sink2.CommittableMessage;
import org.apache.flink.streaming.api.connector.sink2.SupportsPostCommitTopology;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.lineage.LineageVertex;
import org.apache.flink.streaming.api.lineage.LineageVertexProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exactly-once {@link KafkaSink} whose failed commits fail the job.
 *
 * <p>flink-connector-kafka 5.0's committer ({@code KafkaCommitter}) reports a transaction it cannot commit because
 * the producer was fenced ({@code ProducerFencedException}: another producer with the same transactional id), the
 * transaction was aborted ({@code InvalidTxnStateException}: e.g. by the broker after {@code transaction.timeout.ms})
 * or the producer id is unknown as a failure "with a known reason": Flink then only counts it
 * ({@code numCommittablesFailure} of the committer) and drops the transaction, while the checkpoint, and with it the
 * input offsets, has already moved on. Its records are lost and the only trace is one ERROR line in a TaskManager
 * log. This sink delegates everything to the KafkaSink and, after each commit round, throws when a transaction
 * failed that way: the committer task fails, the failure (naming the transaction, the cause and what to check)
 * shows in Flink's exception history, the job restarts under its restart strategy, and the restored committer
 * retries the transaction once more. Retriable errors keep Flink's retries; other errors already fail the job in
 * the connector.
 *
 * <p>Recovery is the exception. The first commit round after a restore re-commits the restored checkpoint's
 * transactions, and Kafka cannot tell this committer whether such a transaction was committed before the failure
 * (a TaskManager killed between the commit and the next checkpoint) or lost: a re-commit of an already committed
 * transaction whose transactional id was re-initialised since answers {@code ProducerFencedException} as well.
 * Failing there would restart the job from the same checkpoint into the same answer, forever (seen in
 * {@code LocalClusterIT} after a TaskManager kill, where every window was in fact committed once). So in that round a
 * failure with a known reason is logged at WARN with the transaction, counted in the committer's metric
 * {@value #UNCONFIRMED_RECOVERY_COMMITS} and not thrown; a live commit that fails still fails the job, which
 * surfaces in Flink's exception history.
 */
public final class StrictKafkaSink<T>
        implements Sink<T>,
                SupportsWriterState<T, KafkaWriterState>,
                SupportsCommitter<KafkaCommittable>,
                SupportsPostCommitTopology<KafkaCommittable>,
                LineageVertexProvider {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(StrictKafkaSink.class);
    /** Committer metric: restored transactions whose re-commit after a restore failed with a known reason. */
    public static final String UNCONFIRMED_RECOVERY_COMMITS = "unconfirmedRecoveryCommits";

    private final KafkaSink<T> delegate;
    private final String transactionalIdPrefix;
    private final long transactionTimeoutMs;

    /**
     * @param delegate an exactly-once KafkaSink
     * @param transactionalIdPrefix its transactional-id prefix, named in failures
     * @param transactionTimeoutMs its {@code transaction.timeout.ms}, named in failures
     */
    public StrictKafkaSink(KafkaSink<T> delegate, String transactionalIdPrefix, long transactionTimeoutMs) {
        this.delegate = delegate;
        this.transactionalIdPrefix = transactionalIdPrefix;
        this.transactionTimeoutMs = transactionTimeoutMs;
    }

    /** The wrapped KafkaSink. */
    public KafkaSink<T> delegate() {
        return delegate;
    }

    @Override
    public SinkWriter<T> createWriter(WriterInitContext context) throws IOException {
        return delegate.createWriter(context);
    }

    @Override
    public StatefulSinkWriter<T, KafkaWriterState> restoreWriter(
            WriterInitContext context, Collection<KafkaWriterState> recoveredState) throws IOException {
        return delegate.restoreWriter(context, recoveredState);
    }

    @Override
    public SimpleVersionedSerializer<KafkaWriterState> getWriterStateSerializer() {
        return delegate.getWriterStateSerializer();
    }

    @Override
    public Committer<KafkaCommittable> createCommitter(CommitterInitContext context) throws IOException {
        return new FailingCommitter(
                delegate.createCommitter(context),
                transactionalIdPrefix,
                transactionTimeoutMs,
                context.getRestoredCheckpointId().isPresent(),
                context.metricGroup().counter(UNCONFIRMED_RECOVERY_COMMITS));
    }

    @Override
    public SimpleVersionedSerializer<KafkaCommittable> getCommittableSerializer() {
        return delegate.getCommittableSerializer();
    }

    @Override
    public void addPostCommitTopology(DataStream<CommittableMessage<KafkaCommittable>> committables) {
        delegate.addPostCommitTopology(committables);
    }

    @Override
    public LineageVertex getLineageVertex() {
        return delegate.getLineageVertex();
    }

    /** Thrown by the committer when a transaction could not be committed and its records are lost. */
    public static final class CommitFailedException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        CommitFailedException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Delegates each commit round, then fails when a transaction failed "with a known reason". */
    @SuppressWarnings("try") // Flink's Committer.close() throws Exception, which includes InterruptedException
    static final class FailingCommitter implements Committer<KafkaCommittable> {
        private final Committer<KafkaCommittable> delegate;
        private final String prefix;
        private final long transactionTimeoutMs;
        private final Counter unconfirmedRecoveryCommits;
        /** True until the first commit round of a restored committer: the restored checkpoint's re-commits. */
        private boolean recoveryRound;

        FailingCommitter(
                Committer<KafkaCommittable> delegate,
                String prefix,
                long transactionTimeoutMs,
                boolean restored,
                Counter unconfirmedRecoveryCommits) {
            this.delegate = delegate;
            this.prefix = prefix;
            this.transactionTimeoutMs = transactionTimeoutMs;
            this.recoveryRound = restored;
            this.unconfirmedRecoveryCommits = unconfirmedRecoveryCommits;
        }

        @Override
        public void commit(Collection<CommitRequest<KafkaCommittable>> requests)
                throws IOException, InterruptedException {
            List<Request> watched = new ArrayList<>(requests.size());
            for (CommitRequest<KafkaCommittable> r : requests) {
                watched.add(new Request(r));
            }
            boolean recovery = recoveryRound;
            recoveryRound = false;
            delegate.commit(new ArrayList<>(watched));
            List<Request> failed =
                    watched.stream().filter(r -> r.failure != null).toList();
            if (failed.isEmpty()) {
                return;
            }
            Request first = failed.get(0);
            KafkaCommittable c = first.getCommittable();
            if (recovery) {
                unconfirmedRecoveryCommits.inc(failed.size());
                LOG.warn(
                        "{} restored transaction(s) of the exactly-once sink with transactional-id prefix {} could "
                                + "not be re-committed after the restore, first {} (producer id {}, epoch {}): {}. They were "
                                + "either committed before the failure (usual after a lost TaskManager) or lost; Kafka does "
                                + "not tell which. Counted in the committer metric {}; the job goes on.",
                        failed.size(),
                        prefix,
                        c.getTransactionalId(),
                        c.getProducerId(),
                        c.getEpoch(),
                        first.failure,
                        UNCONFIRMED_RECOVERY_COMMITS);
                return;
            }
            String message = failed.size() + " transaction(s) of the exactly-once sink with transactional-id prefix "
                    + prefix + " could not be committed, first " + c.getTransactionalId() + " (producer id "
                    + c.getProducerId() + ", epoch " + c.getEpoch() + "): " + first.failure + ". Their records are "
                    + "not in the output topic although their checkpoint completed. Either the broker aborted the "
                    + "transaction (open longer than transaction.timeout.ms " + transactionTimeoutMs + ": see "
                    + "--transaction-timeout-ms) or another producer with the same transactional id fenced it "
                    + "(another job with this prefix: see --transactional-id-prefix). The job fails instead of "
                    + "going on past the loss; to replay the lost input restore an earlier checkpoint or savepoint, "
                    + "or restart from the input's offsets.";
            LOG.error(message, first.failure);
            throw new CommitFailedException(message, first.failure);
        }

        @Override
        public void close() throws Exception {
            delegate.close();
        }
    }

    /** A commit request that remembers a failure with a known reason (which Flink would only count). */
    private static final class Request implements Committer.CommitRequest<KafkaCommittable> {
        private final Committer.CommitRequest<KafkaCommittable> delegate;
        private Throwable failure;

        Request(Committer.CommitRequest<KafkaCommittable> delegate) {
            this.delegate = delegate;
        }

        @Override
        public KafkaCommittable getCommittable() {
            return delegate.getCommittable();
        }

        @Override
        public int getNumberOfRetries() {
            return delegate.getNumberOfRetries();
        }

        @Override
        public void signalFailedWithKnownReason(Throwable t) {
            failure = t;
            delegate.signalFailedWithKnownReason(t); // Flink's numCommittablesFailure counter
        }

        @Override
        public void signalFailedWithUnknownReason(Throwable t) {
            delegate.signalFailedWithUnknownReason(t); // throws: the job fails already
        }

        @Override
        public void retryLater() {
            delegate.retryLater();
        }

        @Override
        public void updateAndRetryLater(KafkaCommittable committable) {
            delegate.updateAndRetryLater(committable);
        }

        @Override
        public void signalAlreadyCommitted() {
            delegate.signalAlreadyCommitted();
        }
    }
}
