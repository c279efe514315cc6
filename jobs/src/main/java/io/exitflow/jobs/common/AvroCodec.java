package io.exitflow.jobs.common;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * The wire format of every ExitFlow topic: the plain Avro binary encoding of one generated record, no header
 * and no schema registry (producer and consumer share the schemas module). Used by the jobs' sources and
 * sinks, the simulator and the tests, so all of them agree byte for byte.
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
    private transient BinaryDecoder decoder;
    private transient BinaryEncoder encoder;
    private transient ByteArrayOutputStream buffer;

    private AvroCodec(Class<T> type) {
        this.type = type;
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
     * @throws InvalidRecordException when the bytes are not one record of this schema (truncated, corrupt,
     *     another schema, or bytes left over)
     */
    public T decode(byte[] bytes) throws InvalidRecordException {
        if (bytes == null) {
            throw new InvalidRecordException("null value (tombstone)");
        }
        if (reader == null) {
            reader = new SpecificDatumReader<>(type);
        }
        decoder = DecoderFactory.get().binaryDecoder(bytes, decoder);
        T record;
        try {
            record = reader.read(null, decoder);
        } catch (IOException | RuntimeException e) {
            // Avro signals corrupt input with EOFException, AvroRuntimeException, negative-length errors,
            // even OutOfMemory-prone huge lengths as exceptions: all mean "not a record of this schema".
            throw new InvalidRecordException("not a " + type.getSimpleName() + " record: " + e, e);
        }
        try {
            if (!decoder.isEnd()) {
                throw new InvalidRecordException("not a " + type.getSimpleName()
                        + " record: bytes left over after decoding (another schema?)");
            }
        } catch (IOException e) {
            throw new InvalidRecordException("not a " + type.getSimpleName() + " record: " + e, e);
        }
        return record;
    }
}
