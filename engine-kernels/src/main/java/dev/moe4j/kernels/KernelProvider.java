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
