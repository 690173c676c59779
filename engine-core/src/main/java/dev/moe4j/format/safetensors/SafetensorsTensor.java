package dev.moe4j.format.safetensors;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One tensor of a safetensors file. {@code shape} is in PyTorch order (a weight matrix {@code [out][in]} has shape
 * {@code [rows, cols]}, row-major); {@code data} is a little-endian view over the mapped file.
 */
public record SafetensorsTensor(String name, SafetensorsType type, long[] shape, MemorySegment data) {

    public SafetensorsTensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i];
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape);
    }
}
