package io.exitflow.jobs.common;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.Decoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.util.Utf8;

/**
 * Avro's binary decoder over the bytes of one record, in which no length or count read from the record can be
 * larger than the bytes left in it: a string or bytes length, and each block count of an array or map, is checked
 * before anything is allocated for it. Plain {@link BinaryDecoder} allocates what the length says first (a string
 * length of 2^31 in an 8-byte record allocates 2 GB and fails with {@code OutOfMemoryError}; an array count makes
 * the reader pre-size the array), so with it one record can exhaust the heap. Here such a record fails with an
 * {@link IOException} naming the length and the bytes left, and what decoding one record allocates is bounded
 * by a small multiple of the record's size.
 *
 * <p>The count bound holds because every array item and map entry takes at least one byte; {@link
 * #requireNonEmptyItems} checks that of a schema (items of type {@code null}, an empty record or a zero-size fixed
 * would take none). Avro's own limit properties ({@code org.apache.avro.limits.*}) are JVM-global and fixed, not
 * relative to the record, so they are not used.
 *
 * <p>Not thread-safe; {@link #reset} starts the next record.
 */
final class BoundedDecoder extends Decoder {
    private BinaryDecoder in;
    /** The decoder's view of its source: for a byte-array source {@code available()} is the bytes left. */
    private InputStream rest;
    /** Bytes of the last string read as a {@code String}; grows to the longest one, at most a record's size. */
    private final Utf8 scratch = new Utf8();

    /** Reads {@code record} from its first byte next. */
    BoundedDecoder reset(byte[] record) {
        in = DecoderFactory.get().binaryDecoder(record, in);
        rest = in.inputStream();
        return this;
    }

    /** Bytes of the record not read yet. */
    long remaining() throws IOException {
        return rest.available();
    }

    /** Whether every byte of the record has been read. */
    boolean isEnd() throws IOException {
        return in.isEnd();
    }

    /** A string or bytes length, checked against the bytes left. */
    private int length(String what) throws IOException {
        long n = in.readLong();
        long left = remaining();
        if (n < 0 || n > left) {
            throw new IOException(what + " length " + n + " is not within the " + left + " bytes left in the record");
        }
        return (int) n;
    }

    /** An array or map block count, checked against the bytes left (each item takes at least one). */
    private long count(long n, String what) throws IOException {
        long left = remaining();
        if (n < 0 || n > left) {
            throw new IOException(what + " count " + n + " is not within the " + left + " bytes left in the record");
        }
        return n;
    }

    @Override
    public void readNull() throws IOException {
        in.readNull();
    }

    @Override
    public boolean readBoolean() throws IOException {
        return in.readBoolean();
    }

    @Override
    public int readInt() throws IOException {
        return in.readInt();
    }

    @Override
    public long readLong() throws IOException {
        return in.readLong();
    }

    @Override
    public float readFloat() throws IOException {
        return in.readFloat();
    }

    @Override
    public double readDouble() throws IOException {
        return in.readDouble();
    }

    @Override
    public Utf8 readString(Utf8 old) throws IOException {
        int n = length("string");
        Utf8 result = old != null ? old : new Utf8();
        result.setByteLength(n);
        in.readFixed(result.getBytes(), 0, n);
        return result;
    }

    @Override
    public String readString() throws IOException {
        return readString(scratch).toString();
    }

    @Override
    public void skipString() throws IOException {
        in.skipFixed(length("string"));
    }

    @Override
    public ByteBuffer readBytes(ByteBuffer old) throws IOException {
        int n = length("bytes");
        ByteBuffer result = old != null && old.hasArray() && n <= old.capacity() ? old.clear() : ByteBuffer.allocate(n);
        in.readFixed(result.array(), result.arrayOffset(), n);
        result.limit(n);
        return result;
    }

    @Override
    public void skipBytes() throws IOException {
        in.skipFixed(length("bytes"));
    }

    @Override
    public void readFixed(byte[] bytes, int start, int length) throws IOException {
        in.readFixed(bytes, start, length); // the length comes from the schema, not the record
    }

    @Override
    public void skipFixed(int length) throws IOException {
        in.skipFixed(length);
    }

    @Override
    public int readEnum() throws IOException {
        return in.readEnum();
    }

    @Override
    public long readArrayStart() throws IOException {
        return count(in.readArrayStart(), "array");
    }

    @Override
    public long arrayNext() throws IOException {
        return count(in.arrayNext(), "array");
    }

    @Override
    public long skipArray() throws IOException {
        return count(in.skipArray(), "array");
    }

    @Override
    public long readMapStart() throws IOException {
        return count(in.readMapStart(), "map");
    }

    @Override
    public long mapNext() throws IOException {
        return count(in.mapNext(), "map");
    }

    @Override
    public long skipMap() throws IOException {
        return count(in.skipMap(), "map");
    }

    @Override
    public int readIndex() throws IOException {
        return in.readIndex();
    }

    /**
     * Checks that every array item of {@code schema} (at any depth) takes at least one byte, so that the count
     * bound of this decoder never refuses a valid record (map entries always do: their key is a string).
     *
     * @throws IllegalArgumentException naming the array whose items can be empty
     */
    static void requireNonEmptyItems(Schema schema) {
        requireNonEmptyItems(schema, new HashSet<>());
    }

    private static void requireNonEmptyItems(Schema s, Set<String> visited) {
        switch (s.getType()) {
            case RECORD:
                if (visited.add(s.getFullName())) {
                    s.getFields().forEach(f -> requireNonEmptyItems(f.schema(), visited));
                }
                break;
            case ARRAY:
                if (canBeEmpty(s.getElementType(), new HashSet<>())) {
                    throw new IllegalArgumentException("array " + s + " has items that can take no bytes: the "
                            + "decoder's bound on array counts (at most the bytes left) would refuse valid records");
                }
                requireNonEmptyItems(s.getElementType(), visited);
                break;
            case MAP:
                requireNonEmptyItems(s.getValueType(), visited);
                break;
            case UNION:
                s.getTypes().forEach(t -> requireNonEmptyItems(t, visited));
                break;
            default:
                break;
        }
    }

    /** Whether a value of {@code s} can be encoded in zero bytes. */
    private static boolean canBeEmpty(Schema s, Set<String> visited) {
        switch (s.getType()) {
            case NULL:
                return true;
            case FIXED:
                return s.getFixedSize() == 0;
            case RECORD:
                if (!visited.add(s.getFullName())) {
                    return false; // a recursive record nests itself through a union or collection: at least one byte
                }
                return s.getFields().stream().allMatch(f -> canBeEmpty(f.schema(), visited));
            default:
                return false; // numbers, strings, bytes, enums, unions, arrays and maps take at least one byte
        }
    }
}
