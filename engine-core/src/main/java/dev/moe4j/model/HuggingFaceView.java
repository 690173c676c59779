package dev.moe4j.model;

import dev.moe4j.kernels.Matrix;
import dev.moe4j.kernels.WeightMemory;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A Hugging Face checkpoint's tensors in the layouts the blocks read, for an architecture whose Hugging Face layout
 * differs from GGUF's in some tensors: every request goes to the checkpoint, and the architecture, in its own file,
 * overrides those it stores differently ({@link Architecture#huggingFaceTensors}). The blocks then compute the same
 * way from either format.
 */
public abstract class HuggingFaceView implements TensorSource {
    protected final SafetensorsTensorSource checkpoint;

    protected HuggingFaceView(SafetensorsTensorSource checkpoint) {
        this.checkpoint = checkpoint;
    }

    @Override
    public String describe() {
        return checkpoint.describe();
    }

    @Override
    public boolean has(TensorName name, int layer) {
        return checkpoint.has(name, layer);
    }

    @Override
    public Matrix matrix(TensorName name, int layer, int rows, int cols) {
        return checkpoint.matrix(name, layer, rows, cols);
    }

    @Override
    public float[] vector(TensorName name, int layer, int n) {
        return checkpoint.vector(name, layer, n);
    }

    @Override
    public float[] floats(TensorName name, int layer, int rows, int cols) {
        return checkpoint.floats(name, layer, rows, cols);
    }

    @Override
    public List<Matrix> experts(TensorName name, int layer, int experts, int rows, int cols) {
        return checkpoint.experts(name, layer, experts, rows, cols);
    }

    /** {@code 1 + w} for each weight: a zero-centred RMSNorm weight as GGUF stores it (what the norm multiplies by). */
    public static float[] plusOne(float[] w) {
        float[] out = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            out[i] = 1f + w[i];
        }
        return out;
    }

    /**
     * Rows {@code rows[0], rows[1], …} of a row-major matrix copied, in that order, into a new matrix of the same
     * type (in native memory, freed when the matrix is no longer reachable).
     */
    public static Matrix gatherRows(Matrix m, String name, int[] rows) {
        if (m.rowGroup() != 1) {
            throw new IllegalArgumentException(m.name() + " is interleaved; gather rows from the row-major layout");
        }
        long rowBytes = m.rowBytes();
        // weight memory, not the arena: a full-size model's copies must not count against the direct-memory limit
        MemorySegment copy = WeightMemory.allocate(Math.multiplyExact(rowBytes, (long) rows.length));
        for (int i = 0; i < rows.length; i++) {
            MemorySegment.copy(m.data(), m.rowOffset(rows[i]), copy, i * rowBytes, rowBytes);
        }
        return new Matrix(name, copy, m.type(), rows.length, m.cols());
    }
}
