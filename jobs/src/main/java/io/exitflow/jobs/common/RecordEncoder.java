package io.exitflow.jobs.common;

import java.io.Serializable;
import java.nio.ByteBuffer;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.metrics.MetricGroup;

/**
 * Encodes records of one topic in the job's wire format: plain Avro binary ({@link AvroCodec}), or with a schema
 * registry the registry wire format: magic byte {@code 0x00}, the schema's id under the topic's subject (4 bytes,
 * big-endian; {@link SchemaRegistrySettings.SubjectStrategy}), then the Avro binary encoding. The id is resolved
 * once, on {@link #open} or the first record: registered on first use when the settings say so, else looked up (a
 * schema that is not registered fails the job, naming the subject and the flag). Not thread-safe.
 *
 * @param <T> the generated record class
 */
public final class RecordEncoder<T extends SpecificRecord> implements Serializable {
    private static final long serialVersionUID = 1L;

    private final AvroCodec<T> codec;
    private final String topic;
    private final SchemaRegistrySettings registry;
    private transient MetricGroup metrics;
    private transient byte[] header;

    /**
     * @param topic the topic the records go to (names the subject)
     * @param registry the job's registry, or null for plain Avro binary
     */
    public RecordEncoder(Class<T> type, String topic, SchemaRegistrySettings registry) {
        this.codec = AvroCodec.of(type);
        this.topic = topic;
        this.registry = registry;
    }

    /**
     * An encoder of the registry wire format whose schema id is {@code id}, given instead of resolved at a
     * registry: for unit tests of the framing.
     */
    static <T extends SpecificRecord> RecordEncoder<T> withSchemaId(Class<T> type, String topic, int id) {
        RecordEncoder<T> e = new RecordEncoder<>(type, topic, SchemaRegistrySettings.of("http://registry.invalid"));
        e.header = ByteBuffer.allocate(5)
                .put(RecordDecoder.REGISTRY_MAGIC)
                .putInt(id)
                .array();
        return e;
    }

    /** The subject this encoder's schema is registered under; null without a registry. */
    public String subject() {
        return registry == null
                ? null
                : registry.subjectStrategy().subject(topic, SpecificData.get().getSchema(codec.type()));
    }

    /**
     * Resolves the schema id now (registering the schema when the settings say so), waiting out registry outages.
     *
     * @param group the operator's metric group for the registry metrics; null for none
     * @throws IllegalStateException when the registry refuses: the schema is not registered under the subject and
     *     registering is off, or registering it is refused (incompatible with the subject's rule)
     */
    public void open(MetricGroup group) {
        this.metrics = group;
        if (registry != null && header == null) {
            Schema schema = SpecificData.get().getSchema(codec.type());
            String subject = subject();
            int id;
            try (SchemaRegistryConnection c = new SchemaRegistryConnection(registry, metrics)) {
                id = c.idOf(subject, schema);
            } catch (SchemaRegistryConnection.Refused e) {
                throw new IllegalStateException(
                        "schema registry " + String.join(",", registry.urls()) + " refused "
                                + schema.getFullName() + " for topic " + topic + " (subject " + subject + "): "
                                + e.getMessage()
                                + (registry.autoRegister()
                                        ? ""
                                        : "; register it, or set --"
                                                + JobOptions.argName(JobOptions.SCHEMA_REGISTRY_AUTO_REGISTER)
                                                + " true"),
                        e);
            }
            header = ByteBuffer.allocate(5)
                    .put(RecordDecoder.REGISTRY_MAGIC)
                    .putInt(id)
                    .array();
        }
    }

    /** Encodes one record. */
    public byte[] encode(T record) {
        return frame(codec.encode(record));
    }

    /**
     * Frames an Avro binary body already encoded in this encoder's schema (or meant to look so): unchanged without a
     * registry, else behind the magic byte and the schema's id (resolved first if {@link #open} was not called). For
     * tools that write deliberately broken records of this schema, such as the simulator's bad records.
     */
    public byte[] frame(byte[] body) {
        if (registry == null) {
            return body;
        }
        if (header == null) {
            open(metrics);
        }
        byte[] out = new byte[header.length + body.length];
        System.arraycopy(header, 0, out, 0, header.length);
        System.arraycopy(body, 0, out, header.length, body.length);
        return out;
    }

    /** The schema id records are framed with; -1 without a registry or before it is resolved. */
    public int schemaId() {
        return header == null ? -1 : ByteBuffer.wrap(header, 1, 4).getInt();
    }
}
