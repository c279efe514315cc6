package io.exitflow.jobs.common;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * The wire format of every ExitFlow topic: the plain Avro binary encoding of one generated record, no header
 * and no schema registry (producer and consumer share the schemas module). Used by the jobs' sources and
 * sinks, the simulator and the tests, so all of them agree byte for byte.
 *
 * <p>Decoding is bounded by the record's size ({@link BoundedDecoder}): no length or count in a record can make it
 * allocate more than a small multiple of the record's bytes, so no record, however corrupt, can exhaust the heap.
 *
 * <p>Not thread-safe (it reuses its encoder/decoder); each operator instance owns its own copy.
 *
 * @param <T> the generated record class
 */
public final class AvroCodec<T extends SpecificRecord> implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Class<T> type;
    private transient SpecificDatumReader<T> reader;
    private transient SpecificDatumWriter<T> writer;
    private transient BoundedDecoder decoder;
    private transient BinaryEncoder encoder;
    private transient ByteArrayOutputStream buffer;

    private AvroCodec(Class<T> type) {
        this.type = type;
        BoundedDecoder.requireNonEmptyItems(SpecificData.get().getSchema(type));
    }

    /** A codec for one generated record class (for example {@code SensorReading.class}). */
    public static <T extends SpecificRecord> AvroCodec<T> of(Class<T> type) {
        return new AvroCodec<>(type);
    }

    /** The record class this codec reads and writes. */
    public Class<T> type() {
        return type;
    }

    /** Encodes one record. */
    public byte[] encode(T record) {
        if (writer == null) {
            writer = new SpecificDatumWriter<>(type);
            buffer = new ByteArrayOutputStream(256);
        }
        buffer.reset();
        encoder = EncoderFactory.get().binaryEncoder(buffer, encoder);
        try {
            writer.write(record, encoder);
            encoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode " + type.getSimpleName(), e);
        }
        return buffer.toByteArray();
    }

    /**
     * Decodes one record that must fill {@code bytes} exactly.
     *
     * @throws InvalidRecordException when the bytes are not one record of this schema (truncated, corrupt, a length
     *     or count larger than the bytes left, another schema, or bytes left over); also when decoding them ran out
     *     of memory or stack, which a record of bounded size can only do when the JVM is short of both already
     */
    public T decode(byte[] bytes) throws InvalidRecordException {
        if (bytes == null) {
            throw new InvalidRecordException("null value (tombstone)");
        }
        if (reader == null) {
            reader = new SpecificDatumReader<>(type);
            decoder = new BoundedDecoder();
        }
        try {
            T record = reader.read(null, decoder.reset(bytes));
            if (!decoder.isEnd()) {
                throw new InvalidRecordException("not a " + type.getSimpleName() + " record: " + decoder.remaining()
                        + " bytes left over after decoding (another schema?)");
            }
            return record;
        } catch (IOException | RuntimeException e) {
            // Avro signals corrupt input with EOFException, AvroRuntimeException, negative-length errors, index
            // errors; BoundedDecoder with an IOException for a length or count past the record's end.
            throw new InvalidRecordException("not a " + type.getSimpleName() + " record: " + e, e);
        } catch (OutOfMemoryError | StackOverflowError e) {
            // The reader and decoder may be half-way through: start the next record with new ones.
            reader = null;
            decoder = null;
            throw new InvalidRecordException(
                    "cannot decode a " + type.getSimpleName() + " record of " + bytes.length + " bytes: " + e, e);
        }
    }
}
