package io.exitflow.jobs.common;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.flink.avro.registry.confluent.shaded.io.confluent.kafka.schemaregistry.ParsedSchema;
import org.apache.flink.avro.registry.confluent.shaded.io.confluent.kafka.schemaregistry.avro.AvroSchema;
import org.apache.flink.avro.registry.confluent.shaded.io.confluent.kafka.schemaregistry.client.CachedSchemaRegistryClient;
import org.apache.flink.avro.registry.confluent.shaded.io.confluent.kafka.schemaregistry.client.rest.exceptions.RestClientException;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.SimpleCounter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One operator's connection to the schema registry: Confluent's registry client ({@code CachedSchemaRegistryClient},
 * relocated in Flink's {@code flink-sql-avro-confluent-registry}; it speaks the Confluent REST API, fails over
 * between URLs, does basic/bearer auth and TLS and caches what it fetched, bounded to {@value #CACHE_CAPACITY}
 * schemas) with what a streaming job needs around it: a registry that cannot be reached, or answers with a server
 * error, is retried with exponential back-off (100 ms doubling to 10 s) for as long as it takes, so no record is
 * dropped or dead-lettered for an outage; each retry counts in the metric {@value #RETRIES_METRIC}, the gauge
 * {@value #OUTAGE_METRIC} shows how long the current outage has lasted (0 when none), and a WARN says so (at
 * most one every 30 s while it lasts). Only the registry's own answers that no retry can change (an id it does not
 * know, a schema it refuses) come back as {@link Refused}.
 *
 * <p>Not thread-safe: one per operator instance.
 */
public final class SchemaRegistryConnection implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SchemaRegistryConnection.class);

    /** Most schemas the registry client keeps per map (by id, by subject); it evicts beyond that. */
    public static final int CACHE_CAPACITY = 1000;
    /** Counter of requests retried because the registry could not be reached or failed. */
    public static final String RETRIES_METRIC = "schemaRegistryRetries";
    /** Counter of requests made to the registry client (answered from its cache or not). */
    public static final String REQUESTS_METRIC = "schemaRegistryRequests";
    /** Gauge: milliseconds since the current registry outage began; 0 when the registry answers. */
    public static final String OUTAGE_METRIC = "schemaRegistryOutageMs";

    static final long FIRST_BACKOFF_MS = 100;
    static final long MAX_BACKOFF_MS = 10_000;
    private static final long WARN_EVERY_MS = 30_000;

    /** The registry's final answer to a request: no retry changes it (unknown id, subject or schema; refused). */
    public static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;
        private final int status;

        Refused(String message, int status, Throwable cause) {
            super(message, cause);
            this.status = status;
        }

        /** The registry's error code (40403: schema not found, 40401: subject not found, 409: incompatible, ...). */
        public int errorCode() {
            return status;
        }
    }

    /** Thrown when the thread is interrupted while waiting to retry: the task is being cancelled. */
    public static final class Interrupted extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Interrupted(String what, InterruptedException cause) {
            super("interrupted while waiting for the schema registry (" + what + ")", cause);
        }
    }

    private final SchemaRegistrySettings settings;
    private final CachedSchemaRegistryClient client;
    private final Counter retries;
    private final Counter requests;
    private long outageSince;
    private long lastWarn;

    /**
     * @param metrics the operator's metric group to register the registry metrics in; null for none (tools, tests)
     */
    public SchemaRegistryConnection(SchemaRegistrySettings settings, MetricGroup metrics) {
        this.settings = settings;
        Map<String, Object> config = new HashMap<>(settings.clientConfig());
        this.client = new CachedSchemaRegistryClient(settings.urls(), CACHE_CAPACITY, config);
        if (metrics != null) {
            this.retries = metrics.counter(RETRIES_METRIC);
            this.requests = metrics.counter(REQUESTS_METRIC);
            metrics.gauge(OUTAGE_METRIC, (Gauge<Long>) this::outageMillis);
        } else {
            this.retries = new SimpleCounter();
            this.requests = new SimpleCounter();
        }
    }

    /** The registry settings. */
    public SchemaRegistrySettings settings() {
        return settings;
    }

    /** Requests retried so far. */
    public long retries() {
        return retries.getCount();
    }

    /** Milliseconds since the current outage began, 0 when the registry answers. */
    public long outageMillis() {
        long since = outageSince;
        return since == 0 ? 0 : Math.max(1, System.currentTimeMillis() - since);
    }

    /**
     * The writer's schema of {@code id}, waiting out registry outages.
     *
     * @throws Refused when the registry does not know the id, or it is not an Avro schema
     */
    public Schema schemaById(int id) throws Refused {
        ParsedSchema parsed = call("schema id " + id, () -> client.getSchemaById(id));
        if (!AvroSchema.TYPE.equals(parsed.schemaType())) {
            throw new Refused("schema id " + id + " is a " + parsed.schemaType() + " schema, not Avro", 0, null);
        }
        try {
            return new Schema.Parser().parse(parsed.canonicalString());
        } catch (RuntimeException e) {
            throw new Refused("schema id " + id + " does not parse as Avro: " + e.getMessage(), 0, e);
        }
    }

    /**
     * The id of {@code schema} under {@code subject}: registered there first when the settings say so (an existing
     * identical schema keeps its id), else looked up. Waits out registry outages.
     *
     * @throws Refused when the subject does not hold the schema and registering is off, or the registry refuses to
     *     register it (incompatible with the subject's compatibility rule, invalid)
     */
    public int idOf(String subject, Schema schema) throws Refused {
        AvroSchema avro = new AvroSchema(schema.toString());
        if (settings.autoRegister()) {
            return call(
                    "registering " + schema.getFullName() + " under subject " + subject,
                    () -> client.register(subject, avro));
        }
        return call(
                "looking up " + schema.getFullName() + " under subject " + subject, () -> client.getId(subject, avro));
    }

    private interface Request<R> {
        R run() throws IOException, RestClientException;
    }

    private <R> R call(String what, Request<R> request) throws Refused {
        long backoff = FIRST_BACKOFF_MS;
        while (true) {
            requests.inc();
            Exception failure;
            try {
                R r = request.run();
                recovered(what);
                return r;
            } catch (RestClientException e) {
                if (isFinal(e.getStatus())) {
                    recovered(what);
                    throw new Refused(what + ": " + e.getMessage(), e.getErrorCode(), e);
                }
                failure = e;
            } catch (IOException | RuntimeException e) {
                // Connection refused, timeouts, TLS and HTTP failures surface as IOException; the client wraps some
                // in runtime exceptions.
                failure = e;
            }
            long now = System.currentTimeMillis();
            if (outageSince == 0) {
                outageSince = now;
            }
            if (lastWarn == 0 || now - lastWarn >= WARN_EVERY_MS) {
                lastWarn = now;
                LOG.warn(
                        "schema registry {} failed ({}): {}; retrying every {} ms at most, for as long as it takes "
                                + "(metric {}: {} so far)",
                        String.join(",", settings.urls()),
                        what,
                        failure,
                        MAX_BACKOFF_MS,
                        RETRIES_METRIC,
                        retries.getCount());
            }
            retries.inc();
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Interrupted(what, e);
            }
            backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
        }
    }

    private void recovered(String what) {
        if (outageSince != 0) {
            LOG.info(
                    "schema registry {} answers again ({}) after {} ms ({} retries in all)",
                    String.join(",", settings.urls()),
                    what,
                    System.currentTimeMillis() - outageSince,
                    retries.getCount());
            outageSince = 0;
            lastWarn = 0;
        }
    }

    /** HTTP statuses no retry changes: the request itself is refused (not found, conflict, invalid). */
    private static boolean isFinal(int status) {
        return status == 404 || status == 409 || status == 422 || status == 400;
    }

    @Override
    public void close() {
        try {
            client.close();
        } catch (IOException e) {
            LOG.warn("closing the schema registry client failed", e);
        }
    }
}
