package dev.moe4j.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The opt-in rounded-activation form of a Q4_0 matrix, for products of up to {@link #MAX_TOKENS} tokens (decode).
 * As in llama.cpp's Q4_0 path, the activation is rounded per block of 32, here to {@code q = rint(x / dx)} with
 * {@code dx = max|x| / 255} (llama.cpp: 127, an 8-bit Q8_0 block with an f16 scale); each block's dot product with
 * the weights' 4-bit quants is then an exact integer, scaled once:
 * <pre>
 *   out[r] = Σ_b fma-in-order( (float) s[r][b], float(d[r][b] · dx[b]) ),   s[r][b] = Σ_i (q_w − 8)·q_x  (exact)
 * </pre>
 * accumulated block by block with {@link Math#fma} from 0. The integers let the vector kernel multiply in 16-bit
 * lanes, 32 a 512-bit register instead of 16 floats, and skip the per-weight float conversion: about half the
 * instructions per weight. Why 255: each half block's sum, Σ of 16 products of at most 8·255, still fits 16 bits,
 * and the rounding error is half llama.cpp's (a quarter of its squared error); the result differs from the F32
 * product by that rounding, and tests hold it to llama.cpp's own error on the reference fixtures.
 *
 * <p>Layout, made once at load ({@link Matrix#withRoundedActivations()}): rows in groups of {@link #ROWS}, one row a
 * lane. For group g, block b, byte j ∈ [0, 16) of the Q4_0 block: 32 bytes, lane l holding byte j of row
 * 32g + l with its high nibble xor 8, so that the sign-extended byte shifted right by 4 is {@code q − 8} of weight
 * j + 16, while its low nibble is weight j's {@code q} (the −8 is taken off once per block as 8·Σ q_x). Then the 32
 * rows' f16 scales d of block b: 576 bytes per group and block, one stream per group, 0.5625 bytes a weight like the
 * file (decode is bound by memory; float scales, 0.625 bytes a weight, measured slower). A last group of fewer rows
 * is padded with zero bytes and zero scales. Scales must be finite (the kernel widens them with a shift and a
 * multiply, exact for every finite half). The matrix's own blocks stay where they are: products with several
 * tokens (prefill) widen them to F32 as before, from the mapped file, so the resident copy is this form only
 * (against 0.6875 bytes a weight for the interleaved copy it replaces).
 *
 * <p>This class is the specification; {@link #matvecScalar} computes it from the matrix's original blocks, and the
 * vector kernel must give the same bits.
 *
 * <p>Products of more than {@link #MAX_TOKENS} tokens (prefill) keep F32 activations but, in this mode, sum in
 * <em>column order</em> ({@link #matmulScalar}): out[t][r] is one fused multiply-add chain over the columns in
 * increasing order from 0, on the exactly widened weights {@code d·(q − 8)}. That order lets the kernel hold rows in
 * the lanes and broadcast each token's activation ({@code Q4_0RoundedTile}: no sums across lanes, a register of
 * weights used by six tokens), which runs near the FMA peak; it is not the canonical lane order of the default mode's
 * products, so here a token's prefill result differs, in the last bits, from its one-token result. Either way a token's
 * result never depends on the other tokens of its batch or on how rows are split.
 */
public final class Q4_0Rounded implements RoundedForm {

    /** Rows per group: one per 16-bit lane of a 512-bit register. */
    public static final int ROWS = RoundedForm.ROWS;
    /**
     * Tokens up to which a product takes this form (a decode step of up to this many sequences): each token's
     * result is the one-token product's, whatever the batch. Larger batches (prefill) keep F32 activations and sum
     * in column order ({@link #matmulScalar}).
     */
    public static final int MAX_TOKENS = RoundedForm.MAX_TOKENS;
    /** Rounding steps either side of 0: activations are rounded to q·dx with |q| ≤ STEPS. */
    public static final float STEPS = 255f;
    private static final int BLOCK = 32;
    private static final int HALF = 16;
    /** Bytes of one group's block: 16 × 32 nibble bytes, then 32 f16 scales. */
    public static final int GROUP_BLOCK_BYTES = HALF * ROWS + ROWS * 2;
    /** Offset of the scales inside a group's block. */
    public static final int SCALES_AT = HALF * ROWS;
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int rows;
    private final int cols;
    private final MemorySegment data; // [group][block] {[16][32] bytes, [32] f16}

    private Q4_0Rounded(int rows, int cols, MemorySegment data) {
        this.rows = rows;
        this.cols = cols;
        this.data = data;
    }

    /** The form of a Q4_0 matrix in either layout, copied into native memory. */
    static Q4_0Rounded of(Matrix w) {
        if (w.type() != DType.Q4_0) {
            throw new IllegalArgumentException(
                    w.name() + ": rounded activations are for Q4_0 matrices, not " + w.type());
        }
        MemorySegment out = RoundedForm.repack(w, GROUP_BLOCK_BYTES, (from, at, l, to, row, block) -> {
            if ((from[at + 1] & 0x7C) == 0x7C) {
                throw new IllegalArgumentException(w.name() + ": row " + row + ", block " + block
                        + " has a scale that is not finite");
            }
            to[SCALES_AT + 2 * l] = from[at];
            to[SCALES_AT + 2 * l + 1] = from[at + 1];
            for (int j = 0; j < HALF; j++) {
                to[j * ROWS + l] = (byte) (from[at + 2 + j] ^ 0x80);
            }
        });
        return new Q4_0Rounded(w.rows(), w.cols(), out);
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    /** {@code [group][block]} of {@link #GROUP_BLOCK_BYTES}, see the class comment. */
    @Override
    public MemorySegment data() {
        return data;
    }

    @Override
    public Q4_0Rounded rowSlice(int from, int count) {
        return new Q4_0Rounded(count, cols,
                RoundedForm.slice(data, rows, cols / BLOCK, GROUP_BLOCK_BYTES, from, count));
    }

    /**
     * Rounds x[xOff, xOff + cols) per block of 32: {@code dx[b] = max|x| / STEPS}, {@code q = rint(x · (1/dx))} (0
     * for an all-zero block), so |q| ≤ STEPS. {@code lowSums[b]} = Σ q over the block's first 16 values.
     */
    public static void quantizeActivations(float[] x, int xOff, int cols, short[] q, float[] dx, int[] lowSums) {
        for (int b = 0; b < cols / BLOCK; b++) {
            float amax = 0f;
            for (int i = 0; i < BLOCK; i++) {
                amax = Math.max(amax, Math.abs(x[xOff + b * BLOCK + i]));
            }
            float d = amax / STEPS;
            float id = d != 0f ? 1f / d : 0f;
            int low = 0;
            for (int i = 0; i < BLOCK; i++) {
                int v = (int) Math.rint(x[xOff + b * BLOCK + i] * id);
                q[b * BLOCK + i] = (short) v;
                if (i < HALF) {
                    low += v;
                }
            }
            dx[b] = d;
            lowSums[b] = low;
        }
    }

    /**
     * The specification, from {@code w}'s own Q4_0 blocks (either layout): out[t][r] for the tokens t in [0, nTokens)
     * of x ({@code [nTokens][cols]}) and r in [rowStart, rowEnd), each token as in the class comment on its own.
     */
    public static void matvecScalar(float[] out, Matrix w, float[] x, int nTokens, int rowStart, int rowEnd) {
        for (int t = 0; t < nTokens; t++) {
            matvecScalar(out, t * w.rows(), w, x, t * w.cols(), rowStart, rowEnd);
        }
    }

    /**
     * The specification of products of more than {@link #MAX_TOKENS} tokens in this mode: out[t][r] =
     * fma(w[r][cols−1], x[t][cols−1], … fma(w[r][1], x[t][1], fma(w[r][0], x[t][0], 0)) …), the weights widened
     * exactly from {@code w}'s own blocks (either layout), for t in [0, nTokens) and r in [rowStart, rowEnd).
     */
    public static void matmulScalar(float[] out, Matrix w, float[] x, int nTokens, int rowStart, int rowEnd) {
        int cols = w.cols();
        float[] row = new float[cols];
        for (int r = rowStart; r < rowEnd; r++) {
            ScalarKernels.INSTANCE.dequantizeRow(w, r, row, 0); // GGML's scalar dequantiser: d·(q − 8), exact
            for (int t = 0; t < nTokens; t++) {
                float acc = 0f;
                for (int c = 0; c < cols; c++) {
                    acc = Math.fma(row[c], x[t * cols + c], acc);
                }
                out[t * w.rows() + r] = acc;
            }
        }
    }

    private static void matvecScalar(float[] out, int outOff, Matrix w, float[] x, int xOff, int rowStart,
            int rowEnd) {
        int blocks = w.blocksPerRow();
        short[] q = new short[w.cols()];
        float[] dx = new float[blocks];
        quantizeActivations(x, xOff, w.cols(), q, dx, new int[blocks]);
        MemorySegment data = w.data();
        for (int r = rowStart; r < rowEnd; r++) {
            float acc = 0f;
            for (int b = 0; b < blocks; b++) {
                long at = w.blockOffset(r, b);
                float d = Float.float16ToFloat(data.get(LE_SHORT, at));
                int s = 0;
                for (int j = 0; j < HALF; j++) {
                    int packed = data.get(ValueLayout.JAVA_BYTE, at + 2 + j) & 0xFF;
                    s += ((packed & 15) - 8) * q[b * BLOCK + j] + ((packed >>> 4) - 8) * q[b * BLOCK + HALF + j];
                }
                acc = Math.fma((float) s, d * dx[b], acc);
            }
            out[outOff + r] = acc;
        }
    }

}
