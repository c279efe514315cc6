package io.exitflow.jobs.common;

import java.io.IOException;
import java.io.Serializable;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.metrics.MetricGroup;

/**
 * Decodes one Kafka value into a generated record, in whichever wire format the job reads:
 *
 * <ul>
 *   <li><b>Schema registry</b> ({@code --schema-registry-url} set): magic byte {@code 0x00}, the writer's schema id
 *       (4 bytes, big-endian), then the Avro binary encoding. The writer's schema is fetched by id (cached, bounded;
 *       outages waited out by {@link SchemaRegistryConnection}) and resolved into the job's reader schema by Avro's
 *       own schema resolution, so a writer that added a field, or lacks one the reader has with a default, decodes.
 *       An id the registry does not know, or a writer schema Avro cannot resolve into the reader's
 *       ({@link SchemaCompatibility}), makes the record invalid with the id and the reason.</li>
 *   <li><b>Avro single-object encoding</b> (always): {@code C3 01}, the 8-byte CRC-64-AVRO fingerprint of the
 *       writer's schema (little-endian), then the Avro binary encoding, accepted when the fingerprint is that of the
 *       job's schema.</li>
 *   <li><b>Plain Avro binary</b> of the job's schema with no header (without a registry only): {@link AvroCodec}'s
 *       format, the default.</li>
 * </ul>
 *
 * <p>Every path decodes through {@link BoundedDecoder}, so no record can make it allocate more than a small multiple
 * of its size. Not thread-safe: one per operator instance.
 *
 * @param <T> the generated record class
 */
public final class RecordDecoder<T extends SpecificRecord> implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Most schema ids whose reader (or refusal) is kept; the least recently used goes first. */
    public static final int MAX_CACHED_IDS = 1000;
    /** How long an id the registry said it does not know stays refused before it is asked again. */
    static final long UNKNOWN_ID_RETRY_MS = 30_000;

    /** First byte of the schema registry wire format. */
    public static final byte REGISTRY_MAGIC = 0;
    /** First two bytes of Avro's single-object encoding. */
    public static final byte[] SINGLE_OBJECT_MARKER = {(byte) 0xC3, 0x01};

    private final Class<T> type;
    private final SchemaRegistrySettings registry;
    private final AvroCodec<T> plain;

    private transient Schema reader;
    private transient long readerFingerprint;
    private transient BoundedDecoder decoder;
    private transient Map<Integer, Object> byId;
    private transient SchemaRegistryConnection connection;
    private transient MetricGroup metrics;
    /** Where writer schemas come from; null: the registry, through {@link #connection()}. */
    private transient WriterSchemas writerSchemas;

    /** The writer's schema of an id: the registry's answer ({@link SchemaRegistryConnection#schemaById}). */
    @FunctionalInterface
    interface WriterSchemas {
        Schema byId(int id) throws SchemaRegistryConnection.Refused;
    }

    /**
     * @param registry the job's registry, or null for plain Avro binary (and single-object encoding)
     */
    public RecordDecoder(Class<T> type, SchemaRegistrySettings registry) {
        this.type = type;
        this.registry = registry;
        this.plain = AvroCodec.of(type);
    }

    /**
     * A decoder of the registry wire format whose writer schemas come from {@code writerSchemas} instead of a
     * registry: for unit tests of the framing, the schema resolution and the id cache.
     */
    static <T extends SpecificRecord> RecordDecoder<T> withWriterSchemas(Class<T> type, WriterSchemas writerSchemas) {
        RecordDecoder<T> d = new RecordDecoder<>(type, SchemaRegistrySettings.of("http://registry.invalid"));
        d.writerSchemas = writerSchemas;
        return d;
    }

    /** How many schema ids (readers or refusals) are cached now; at most {@link #MAX_CACHED_IDS}. */
    int cachedIds() {
        return byId == null ? 0 : byId.size();
    }

    /** The record class this decoder reads. */
    public Class<T> type() {
        return type;
    }

    /** The registry this decoder reads with, or null. */
    public SchemaRegistrySettings registry() {
        return registry;
    }

    /** Registers the registry metrics ({@link SchemaRegistryConnection}) in {@code group}; optional, call first. */
    public void open(MetricGroup group) {
        this.metrics = group;
    }

    /** The connection this decoder fetches schemas through (opened on first use); null without a registry. */
    public SchemaRegistryConnection connection() {
        if (registry != null && connection == null) {
            connection = new SchemaRegistryConnection(registry, metrics);
        }
        return connection;
    }

    /**
     * Decodes one value.
     *
     * @throws InvalidRecordException when it is not a record of this type in an accepted format; the message names the
     *     format, and for the registry format the schema id and why it cannot be read
     * @throws SchemaRegistryConnection.Interrupted when interrupted while waiting for the registry
     */
    public T decode(byte[] bytes) throws InvalidRecordException {
        if (bytes == null) {
            throw new InvalidRecordException("null value (tombstone)");
        }
        if (reader == null) {
            reader = SpecificData.get().getSchema(type);
            readerFingerprint = SchemaNormalization.parsingFingerprint64(reader);
            decoder = new BoundedDecoder();
            byId = new LinkedHashMap<>(64, 0.75f, true);
        }
        boolean singleObject =
                bytes.length >= 10 && bytes[0] == SINGLE_OBJECT_MARKER[0] && bytes[1] == SINGLE_OBJECT_MARKER[1];
        if (singleObject) {
            long fingerprint = littleEndianLong(bytes, 2);
            if (fingerprint == readerFingerprint) {
                return plain.decode(Arrays.copyOfRange(bytes, 10, bytes.length));
            }
            if (registry != null) {
                throw new InvalidRecordException("Avro single-object encoding with schema fingerprint "
                        + Long.toHexString(fingerprint) + ", not that of the job's " + type.getSimpleName() + " ("
                        + Long.toHexString(readerFingerprint) + ")");
            }
            try {
                return plain.decode(bytes); // a plain record may start with the same two bytes
            } catch (InvalidRecordException e) {
                throw new InvalidRecordException(
                        "Avro single-object encoding with schema fingerprint "
                                + Long.toHexString(fingerprint) + ", not that of the job's " + type.getSimpleName()
                                + " ("
                                + Long.toHexString(readerFingerprint) + "), nor a plain record: " + e.getMessage(),
                        e);
            }
        }
        if (registry == null) {
            return plain.decode(bytes);
        }
        if (bytes.length < 5 || bytes[0] != REGISTRY_MAGIC) {
            throw new InvalidRecordException("not in the schema registry wire format (magic byte 0, 4-byte schema id): "
                    + (bytes.length == 0
                            ? "empty value"
                            : String.format("first byte 0x%02x of %d", bytes[0] & 0xff, bytes.length)));
        }
        int id = ((bytes[1] & 0xff) << 24) | ((bytes[2] & 0xff) << 16) | ((bytes[3] & 0xff) << 8) | (bytes[4] & 0xff);
        SpecificDatumReader<T> resolving = readerFor(id);
        try {
            T record = resolving.read(null, decoder.reset(Arrays.copyOfRange(bytes, 5, bytes.length)));
            if (!decoder.isEnd()) {
                throw new InvalidRecordException("schema id " + id + ": " + decoder.remaining()
                        + " bytes left over after decoding a " + type.getSimpleName());
            }
            return record;
        } catch (IOException | RuntimeException e) {
            throw new InvalidRecordException("schema id " + id + ": not a record of that schema: " + e, e);
        } catch (OutOfMemoryError | StackOverflowError e) {
            decoder = new BoundedDecoder();
            byId.remove(id);
            throw new InvalidRecordException(
                    "schema id " + id + ": cannot decode a record of " + bytes.length + " bytes: " + e, e);
        }
    }

    /** The resolving reader of writer schema {@code id}, or the reason there is none. */
    @SuppressWarnings("unchecked")
    private SpecificDatumReader<T> readerFor(int id) throws InvalidRecordException {
        Object known = byId.get(id);
        if (known instanceof Refusal) {
            Refusal r = (Refusal) known;
            if (r.retryAt == 0 || System.currentTimeMillis() < r.retryAt) {
                throw new InvalidRecordException(r.reason);
            }
            byId.remove(id);
        } else if (known != null) {
            return (SpecificDatumReader<T>) known;
        }
        Object entry;
        try {
            Schema writer = writerSchemas != null
                    ? writerSchemas.byId(id)
                    : connection().schemaById(id);
            SchemaCompatibility.SchemaPairCompatibility c =
                    SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
            if (c.getType() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
                entry = new SpecificDatumReader<T>(writer, reader, SpecificData.getForClass(type));
            } else {
                String why = c.getResult().getIncompatibilities().stream()
                        .map(i -> i.getType() + " at " + i.getLocation() + ": " + i.getMessage())
                        .collect(Collectors.joining("; "));
                entry = new Refusal(
                        "schema id " + id + " (" + writer.getFullName() + ") cannot be resolved into the " + "job's "
                                + reader.getFullName() + ": " + why,
                        0);
            }
        } catch (SchemaRegistryConnection.Refused e) {
            boolean notFound = e.errorCode() == 40403 || e.errorCode() == 404;
            entry = new Refusal(
                    (notFound ? "schema id " + id + " unknown to the registry: " : "") + e.getMessage(),
                    notFound ? System.currentTimeMillis() + UNKNOWN_ID_RETRY_MS : 0);
        }
        byId.put(id, entry);
        if (byId.size() > MAX_CACHED_IDS) {
            byId.remove(byId.keySet().iterator().next());
        }
        if (entry instanceof Refusal) {
            throw new InvalidRecordException(((Refusal) entry).reason);
        }
        return (SpecificDatumReader<T>) entry;
    }

    private static long littleEndianLong(byte[] b, int at) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[at + i] & 0xffL);
        }
        return v;
    }

    /** Why an id cannot be read; {@code retryAt} 0 for never again (a writer schema never changes). */
    private static final class Refusal {
        final String reason;
        final long retryAt;

        Refusal(String reason, long retryAt) {
            this.reason = reason;
            this.retryAt = retryAt;
        }
    }

    /** Closes the registry connection, if one was opened. */
    public void close() {
        if (connection != null) {
            connection.close();
            connection = null;
        }
    }
}
