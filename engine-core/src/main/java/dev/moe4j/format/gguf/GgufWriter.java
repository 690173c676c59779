package dev.moe4j.format.gguf;

import static dev.moe4j.format.gguf.GgufMetadata.ARRAY;
import static dev.moe4j.format.gguf.GgufMetadata.BOOL;
import static dev.moe4j.format.gguf.GgufMetadata.FLOAT32;
import static dev.moe4j.format.gguf.GgufMetadata.FLOAT64;
import static dev.moe4j.format.gguf.GgufMetadata.INT16;
import static dev.moe4j.format.gguf.GgufMetadata.INT32;
import static dev.moe4j.format.gguf.GgufMetadata.INT64;
import static dev.moe4j.format.gguf.GgufMetadata.INT8;
import static dev.moe4j.format.gguf.GgufMetadata.STRING;
import static dev.moe4j.format.gguf.GgufMetadata.UINT16;
import static dev.moe4j.format.gguf.GgufMetadata.UINT32;
import static dev.moe4j.format.gguf.GgufMetadata.UINT64;
import static dev.moe4j.format.gguf.GgufMetadata.UINT8;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Writes GGUF v3 files: metadata with explicit value types, then the tensor directory and the aligned tensor data.
 * Used to make synthetic models, quantized copies and (in tests) deliberately broken files.
 */
public final class GgufWriter {
    private record Value(int type, int elementType, Object value) {}

    /** A tensor's bytes: given, or made by {@code producer} in an arena of their own while the file is written. */
    private record Tensor(String name, GgmlType type, long[] dims, long byteSize, MemorySegment data,
                          Function<Arena, MemorySegment> producer) {}

    private final Map<String, Value> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private int alignment = 32;

    /** Sets a value of GGUF type {@code type}; for arrays give {@code ARRAY} and the element type. */
    public GgufWriter put(String key, int type, int elementType, Object value) {
        metadata.put(key, new Value(type, elementType, value));
        if (key.equals("general.alignment")) {
            alignment = ((Number) value).intValue();
        }
        return this;
    }

    public GgufWriter putString(String key, String value) {
        return put(key, STRING, -1, value);
    }

    public GgufWriter putU32(String key, long value) {
        return put(key, UINT32, -1, value);
    }

    public GgufWriter putF32(String key, float value) {
        return put(key, FLOAT32, -1, value);
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, BOOL, -1, value);
    }

    public GgufWriter remove(String key) {
        metadata.remove(key);
        return this;
    }

    /** Copies every key of {@code source} with its original type. */
    public GgufWriter putAll(GgufMetadata source) {
        for (Map.Entry<String, Object> e : source.asMap().entrySet()) {
            int[] type = source.typeOf(e.getKey());
            put(e.getKey(), type[0], type.length > 1 ? type[1] : -1, e.getValue());
        }
        return this;
    }

    /** Adds a tensor; {@code dims} in GGML order (fastest first); {@code data} is copied when written. */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, MemorySegment data) {
        tensors.add(new Tensor(name, type, dims.clone(), data.byteSize(), data, null));
        return this;
    }

    /**
     * Adds a tensor of {@code byteSize} bytes whose data {@code producer} makes only when the file is written, in an
     * arena closed right after, so that files larger than memory can be written one tensor at a time.
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, long byteSize,
                                Function<Arena, MemorySegment> producer) {
        tensors.add(new Tensor(name, type, dims.clone(), byteSize, null, producer));
        return this;
    }

    public void write(Path path) throws IOException {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(path), 1 << 20)) {
            Sink sink = new Sink(out);
            sink.bytes("GGUF".getBytes(StandardCharsets.US_ASCII));
            sink.i32(3);
            sink.i64(tensors.size());
            sink.i64(metadata.size());
            for (Map.Entry<String, Value> e : metadata.entrySet()) {
                sink.string(e.getKey());
                sink.i32(e.getValue().type());
                writeValue(sink, e.getValue().type(), e.getValue().elementType(), e.getValue().value());
            }
            long offset = 0;
            List<Long> offsets = new ArrayList<>();
            for (Tensor t : tensors) {
                sink.string(t.name());
                sink.i32(t.dims().length);
                for (long d : t.dims()) {
                    sink.i64(d);
                }
                sink.i32(t.type().id());
                sink.i64(offset);
                offsets.add(offset);
                offset = alignUp(offset + t.byteSize());
            }
            sink.pad(alignUp(sink.written) - sink.written);
            for (int i = 0; i < tensors.size(); i++) {
                Tensor t = tensors.get(i);
                if (t.producer() == null) {
                    copy(t.data(), sink);
                } else {
                    try (Arena arena = Arena.ofShared()) {
                        MemorySegment data = t.producer().apply(arena);
                        if (data.byteSize() != t.byteSize()) {
                            throw new IllegalStateException(t.name() + ": made " + data.byteSize()
                                    + " bytes, declared " + t.byteSize());
                        }
                        copy(data, sink);
                    }
                }
                if (i + 1 < tensors.size()) {
                    sink.pad(alignUp(t.byteSize()) - t.byteSize());
                }
            }
        }
    }

    private static void copy(MemorySegment data, Sink sink) throws IOException {
        byte[] chunk = new byte[1 << 16];
        for (long pos = 0; pos < data.byteSize(); pos += chunk.length) {
            int n = (int) Math.min(chunk.length, data.byteSize() - pos);
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, pos, chunk, 0, n);
            sink.bytes(chunk, n);
        }
    }

    private long alignUp(long v) {
        return (v + alignment - 1) / alignment * alignment;
    }

    private static void writeValue(Sink sink, int type, int elementType, Object v) throws IOException {
        switch (type) {
            case UINT8, INT8 -> sink.bytes(new byte[] {((Number) v).byteValue()});
            case UINT16, INT16 -> sink.i16(((Number) v).shortValue());
            case UINT32, INT32 -> sink.i32(((Number) v).intValue());
            case FLOAT32 -> sink.i32(Float.floatToRawIntBits(((Number) v).floatValue()));
            case BOOL -> sink.bytes(new byte[] {(byte) (((Boolean) v) ? 1 : 0)});
            case STRING -> sink.string((String) v);
            case UINT64, INT64 -> sink.i64(((Number) v).longValue());
            case FLOAT64 -> sink.i64(Double.doubleToRawLongBits(((Number) v).doubleValue()));
            case ARRAY -> writeArray(sink, elementType, v);
            default -> throw new IllegalArgumentException("unknown GGUF value type " + type);
        }
    }

    private static void writeArray(Sink sink, int elementType, Object v) throws IOException {
        sink.i32(elementType);
        switch (v) {
            case int[] a -> {
                sink.i64(a.length);
                for (int x : a) {
                    writeValue(sink, elementType, -1, x);
                }
            }
            case long[] a -> {
                sink.i64(a.length);
                for (long x : a) {
                    writeValue(sink, elementType, -1, x);
                }
            }
            case float[] a -> {
                sink.i64(a.length);
                for (float x : a) {
                    writeValue(sink, elementType, -1, x);
                }
            }
            case double[] a -> {
                sink.i64(a.length);
                for (double x : a) {
                    writeValue(sink, elementType, -1, x);
                }
            }
            case boolean[] a -> {
                sink.i64(a.length);
                for (boolean x : a) {
                    writeValue(sink, elementType, -1, x);
                }
            }
            case String[] a -> {
                sink.i64(a.length);
                for (String x : a) {
                    sink.string(x);
                }
            }
            case List<?> nested -> {
                // arrays of arrays: each element carries its own element type; we only write int32 arrays here
                sink.i64(nested.size());
                for (Object x : nested) {
                    writeArray(sink, x instanceof String[] ? STRING : INT32, x);
                }
            }
            default -> throw new IllegalArgumentException("cannot write " + v.getClass() + " as a GGUF array");
        }
    }

    /** Little-endian primitives to a stream, counting bytes. */
    private static final class Sink {
        private final OutputStream out;
        private final ByteBuffer buf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        long written;

        Sink(OutputStream out) {
            this.out = out;
        }

        void bytes(byte[] b) throws IOException {
            bytes(b, b.length);
        }

        void bytes(byte[] b, int n) throws IOException {
            out.write(b, 0, n);
            written += n;
        }

        void i16(short v) throws IOException {
            buf.clear();
            buf.putShort(v);
            bytes(buf.array(), 2);
        }

        void i32(int v) throws IOException {
            buf.clear();
            buf.putInt(v);
            bytes(buf.array(), 4);
        }

        void i64(long v) throws IOException {
            buf.clear();
            buf.putLong(v);
            bytes(buf.array(), 8);
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            bytes(b);
        }

        void pad(long n) throws IOException {
            for (long i = 0; i < n; i++) {
                out.write(0);
            }
            written += n;
        }
    }
}
