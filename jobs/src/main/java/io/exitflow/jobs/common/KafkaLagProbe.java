package io.exitflow.jobs.common;

import io.exitflow.control.flink.SourceLagProbe;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka consumer-group lag of a Flink Kafka source, as the controller's {@link SourceLagProbe}: records written to
 * the input topic (read_committed end offsets) minus the group's committed offsets, in events.
 *
 * <p>A Flink Kafka source commits its positions only when a checkpoint completes, so a committed offset is where the
 * source was when that checkpoint was triggered, not where it is now. After each completed checkpoint (and a short
 * grace for the sources' asynchronous commits) the probe reads the committed and the end offsets and subtracts what
 * the source has read since the trigger, at the rate it read between the last two checkpoints:
 * {@code lag = end(now) - committed(trigger) - readRate * (now - trigger)}. The first checkpoint gives no rate and so
 * no estimate. Records become events by {@code recordsPerEvent} (the anomaly job makes one window per hop of
 * readings; the classification job one event per record). Transaction markers count as records, so a transactional
 * input reads slightly high.
 *
 * <pre>{@code
 * SourceLagProbe lag = KafkaLagProbe.builder()
 *         .bootstrapServers("kafka:9092").topic("sensor-readings").groupId("exitflow-anomaly")
 *         .recordsPerEvent(32)
 *         .build();
 * }</pre>
 *
 * <p>Queries run on the probe's own thread; the controller's calls never block. A failed query is logged and leaves
 * the lag unknown until the next checkpoint; an estimate older than {@code maxAge} is dropped.
 */
@SuppressWarnings("try") // close() waits for the query thread to stop, so it may be interrupted (SourceLagProbe)
public final class KafkaLagProbe implements SourceLagProbe {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(KafkaLagProbe.class);

    private final Properties adminProperties;
    private final String topic;
    private final String groupId;
    private final double recordsPerEvent;
    private final Duration commitGrace;
    private final Duration queryTimeout;
    private final Duration maxAge;
    private transient LongSupplier clock; // not serialised: the system clock wherever the job runs

    private transient Admin admin;
    private transient ScheduledExecutorService queries;
    private transient CompletableFuture<Offsets> pending;
    /** The last two readings of committed offsets (for the read rate); null until there are. */
    private transient Offsets previous, latest;

    private transient long failures;
    private transient String lastFailure;

    /** Committed and end offsets of the topic, summed over its partitions. */
    record Offsets(long triggerMillis, long committed, long queryMillis, long end) {}

    private KafkaLagProbe(Builder b) {
        this.adminProperties = new Properties();
        adminProperties.putAll(b.properties);
        adminProperties.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers);
        adminProperties.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "exitflow-lag-probe-" + b.groupId);
        this.topic = b.topic;
        this.groupId = b.groupId;
        this.recordsPerEvent = b.recordsPerEvent;
        this.commitGrace = b.commitGrace;
        this.queryTimeout = b.queryTimeout;
        this.maxAge = b.maxAge;
        this.clock = b.clock;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void open() {
        if (clock == null) {
            clock = System::currentTimeMillis;
        }
        admin = Admin.create(adminProperties);
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "exitflow-lag-probe-" + topic);
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        queries = executor;
    }

    @Override
    public void onCheckpointComplete(long checkpointId, long triggerMillis) {
        if (pending != null && !pending.isDone()) {
            return; // one query at a time: the next checkpoint asks again
        }
        CompletableFuture<Offsets> query = new CompletableFuture<>();
        queries.schedule(
                () -> {
                    try {
                        query.complete(read(triggerMillis));
                    } catch (Exception e) {
                        query.completeExceptionally(e);
                    }
                },
                commitGrace.toMillis(),
                TimeUnit.MILLISECONDS);
        // collect a finished query first, so `previous` stays the reading before this one
        collect();
        pending = query;
    }

    @Override
    public long eventsBehind(long nowMillis) {
        collect();
        if (previous == null || latest == null) {
            return -1;
        }
        if (nowMillis - latest.queryMillis() > maxAge.toMillis()) {
            return -1; // no checkpoint completed for a while: an old lag says nothing about now
        }
        long readSpan = latest.triggerMillis() - previous.triggerMillis();
        double readPerMilli = readSpan > 0 ? (double) (latest.committed() - previous.committed()) / readSpan : 0;
        double readSinceTrigger = Math.max(0, readPerMilli * (latest.queryMillis() - latest.triggerMillis()));
        double records = latest.end() - latest.committed() - readSinceTrigger;
        return Math.round(Math.max(0, records) / recordsPerEvent);
    }

    /** Whether a query is in flight (tests wait for it). */
    boolean querying() {
        return pending != null && !pending.isDone();
    }

    /** Takes the result of a finished query, if any. */
    private void collect() {
        if (pending == null || !pending.isDone()) {
            return;
        }
        CompletableFuture<Offsets> done = pending;
        pending = null;
        try {
            Offsets o = done.join();
            if (o == null) {
                return; // the group has not committed every partition yet
            }
            if (latest == null || o.triggerMillis() > latest.triggerMillis()) {
                previous = latest;
                latest = o;
            }
        } catch (RuntimeException e) {
            // A broker that refuses (ACLs, security settings) refuses every checkpoint: say so once, then every 100th.
            String why = e.getCause() != null ? e.getCause().toString() : e.toString();
            if (failures++ % 100 == 0 || !why.equals(lastFailure)) {
                LOG.warn(
                        "lag of topic {} for group {} unknown until a query succeeds ({} failed so far; the probe "
                                + "needs Describe on the topic and the group): {}",
                        topic,
                        groupId,
                        failures,
                        why);
            }
            lastFailure = why;
        }
    }

    /** Reads the committed and end offsets (blocking; on the probe's thread), or null while a partition lacks a commit. */
    private Offsets read(long triggerMillis) throws InterruptedException, ExecutionException, TimeoutException {
        long timeout = queryTimeout.toMillis();
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId)
                .partitionsToOffsetAndMetadata()
                .get(timeout, TimeUnit.MILLISECONDS);
        TopicDescription description = admin.describeTopics(java.util.List.of(topic))
                .allTopicNames()
                .get(timeout, TimeUnit.MILLISECONDS)
                .get(topic);
        Map<TopicPartition, OffsetSpec> latestSpec = new HashMap<>();
        description
                .partitions()
                .forEach(p -> latestSpec.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
        Map<TopicPartition, ListOffsetsResultInfo> ends = admin.listOffsets(
                        latestSpec, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                .all()
                .get(timeout, TimeUnit.MILLISECONDS);
        long queryMillis = clock.getAsLong();
        long committedSum = 0, endSum = 0;
        for (TopicPartition tp : latestSpec.keySet()) {
            OffsetAndMetadata c = committed.get(tp);
            if (c == null) {
                return null;
            }
            committedSum += c.offset();
            endSum += ends.get(tp).offset();
        }
        return new Offsets(triggerMillis, committedSum, queryMillis, endSum);
    }

    @Override
    public void close() throws Exception {
        if (queries != null) {
            queries.shutdownNow();
            queries.awaitTermination(queryTimeout.toMillis(), TimeUnit.MILLISECONDS);
        }
        if (admin != null) {
            admin.close(queryTimeout);
        }
    }

    /** Builder: bootstrap servers, topic and group id are required. */
    public static final class Builder {
        private String bootstrapServers;
        private String topic;
        private String groupId;
        private double recordsPerEvent = 1;
        private final Map<String, String> properties = new HashMap<>();
        private Duration commitGrace = Duration.ofMillis(300);
        private Duration queryTimeout = Duration.ofSeconds(5);
        private Duration maxAge = Duration.ofSeconds(60);
        private LongSupplier clock;

        private Builder() {}

        public Builder bootstrapServers(String servers) {
            this.bootstrapServers = Objects.requireNonNull(servers, "bootstrapServers");
            return this;
        }

        /** The source's input topic (all its partitions). */
        public Builder topic(String t) {
            this.topic = Objects.requireNonNull(t, "topic");
            return this;
        }

        /** The source's consumer group, the one it commits offsets to on checkpoints. */
        public Builder groupId(String g) {
            this.groupId = Objects.requireNonNull(g, "groupId");
            return this;
        }

        /** Input records per event entering stage 0 (default 1; the window hop for windowed jobs). */
        public Builder recordsPerEvent(double r) {
            if (!(r > 0) || Double.isInfinite(r)) {
                throw new IllegalArgumentException("recordsPerEvent must be a positive number, got " + r);
            }
            this.recordsPerEvent = r;
            return this;
        }

        /** An admin client property (security settings and the like); bootstrap servers come from the builder. */
        public Builder property(String key, String value) {
            properties.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /** Wait after a completed checkpoint before reading commits (the sources commit asynchronously; default 300 ms). */
        public Builder commitGrace(Duration d) {
            this.commitGrace = nonNegative(d, "commitGrace");
            return this;
        }

        /** Timeout of each admin request (default 5 s). */
        public Builder queryTimeout(Duration d) {
            this.queryTimeout = nonNegative(d, "queryTimeout");
            return this;
        }

        /** An estimate older than this is unknown (default 60 s). */
        public Builder maxAge(Duration d) {
            this.maxAge = nonNegative(d, "maxAge");
            return this;
        }

        /**
         * Wall clock for the query time (default: the system clock; it must agree with the JobManager's, whose
         * checkpoint trigger times it is compared with). Tests pin it; it is not serialised with the probe.
         */
        Builder clock(LongSupplier c) {
            this.clock = Objects.requireNonNull(c, "clock");
            return this;
        }

        public KafkaLagProbe build() {
            if (bootstrapServers == null || topic == null || groupId == null) {
                throw new IllegalArgumentException("KafkaLagProbe needs bootstrapServers, topic and groupId");
            }
            return new KafkaLagProbe(this);
        }

        private static Duration nonNegative(Duration d, String what) {
            if (d == null || d.isNegative()) {
                throw new IllegalArgumentException(what + " must be >= 0, got " + d);
            }
            return d;
        }
    }
}
