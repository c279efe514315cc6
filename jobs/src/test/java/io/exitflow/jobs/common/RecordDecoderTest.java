package io.exitflow.jobs.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.exitflow.schemas.FeatureEvent;
import io.exitflow.schemas.SensorReading;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.JsonProperties;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

/**
 * {@link RecordDecoder} without a registry process: plain Avro binary, Avro single-object encoding, and the
 * registry wire format's framing, schema resolution and id cache with writer schemas given by id
 * ({@link RecordDecoder#withWriterSchemas}; SchemaRegistryIT runs the same paths against a real registry).
 */
class RecordDecoderTest {
    private static final SensorReading READING = SensorReading.newBuilder()
            .setSensorId("s-1")
            .setEventTime(Instant.ofEpochMilli(1_700_000_000_000L))
            .setValues(List.of(1f, 2f, 3f))
            .setLabel("normal")
            .setSeverity(null)
            .build();

    /** SensorReading as a newer producer writes it: {@code severity} dropped, an optional field added. */
    private static Schema evolved() {
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : SensorReading.getClassSchema().getFields()) {
            if (!f.name().equals("severity")) {
                fields.add(new Schema.Field(f, f.schema()));
            }
        }
        fields.add(new Schema.Field(
                "firmware",
                Schema.createUnion(Schema.create(Schema.Type.NULL), Schema.create(Schema.Type.STRING)),
                null,
                JsonProperties.NULL_VALUE));
        return Schema.createRecord("SensorReading", null, "io.exitflow.schemas", false, fields);
    }

    private static byte[] framed(int id, Schema writer, GenericRecord record) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(RecordDecoder.REGISTRY_MAGIC);
        out.write(ByteBuffer.allocate(4).putInt(id).array());
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(writer).write(record, enc);
        enc.flush();
        return out.toByteArray();
    }

    private static GenericRecord evolvedReading(Schema writer) {
        GenericRecord g = new GenericData.Record(writer);
        g.put("sensorId", "s-1");
        g.put("eventTime", 1_700_000_000_000L);
        g.put("values", List.of(1f, 2f, 3f));
        g.put("label", "normal");
        g.put("firmware", "2.1");
        return g;
    }

    /** Writer schemas by id, counting the lookups. */
    private static final class Schemas implements RecordDecoder.WriterSchemas {
        final Map<Integer, Schema> byId = new HashMap<>();
        final AtomicInteger lookups = new AtomicInteger();

        @Override
        public Schema byId(int id) throws SchemaRegistryConnection.Refused {
            lookups.incrementAndGet();
            Schema s = byId.get(id);
            if (s == null) {
                throw new SchemaRegistryConnection.Refused("schema id " + id + ": Schema not found", 40403, null);
            }
            return s;
        }
    }

    @Test
    void plainAvroBinaryAndTombstones() throws Exception {
        RecordDecoder<SensorReading> d = new RecordDecoder<>(SensorReading.class, null);
        assertEquals(READING, d.decode(AvroCodec.of(SensorReading.class).encode(READING)));
        InvalidRecordException tombstone = assertThrows(InvalidRecordException.class, () -> d.decode(null));
        assertTrue(tombstone.getMessage().contains("tombstone"), tombstone.getMessage());
        assertNull(d.connection(), "no registry, no connection");
    }

    @Test
    void singleObjectEncodingOfTheJobsSchemaIsAcceptedWithAndWithoutARegistry() throws Exception {
        byte[] singleObject = SensorReading.getEncoder().encode(READING).array();
        assertEquals((byte) 0xC3, singleObject[0]);
        assertEquals(READING, new RecordDecoder<>(SensorReading.class, null).decode(singleObject));
        Schemas none = new Schemas();
        assertEquals(
                READING,
                RecordDecoder.withWriterSchemas(SensorReading.class, none).decode(singleObject));
        assertEquals(0, none.lookups.get(), "the fingerprint identifies the schema: no registry asked");
    }

    @Test
    void singleObjectEncodingOfAnotherSchemaIsRefusedNamingTheFingerprint() throws Exception {
        byte[] other = FeatureEvent.getEncoder()
                .encode(FeatureEvent.newBuilder()
                        .setEventId("e")
                        .setKey("k")
                        .setEventTime(Instant.ofEpochMilli(1))
                        .setFeatures(List.of(1f))
                        .setLabel(null)
                        .build())
                .array();
        InvalidRecordException plain = assertThrows(
                InvalidRecordException.class, () -> new RecordDecoder<>(SensorReading.class, null).decode(other));
        assertTrue(
                plain.getMessage().contains("single-object encoding with schema fingerprint")
                        && plain.getMessage().contains("nor a plain record"),
                plain.getMessage());
        InvalidRecordException registry = assertThrows(
                InvalidRecordException.class,
                () -> RecordDecoder.withWriterSchemas(SensorReading.class, new Schemas())
                        .decode(other));
        assertTrue(registry.getMessage().contains("not that of the job's SensorReading"), registry.getMessage());
    }

    @Test
    void registryFormatResolvesAnEvolvedWriterSchemaIntoTheJobs() throws Exception {
        Schemas schemas = new Schemas();
        Schema writer = evolved();
        schemas.byId.put(7, writer);
        RecordDecoder<SensorReading> d = RecordDecoder.withWriterSchemas(SensorReading.class, schemas);
        SensorReading r = d.decode(framed(7, writer, evolvedReading(writer)));
        assertEquals("s-1", r.getSensorId());
        assertEquals(List.of(1f, 2f, 3f), r.getValues());
        assertEquals("normal", r.getLabel());
        assertNull(r.getSeverity(), "missing in the writer's schema: the reader's default");
        d.decode(framed(7, writer, evolvedReading(writer)));
        assertEquals(1, schemas.lookups.get(), "the id's reader is cached");
    }

    @Test
    void registryFormatRefusesOtherFormatsNamingWhatItGot() {
        RecordDecoder<SensorReading> d = RecordDecoder.withWriterSchemas(SensorReading.class, new Schemas());
        InvalidRecordException plain = assertThrows(
                InvalidRecordException.class,
                () -> d.decode(AvroCodec.of(SensorReading.class).encode(READING)));
        assertTrue(plain.getMessage().startsWith("not in the schema registry wire format"), plain.getMessage());
        InvalidRecordException empty = assertThrows(InvalidRecordException.class, () -> d.decode(new byte[0]));
        assertTrue(empty.getMessage().contains("empty value"), empty.getMessage());
        InvalidRecordException shortOne = assertThrows(InvalidRecordException.class, () -> d.decode(new byte[] {0, 0}));
        assertTrue(shortOne.getMessage().contains("first byte 0x00 of 2"), shortOne.getMessage());
    }

    @Test
    void unknownIdIsRefusedAndNotAskedAgainAtOnce() {
        Schemas schemas = new Schemas();
        RecordDecoder<SensorReading> d = RecordDecoder.withWriterSchemas(SensorReading.class, schemas);
        byte[] unknown = {0, 0, 0, 0, 42, 2, 'x'};
        for (int i = 0; i < 3; i++) {
            InvalidRecordException e = assertThrows(InvalidRecordException.class, () -> d.decode(unknown));
            assertTrue(e.getMessage().startsWith("schema id 42 unknown to the registry"), e.getMessage());
        }
        assertEquals(1, schemas.lookups.get(), "asked again only after " + RecordDecoder.UNKNOWN_ID_RETRY_MS + " ms");
    }

    @Test
    void unresolvableWriterSchemaIsRefusedNamingTheIdAndWhy() throws Exception {
        Schema renamedField = Schema.createRecord(
                "SensorReading",
                null,
                "io.exitflow.schemas",
                false,
                List.of(
                        new Schema.Field("sensor", Schema.create(Schema.Type.STRING)),
                        new Schema.Field("eventTime", Schema.create(Schema.Type.LONG)),
                        new Schema.Field("values", Schema.createArray(Schema.create(Schema.Type.FLOAT)))));
        Schema otherRecord = FeatureEvent.getClassSchema();
        Schemas schemas = new Schemas();
        schemas.byId.put(3, renamedField);
        schemas.byId.put(4, otherRecord);
        RecordDecoder<SensorReading> d = RecordDecoder.withWriterSchemas(SensorReading.class, schemas);
        GenericRecord g = new GenericData.Record(renamedField);
        g.put("sensor", "s-1");
        g.put("eventTime", 1L);
        g.put("values", List.of(1f));
        InvalidRecordException e =
                assertThrows(InvalidRecordException.class, () -> d.decode(framed(3, renamedField, g)));
        assertTrue(
                e.getMessage()
                                .startsWith("schema id 3 (io.exitflow.schemas.SensorReading) cannot be resolved into "
                                        + "the job's io.exitflow.schemas.SensorReading")
                        && e.getMessage().contains("sensorId"),
                e.getMessage());
        InvalidRecordException other =
                assertThrows(InvalidRecordException.class, () -> d.decode(new byte[] {0, 0, 0, 0, 4, 0}));
        assertTrue(
                other.getMessage().contains("schema id 4 (io.exitflow.schemas.FeatureEvent) cannot be resolved"),
                other.getMessage());
        assertThrows(InvalidRecordException.class, () -> d.decode(framed(3, renamedField, g)));
        assertEquals(2, schemas.lookups.get(), "a refused writer schema is remembered: it never changes");
    }

    @Test
    void bodyThatDoesNotMatchItsSchemaOrLeavesBytesOverIsRefused() throws Exception {
        Schemas schemas = new Schemas();
        schemas.byId.put(5, SensorReading.getClassSchema());
        RecordDecoder<SensorReading> d = RecordDecoder.withWriterSchemas(SensorReading.class, schemas);
        byte[] body = AvroCodec.of(SensorReading.class).encode(READING);
        byte[] whole = ByteBuffer.allocate(5 + body.length)
                .put((byte) 0)
                .putInt(5)
                .put(body)
                .array();
        assertEquals(READING, d.decode(whole));
        byte[] truncated = java.util.Arrays.copyOf(whole, whole.length - 4);
        InvalidRecordException cut = assertThrows(InvalidRecordException.class, () -> d.decode(truncated));
        assertTrue(cut.getMessage().startsWith("schema id 5: not a record of that schema"), cut.getMessage());
        byte[] longer = java.util.Arrays.copyOf(whole, whole.length + 3);
        InvalidRecordException over = assertThrows(InvalidRecordException.class, () -> d.decode(longer));
        assertTrue(over.getMessage().contains("3 bytes left over"), over.getMessage());
    }

    @Test
    void idCacheStaysBounded() throws Exception {
        Schemas schemas = new Schemas();
        RecordDecoder<SensorReading> d = RecordDecoder.withWriterSchemas(SensorReading.class, schemas);
        byte[] body = AvroCodec.of(SensorReading.class).encode(READING);
        int ids = RecordDecoder.MAX_CACHED_IDS + 200;
        for (int id = 1; id <= ids; id++) {
            schemas.byId.put(id, SensorReading.getClassSchema());
            assertEquals(
                    READING,
                    d.decode(ByteBuffer.allocate(5 + body.length)
                            .put((byte) 0)
                            .putInt(id)
                            .put(body)
                            .array()));
        }
        assertEquals(RecordDecoder.MAX_CACHED_IDS, d.cachedIds());
        assertEquals(ids, schemas.lookups.get());
        // The least recently used went first: id 1 is asked again, the newest is not.
        d.decode(ByteBuffer.allocate(5 + body.length)
                .put((byte) 0)
                .putInt(ids)
                .put(body)
                .array());
        assertEquals(ids, schemas.lookups.get());
        d.decode(ByteBuffer.allocate(5 + body.length)
                .put((byte) 0)
                .putInt(1)
                .put(body)
                .array());
        assertEquals(ids + 1, schemas.lookups.get());
    }
}
