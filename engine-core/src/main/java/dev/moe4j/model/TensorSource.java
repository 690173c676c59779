package dev.moe4j.model;

import dev.moe4j.kernels.DType;
import dev.moe4j.kernels.Kernels;
import dev.moe4j.kernels.Matrix;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Named weight tensors of one checkpoint (a GGUF file, or later a safetensors directory), handed out as kernel
 * matrices with their shapes checked. Implementations raise {@code BadModelFileException} naming the tensor when
 * it is missing or has the wrong shape, and {@code UnsupportedModelException} for a type moe4j cannot compute with.
 */
public interface TensorSource {

    /** For messages: the file or directory. */
    String describe();

    boolean has(TensorName name, int layer);

    /** A {@code [rows][cols]} matrix (layer ignored for global tensors). */
    Matrix matrix(TensorName name, int layer, int rows, int cols);

    /** A 1-D tensor of {@code n} values, widened to F32. */
    float[] vector(TensorName name, int layer, int n);

    /** A small 2-D tensor {@code [rows][cols]} (a convolution's taps, say), widened to F32, row-major. */
    default float[] floats(TensorName name, int layer, int rows, int cols) {
        Matrix m = matrix(name, layer, rows, cols);
        float[] out = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++) {
            Kernels.get().dequantizeRow(m, r, out, r * cols);
        }
        return out;
    }

    /** A vector of {@code n} values stored as [n] or as one row [1][n] (converters write either), widened to F32. */
    default float[] row(TensorName name, int layer, int n) {
        try {
            return vector(name, layer, n);
        } catch (dev.moe4j.api.BadModelFileException oneDimensional) {
            try {
                return floats(name, layer, 1, n);
            } catch (dev.moe4j.api.BadModelFileException twoDimensional) {
                oneDimensional.addSuppressed(twoDimensional);
                throw oneDimensional;
            }
        }
    }

    /** {@code experts} matrices {@code [rows][cols]}, one per expert, as views (no copies). */
    List<Matrix> experts(TensorName name, int layer, int experts, int rows, int cols);

    /** A 1-D tensor of any storage type, widened to F32 (shared by the implementations). */
    static float[] widen(String name, MemorySegment data, DType type, int n) {
        float[] out = new float[n];
        Kernels.get().dequantizeRow(new Matrix(name, data, type, 1, n), 0, out, 0);
        return out;
    }
}
