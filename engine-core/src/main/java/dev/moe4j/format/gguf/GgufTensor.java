package dev.moe4j.format.gguf;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One tensor of a GGUF file. {@code dims} are in GGML order: {@code dims[0]} varies fastest, so a weight matrix
 * {@code [rows][cols]} has dims {@code [cols, rows]} and a stack of experts {@code [cols, rows, experts]}.
 * {@code data} is a view over the mapped file.
 */
public record GgufTensor(String name, GgmlType type, long[] dims, long elementCount, long offset,
                         MemorySegment data) {

    public GgufTensor {
        dims = dims.clone();
    }

    @Override
    public long[] dims() {
        return dims.clone();
    }

    public int rank() {
        return dims.length;
    }

    public long dim(int i) {
        return dims[i];
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(dims);
    }
}
