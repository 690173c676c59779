package dev.moe4j.kernels;

/**
 * The numerical kernels, one implementation in plain Java ({@link ScalarKernels}) and one on the Vector API
 * ({@code VectorKernels}). Both compute the same functions; results agree to float rounding.
 *
 * <p>Conventions: outputs come first; arrays are addressed by an offset and a length; activations are F32.
 * Methods are single-threaded: {@link Kernels} splits large work across the pool and checks shapes, so
 * implementations only assert.
 */
public interface KernelProvider {

    /** A short description for logs, e.g. {@code "vector(512-bit)"}. */
    String name();

    /** Σ a[aOff + i]·b[bOff + i] for i in [0, n). */
    float dot(float[] a, int aOff, float[] b, int bOff, int n);

    /** y[yOff + i] += alpha·x[xOff + i]. */
    void axpy(float[] y, int yOff, float alpha, float[] x, int xOff, int n);

    /** x[off + i] *= alpha. */
    void scale(float[] x, int off, float alpha, int n);

    /** out = x / sqrt(mean(x²) + eps) · weight, over n elements; out may alias x. */
    void rmsNorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps);

    /** In-place softmax over x[off, off + n), computed with the max subtracted. */
    void softmax(float[] x, int off, int n);

    /** gate[i] = silu(gate[i])·up[i], silu(z) = z / (1 + e^-z). */
    void siluMul(float[] gate, int gateOff, float[] up, int upOff, int n);

    /**
     * NeoX-layout rotary embedding of {@code nHeads} consecutive heads of {@code headDim} at {@code x[off]}:
     * element i pairs with i + headDim/2, rotated by the angle whose cosine and sine (attention factor already
     * applied) are cos[i] and sin[i], i in [0, headDim/2).
     */
    void rope(float[] x, int off, int nHeads, int headDim, float[] cos, float[] sin);

    /** See {@link GatedDeltaNet#step}: one token of one Gated DeltaNet value head, its state updated in place. */
    default void gatedDeltaStep(float[] out, int outOff, float[] state, int stateOff, float[] q, int qOff, float[] k,
            int kOff, float[] v, int vOff, float g, float beta, int dk, int dv, float scale) {
        GatedDeltaNet.step(out, outOff, state, stateOff, q, qOff, k, kOff, v, vOff, g, beta, dk, dv, scale);
    }

    /** See {@link GatedDeltaNet#chunked}: tokens of one Gated DeltaNet value head, 64-token chunks at a time. */
    default void gatedDeltaChunked(float[] out, int outOff, int outStride, float[] state, int stateOff, float[] q,
            int qOff, int qStride, float[] k, int kOff, int kStride, float[] v, int vOff, int vStride, float[] g,
            float[] beta, int gateOff, int gateStride, int nTokens, int dk, int dv, float scale) {
        GatedDeltaNet.chunked(out, outOff, outStride, state, stateOff, q, qOff, qStride, k, kOff, kStride, v, vOff,
                vStride, g, beta, gateOff, gateStride, nTokens, dk, dv, scale);
    }

    /** See {@link GatedDeltaNet#causalConv1dSilu}: causal depthwise convolution, SiLU, and the window carried on. */
    default void causalConv1dSilu(float[] out, int outOff, int outStride, float[] x, int xOff, int xStride,
            float[] weight, float[] convState, int stateOff, int nTokens, int channels, int kernel) {
        GatedDeltaNet.causalConv1dSilu(out, outOff, outStride, x, xOff, xStride, weight, convState, stateOff, nTokens,
                channels, kernel);
    }

    /** See {@link GatedDeltaNet#l2Normalize}: x / sqrt(Σx² + eps) per head, in place. */
    default void l2Normalize(float[] x, int off, int nHeads, int n, float eps) {
        GatedDeltaNet.l2Normalize(x, off, nHeads, n, eps);
    }

    /** See {@link GatedDeltaNet#gatedRmsNorm}: rmsNorm(x)·weight·silu(z) per head. */
    default void gatedRmsNorm(float[] out, int outOff, float[] x, int xOff, float[] z, int zOff, float[] weight,
            int nHeads, int n, float eps) {
        GatedDeltaNet.gatedRmsNorm(out, outOff, x, xOff, z, zOff, weight, nHeads, n, eps);
    }

    /**
     * One query head attending over {@code len} cached positions: score_p = scale·(q·k_p), softmax over p, then
     * out = Σ_p score_p·v_p, all vectors of n floats. The query is q[qOff, +n), position p's key is
     * keys[rows[p] + headOff, +n) and its value values[rows[p] + headOff, +n); {@code scores} is scratch of at
     * least len floats and holds the softmax weights afterwards.
     */
    void attend(float[] out, int outOff, float[] q, int qOff, float[] keys, float[] values, int[] rows, int headOff,
            int len, int n, float scale, float[] scores);

    /**
     * {@link #attend} for {@code count} queries over the same cached positions (the heads of one KV group, or one
     * head of consecutive tokens of a sequence): query i is q[qOffs[i], +n), sees the positions [0, lens[i]) and
     * writes out[outOffs[i], +n). {@code scores} is scratch of at least min(count, 4) × the largest len floats.
     * Each query gets exactly the bits {@link #attend} gives it alone.
     */
    void attend(float[] out, int[] outOffs, float[] q, int[] qOffs, int[] lens, int count, float[] keys,
            float[] values, int[] rows, int headOff, int n, float scale, float[] scores);

    /**
     * {@link #attend(float[], int[], float[], int[], int[], int, float[], float[], int[], int, int, float, float[])}
     * in column order, the order of the rounded-activation mode's prompts ({@link Q4_0Rounded#matmulScalar}): each
     * score is scale·s with s one fma chain over the columns in order (s = fma(q[c], k[c], s) from 0, c = 0, 1, …),
     * the softmax is {@link #softmax}'s, and each output column one fma chain over the positions in order. A query's
     * bits do not depend on the other queries of the call. {@code scores} is scratch of at least the largest len.
     */
    void attendInColumnOrder(float[] out, int[] outOffs, float[] q, int[] qOffs, int[] lens, int count, float[] keys,
            float[] values, int[] rows, int headOff, int n, float scale, float[] scores);

    /** Row {@code row} of {@code w}, widened to F32, into out[outOff, outOff + w.cols()). */
    void dequantizeRow(Matrix w, int row, float[] out, int outOff);

    /**
     * out[t][r] = Σ_c w[r][c]·x[t][c] for tokens t in [0, nTokens) and rows r in [rowStart, rowEnd).
     * x is {@code [nTokens][w.cols()]} and out {@code [nTokens][w.rows()]}, both dense from offset 0.
     * With one token this is a mat-vec; with many, each weight row is widened once and reused for all tokens.
     */
    void matmul(float[] out, Matrix w, float[] x, int nTokens, int rowStart, int rowEnd);
}
