package dev.moe4j.kernels;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A read-only row-major weight matrix {@code [rows][cols]} in little-endian storage of type {@code type},
 * usually a view over a memory-mapped model file. Row {@code r} starts at byte {@code r * rowBytes()}.
 */
public record Matrix(String name, MemorySegment data, DType type, int rows, int cols) {

    public Matrix {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(type, "type");
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException(name + ": shape [" + rows + "][" + cols + "] must be positive");
        }
        long expected = Math.multiplyExact((long) rows, type.bytesFor(cols));
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException(name + ": " + type + " [" + rows + "][" + cols + "] needs "
                    + expected + " bytes, storage has " + data.byteSize());
        }
    }

    public long rowBytes() {
        return type.bytesFor(cols);
    }

    /** Byte offset of row {@code row} inside {@link #data()}. */
    public long rowOffset(int row) {
        return row * rowBytes();
    }

    /** Rows {@code [from, from + count)} as a matrix of their own (a view, no copy). */
    public Matrix rowSlice(String sliceName, int from, int count) {
        Objects.checkFromIndexSize(from, count, rows);
        return new Matrix(sliceName, data.asSlice(rowOffset(from), count * rowBytes()), type, count, cols);
    }
}
