package dev.moe4j.kernels.simd;

import dev.moe4j.kernels.KernelProvider;
import dev.moe4j.kernels.Matrix;
import dev.moe4j.kernels.Q4_KRounded;
import java.lang.foreign.MemorySegment;

/**
 * The Vector API twin of {@link dev.moe4j.kernels.ScalarKernels}, at one register width. Stateless and shared by
 * all threads: scratch arrays are allocated per call, except the several-token product's aligned panel, which each
 * thread keeps between calls ({@link TileMatmul}). With one token a product is a mat-vec that reads the weights
 * in their stored type and widens them in registers (one class per type, {@link CodedBlocks} for the formats of
 * small integer codes); with several tokens each weight row is widened once into scratch and multiplied with every
 * token ({@link TileMatmul}).
 *
 * <p>Results are deterministic: a call gives the same bits interpreted and compiled by C1 or C2, because sums of
 * lanes go through {@link Lanes#sum} (not {@code reduceLanes(ADD)}, whose order C2 and the Java fallback choose
 * differently) and exponentials through {@link Exp} (not the lanewise {@code EXP}, a vector math library in C2).
 * Products are batch-invariant: both paths sum each out[t][r] in {@link TileMatmul}'s canonical order, so a token
 * gets the same bits alone, batched with any others, and under any split of the rows.
 */
public final class VectorKernels implements KernelProvider {

    private final Lanes lanes;
    private final String name;

    /**
     * @param bits the register width, 128, 256 or 512, or 0 for the machine's preferred width. A width wider than
     *     the hardware's still computes the same results, slowly: tests use it to cover every width on any host.
     * @throws IllegalArgumentException for any other width
     */
    public VectorKernels(int bits) {
        this.lanes = Lanes.of(bits);
        this.name = "vector(" + lanes.floats().vectorBitSize() + "-bit)";
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return ActivationKernels.dot(lanes, a, aOff, b, bOff, n);
    }

    @Override
    public void axpy(float[] y, int yOff, float alpha, float[] x, int xOff, int n) {
        ActivationKernels.axpy(lanes, y, yOff, alpha, x, xOff, n);
    }

    @Override
    public void scale(float[] x, int off, float alpha, int n) {
        ActivationKernels.scale(lanes, x, off, alpha, n);
    }

    @Override
    public void rmsNorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps) {
        ActivationKernels.rmsNorm(lanes, out, outOff, x, xOff, weight, n, eps);
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        ActivationKernels.softmax(lanes, x, off, n);
    }

    @Override
    public void siluMul(float[] gate, int gateOff, float[] up, int upOff, int n) {
        ActivationKernels.siluMul(lanes, gate, gateOff, up, upOff, n);
    }

    @Override
    public void rope(float[] x, int off, int nHeads, int headDim, float[] cos, float[] sin) {
        ActivationKernels.rope(lanes, x, off, nHeads, headDim, cos, sin);
    }

    @Override
    public void gatedDeltaStep(float[] out, int outOff, float[] state, int stateOff, float[] q, int qOff, float[] k,
            int kOff, float[] v, int vOff, float g, float beta, int dk, int dv, float scale) {
        DeltaNetKernels.step(lanes, out, outOff, state, stateOff, q, qOff, k, kOff, v, vOff, g, beta, dk, dv, scale);
    }

    @Override
    public void gatedDeltaChunked(float[] out, int outOff, int outStride, float[] state, int stateOff, float[] q,
            int qOff, int qStride, float[] k, int kOff, int kStride, float[] v, int vOff, int vStride, float[] g,
            float[] beta, int gateOff, int gateStride, int nTokens, int dk, int dv, float scale) {
        DeltaNetKernels.chunked(lanes, out, outOff, outStride, state, stateOff, q, qOff, qStride, k, kOff, kStride, v,
                vOff, vStride, g, beta, gateOff, gateStride, nTokens, dk, dv, scale);
    }

    @Override
    public void causalConv1dSilu(float[] out, int outOff, int outStride, float[] x, int xOff, int xStride,
            float[] weight, float[] convState, int stateOff, int nTokens, int channels, int kernel) {
        DeltaNetKernels.causalConv1dSilu(lanes, out, outOff, outStride, x, xOff, xStride, weight, convState, stateOff,
                nTokens, channels, kernel);
    }

    @Override
    public void l2Normalize(float[] x, int off, int nHeads, int n, float eps) {
        DeltaNetKernels.l2Normalize(lanes, x, off, nHeads, n, eps);
    }

    @Override
    public void gatedRmsNorm(float[] out, int outOff, float[] x, int xOff, float[] z, int zOff, float[] weight,
            int nHeads, int n, float eps) {
        DeltaNetKernels.gatedRmsNorm(lanes, out, outOff, x, xOff, z, zOff, weight, nHeads, n, eps);
    }

    @Override
    public void attend(float[] out, int outOff, float[] q, int qOff, float[] keys, float[] values, int[] rows,
            int headOff, int len, int n, float scale, float[] scores) {
        AttentionKernels.attend(lanes, out, outOff, q, qOff, keys, values, rows, headOff, len, n, scale, scores);
    }

    @Override
    public void attend(float[] out, int[] outOffs, float[] q, int[] qOffs, int[] lens, int count, float[] keys,
            float[] values, int[] rows, int headOff, int n, float scale, float[] scores) {
        AttentionKernels.attend(lanes, out, outOffs, q, qOffs, lens, count, keys, values, rows, headOff, n, scale,
                scores);
    }

    @Override
    public void attendInColumnOrder(float[] out, int[] outOffs, float[] q, int[] qOffs, int[] lens, int count,
            float[] keys, float[] values, int[] rows, int headOff, int n, float scale, float[] scores) {
        AttentionKernels.attendInColumnOrder(lanes, out, outOffs, q, qOffs, lens, count, keys, values, rows, headOff,
                n, scale);
    }

    @Override
    public void dequantizeRow(Matrix w, int row, float[] out, int outOff) {
        widenRow(lanes, w, row, out, outOff);
    }

    @Override
    public void matmul(float[] out, Matrix w, float[] x, int nTokens, int rowStart, int rowEnd) {
        if (w.roundsActivations(nTokens)) {
            if (w.rounded() instanceof Q4_KRounded) {
                Q4_KRoundedRows.matvec(lanes, out, w, x, nTokens, rowStart, rowEnd);
            } else {
                Q4_0RoundedRows.matvec(lanes, out, w, x, nTokens, rowStart, rowEnd);
            }
            return;
        }
        if (w.sumsInColumnOrder(nTokens)) {
            Q4_0RoundedTile.matmul(lanes, out, w, x, nTokens, rowStart, rowEnd);
            return;
        }
        if (nTokens > 1) {
            TileMatmul.matmul(lanes, out, w, x, nTokens, rowStart, rowEnd);
            return;
        }
        switch (w.type()) {
            case F32 -> F32Rows.matvec(lanes, out, w, x, rowStart, rowEnd);
            case F16 -> F16Rows.matvec(lanes, out, w, x, rowStart, rowEnd);
            case BF16 -> BF16Rows.matvec(lanes, out, w, x, rowStart, rowEnd);
            case Q8_0 -> Q8_0Rows.matvec(lanes, out, w, x, rowStart, rowEnd);
            case Q4_0 -> Q4_0Rows.matvec(lanes, out, w, x, rowStart, rowEnd);
            case Q4_K -> Q4_KRows.matvec(lanes, out, w, x, rowStart, rowEnd);
            case Q6_K -> Q6_KRows.matvec(lanes, out, w, x, rowStart, rowEnd);
            case Q5_K -> {
                if (lanes.floats().length() == 16) {
                    Q5_KRows.matvec16(out, w, x, rowStart, rowEnd);
                } else {
                    coded(w).matvec(lanes, out, w, x, rowStart, rowEnd);
                }
            }
            case Q3_K -> {
                if (lanes.floats().length() == 16) {
                    Q3_KRows.matvec16(out, w, x, rowStart, rowEnd);
                } else {
                    coded(w).matvec(lanes, out, w, x, rowStart, rowEnd);
                }
            }
            case IQ4_XS -> {
                if (lanes.floats().length() == 16) {
                    IQ4_XSRows.matvec16(out, w, x, rowStart, rowEnd);
                } else {
                    coded(w).matvec(lanes, out, w, x, rowStart, rowEnd);
                }
            }
            default -> coded(w).matvec(lanes, out, w, x, rowStart, rowEnd);
        }
    }

    /** Row {@code row} of {@code w}, widened to F32 into out[outOff, outOff + w.cols()). */
    static void widenRow(Lanes lanes, Matrix w, int row, float[] out, int outOff) {
        switch (w.type()) {
            case F32 -> MemorySegment.copy(w.data(), Storage.LE_FLOAT, w.rowOffset(row), out, outOff, w.cols());
            case F16 -> F16Rows.widen(lanes, w, row, out, outOff);
            case BF16 -> BF16Rows.widen(lanes, w, row, out, outOff);
            case Q8_0 -> Q8_0Rows.widen(lanes, w, row, out, outOff);
            case Q4_0 -> Q4_0Rows.widen(lanes, w, row, out, outOff);
            case Q4_K -> Q4_KRows.widen(lanes, w, row, out, outOff);
            case Q6_K -> Q6_KRows.widen(lanes, w, row, out, outOff);
            default -> coded(w).widen(lanes, w, row, out, outOff);
        }
    }

    /** The kernels of the formats that {@link CodedBlocks} covers. */
    private static CodedBlocks coded(Matrix w) {
        return switch (w.type()) {
            case Q4_1 -> CodedFormats.Q4_1;
            case Q5_0 -> CodedFormats.Q5_0;
            case Q5_1 -> CodedFormats.Q5_1;
            case Q2_K -> CodedFormats.Q2_K;
            case Q3_K -> CodedFormats.Q3_K;
            case Q5_K -> CodedFormats.Q5_K;
            case IQ4_NL -> CodedFormats.IQ4_NL;
            case IQ4_XS -> CodedFormats.IQ4_XS;
            default -> throw new IllegalArgumentException(w.name() + ": no kernel for " + w.type());
        };
    }
}
