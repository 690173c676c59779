package dev.moe4j.model;

import dev.moe4j.api.BadModelFileException;
import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufTensor;
import dev.moe4j.kernels.DType;
import dev.moe4j.kernels.Matrix;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Tensors of a GGUF file, by canonical name. */
public final class GgufTensorSource implements TensorSource {
    /**
     * System property: {@code false} keeps Q8_0/Q4_0/Q4_K/Q6_K matrices in the mapped file instead of repacking them.
     */
    public static final String REPACK_PROPERTY = "moe4j.repack";
    /**
     * System property: {@code true} gives Q4_0 matrices their rounded-activation form
     * ({@link Matrix#withRoundedActivations()}): decode rounds activations per block of 32, as llama.cpp does, and
     * runs faster, not with the F32 path's bits.
     */
    public static final String ROUNDED_ACTIVATIONS_PROPERTY = "moe4j.roundedActivations";

    private final GgufFile file;
    private final boolean repack;
    private final boolean roundedActivations;

    /**
     * Repacks Q8_0/Q4_0/Q4_K/Q6_K matrices unless {@value #REPACK_PROPERTY} is {@code false}; rounded activations for
     * Q4_0 if {@value #ROUNDED_ACTIVATIONS_PROPERTY} is {@code true}.
     */
    public GgufTensorSource(GgufFile file) {
        this(file, repackByDefault(), roundedActivationsByDefault());
    }

    /** Whether to repack: unless {@value #REPACK_PROPERTY} is {@code false}. */
    public static boolean repackByDefault() {
        return !"false".equalsIgnoreCase(System.getProperty(REPACK_PROPERTY));
    }

    /** Whether Q4_0 gets rounded activations: if {@value #ROUNDED_ACTIVATIONS_PROPERTY} is {@code true}. */
    public static boolean roundedActivationsByDefault() {
        return "true".equalsIgnoreCase(System.getProperty(ROUNDED_ACTIVATIONS_PROPERTY));
    }

    /** See {@link #GgufTensorSource(GgufFile, boolean, boolean)}, with F32 activations. */
    public GgufTensorSource(GgufFile file, boolean repack) {
        this(file, repack, false);
    }

    /**
     * @param repack copy Q8_0, Q4_0, Q4_K and Q6_K matrices at load into the interleaved layout their mat-vecs read
     *     several times faster ({@link Matrix#interleaved()}, with Q8_0 / Q4_0 block scales widened to floats beside
     *     them); this takes resident memory for the copies (file size, plus 4 bytes per 32 weights for Q8_0 and Q4_0),
     *     so a model larger than RAM should be loaded without it and run from the mapped file.
     * @param roundedActivations give Q4_0 matrices their {@linkplain Matrix#withRoundedActivations()
     *     rounded-activation form} instead of the interleaved copy (about the same resident memory): products of up
     *     to 4 tokens round activations per block of 32 as llama.cpp does and run faster; larger products widen the
     *     mapped file's blocks, with F32 activations
     */
    public GgufTensorSource(GgufFile file, boolean repack, boolean roundedActivations) {
        this.file = file;
        this.repack = repack;
        this.roundedActivations = roundedActivations;
    }

    @Override
    public String describe() {
        return file.path().toString();
    }

    @Override
    public boolean has(TensorName name, int layer) {
        return file.tensor(name.gguf(layer)) != null;
    }

    private GgufTensor require(TensorName name, int layer, long... expectedDims) {
        String ggufName = name.gguf(layer);
        GgufTensor t = file.tensor(ggufName);
        if (t == null) {
            throw new BadModelFileException(describe() + ": missing tensor '" + ggufName + "'");
        }
        if (!Arrays.equals(t.dims(), expectedDims)) {
            throw new BadModelFileException(describe() + ": tensor '" + ggufName + "' has GGML dims "
                    + Arrays.toString(t.dims()) + ", expected " + Arrays.toString(expectedDims));
        }
        if (t.type().dtype() == null) {
            throw new UnsupportedModelException(describe() + ": tensor '" + ggufName + "' has type " + t.type()
                    + ", which moe4j cannot compute with (supported: " + Arrays.toString(DType.values()) + ")");
        }
        return t;
    }

    @Override
    public Matrix matrix(TensorName name, int layer, int rows, int cols) {
        GgufTensor t = require(name, layer, cols, rows);
        return forKernels(new Matrix(t.name(), t.data(), t.type().dtype(), rows, cols));
    }

    @Override
    public float[] vector(TensorName name, int layer, int n) {
        GgufTensor t = require(name, layer, n);
        return TensorSource.widen(t.name(), t.data(), t.type().dtype(), n);
    }

    @Override
    public List<Matrix> experts(TensorName name, int layer, int experts, int rows, int cols) {
        GgufTensor t = require(name, layer, cols, rows, experts);
        Matrix all = new Matrix(t.name(), t.data(), t.type().dtype(), experts * rows, cols);
        List<Matrix> out = new ArrayList<>(experts);
        for (int e = 0; e < experts; e++) {
            out.add(forKernels(all.rowSlice(t.name() + "[" + e + "]", e * rows, rows)));
        }
        return out;
    }

    /**
     * Q8_0, Q4_0, Q4_K and Q6_K matrices are copied at load into the interleaved layout their mat-vecs stream fastest
     * ({@link Matrix#interleaved()}) unless repacking is off, Q4_0 given its rounded-activation form instead if asked;
     * other types are used in place, from the mapped file.
     */
    private Matrix forKernels(Matrix m) {
        if (roundedActivations && (m.type() == DType.Q4_0 || m.type() == DType.Q4_K)) {
            return m.withRoundedActivations();
        }
        return repack && Matrix.interleavable(m.type()) ? m.interleaved() : m;
    }
}
