package dev.moe4j.kernels;

import dev.moe4j.kernels.quant.BlockFormat;
import dev.moe4j.kernels.quant.Q4_K;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The rounded-activation form of a Q4_K matrix, for products of up to {@link #MAX_TOKENS} tokens (decode). As in
 * llama.cpp's K-quant path, the activation is rounded per block of 256, here to {@code q = rint(x / dx)} with
 * {@code dx = max|x| / 255} (llama.cpp: 127, its 8-bit Q8_K); with {@code X_s = Σ q} over sub-block s (32 values),
 * a row's block of weights {@code w = d·sc_s·q_w − dmin·m_s} then gives two exact integers,
 * <pre>
 *   I = Σ_s sc_s · Σ_{i∈s} q_w·q_x,     M = Σ_s m_s · X_s,
 *   out[r] = Σ_b, in order, from 0:  acc = fma((float) I, d·dx, acc);  acc = fma((float) M, −(dmin·dx), acc)
 * </pre>
 * with {@link Math#fma}, d and dmin the block's halves widened. |I| &lt; 8·63·32·15·255 &lt; 2^31. The integers let
 * the vector kernel multiply in 16-bit lanes, 32 rows a 512-bit register, and skip the per-weight float conversion.
 * Why 255 and blocks of 256: sums of 16 products {@code (q_w − 8)·q_x} fit 16 bits (at most 16·8·255), and one scale a
 * block keeps the per-block float work to two fmas; the rounding error is then half llama.cpp's. The result
 * differs from the F32 product by that rounding; tests hold it to llama.cpp's own error on the reference fixtures.
 *
 * <p>Layout, made once at load ({@link Matrix#withRoundedActivations()}): rows in groups of {@link #ROWS}, one row a
 * lane. For group g and block b, {@link #GROUP_BLOCK_BYTES} bytes: first, for each byte j ∈ [0, 128) of the block's
 * quants, 32 bytes, lane l holding byte j of row 32g + l with its high nibble xor 8 (so that the sign-extended byte
 * shifted right by 4 is {@code q − 8} of the high-nibble weight, while the low nibble is its weight's {@code q}); then
 * for each sub-block s, 32 shorts {@code sc_s | m_s << 8} (the unpacked 6-bit scale and min); then the 32 rows' f16
 * d, then their f16 dmin. 0.578 bytes a weight against the file's 0.5625. A last group of fewer rows is padded with
 * zeros. Halves must be finite (the kernel widens them with a shift and a multiply, exact for every finite half).
 * The matrix's own blocks stay where they are: products of more tokens (prefill) widen them to F32 as by default.
 *
 * <p>This class is the specification; {@link #matvecScalar} computes it from the matrix's original blocks, and the
 * vector kernel must give the same bits.
 */
public final class Q4_KRounded implements RoundedForm {

    /** Rows per group. */
    public static final int ROWS = RoundedForm.ROWS;
    /** Tokens up to which a product takes this form. */
    public static final int MAX_TOKENS = RoundedForm.MAX_TOKENS;
    /** Rounding steps either side of 0: activations are rounded to q·dx with |q| ≤ STEPS. */
    public static final float STEPS = 255f;
    /** Values a block (and an activation's rounding block). */
    public static final int BLOCK = 256;
    /** Values a sub-block. */
    public static final int SUB = 32;
    private static final int QUANT_BYTES = 128;
    /** Offset of the sub-blocks' {@code sc | m << 8} shorts inside a group's block. */
    public static final int SCALES_AT = QUANT_BYTES * ROWS;
    /** Offset of the rows' f16 d inside a group's block. */
    public static final int D_AT = SCALES_AT + 8 * ROWS * 2;
    /** Offset of the rows' f16 dmin inside a group's block. */
    public static final int DMIN_AT = D_AT + ROWS * 2;
    /** Bytes of one group's block. */
    public static final int GROUP_BLOCK_BYTES = DMIN_AT + ROWS * 2;
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int rows;
    private final int cols;
    private final MemorySegment data;

    private Q4_KRounded(int rows, int cols, MemorySegment data) {
        this.rows = rows;
        this.cols = cols;
        this.data = data;
    }

    /** The form of a Q4_K matrix in either layout, copied into native memory. */
    static Q4_KRounded of(Matrix w) {
        if (w.type() != DType.Q4_K) {
            throw new IllegalArgumentException(
                    w.name() + ": this rounded-activation form is for Q4_K matrices, not " + w.type());
        }
        MemorySegment out = RoundedForm.repack(w, GROUP_BLOCK_BYTES, (from, at, l, to, row, block) -> {
            if ((from[at + 1] & 0x7C) == 0x7C || (from[at + 3] & 0x7C) == 0x7C) {
                throw new IllegalArgumentException(w.name() + ": row " + row + ", block " + block
                        + " has a scale that is not finite");
            }
            MemorySegment packed = MemorySegment.ofArray(from);
            for (int j = 0; j < QUANT_BYTES; j++) {
                to[j * ROWS + l] = (byte) (from[at + 16 + j] ^ 0x80);
            }
            for (int s = 0; s < 8; s++) {
                to[SCALES_AT + 2 * (s * ROWS + l)] = (byte) Q4_K.scale(packed, at + 4, s);
                to[SCALES_AT + 2 * (s * ROWS + l) + 1] = (byte) Q4_K.min(packed, at + 4, s);
            }
            to[D_AT + 2 * l] = from[at];
            to[D_AT + 2 * l + 1] = from[at + 1];
            to[DMIN_AT + 2 * l] = from[at + 2];
            to[DMIN_AT + 2 * l + 1] = from[at + 3];
        });
        return new Q4_KRounded(w.rows(), w.cols(), out);
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
    public Q4_KRounded rowSlice(int from, int count) {
        return new Q4_KRounded(count, cols,
                RoundedForm.slice(data, rows, cols / BLOCK, GROUP_BLOCK_BYTES, from, count));
    }

    /**
     * Rounds x[xOff, xOff + cols) per block of 256: {@code dx[b] = max|x| / STEPS}, {@code q = rint(x · (1/dx))} (0
     * for an all-zero block), so |q| ≤ STEPS; {@code subSums[8b + s]} = Σ q over sub-block s of block b.
     */
    public static void quantizeActivations(float[] x, int xOff, int cols, short[] q, float[] dx, int[] subSums) {
        for (int b = 0; b < cols / BLOCK; b++) {
            float amax = 0f;
            for (int i = 0; i < BLOCK; i++) {
                amax = Math.max(amax, Math.abs(x[xOff + b * BLOCK + i]));
            }
            float d = amax / STEPS;
            float id = d != 0f ? 1f / d : 0f;
            for (int s = 0; s < 8; s++) {
                int sum = 0;
                for (int i = s * SUB; i < (s + 1) * SUB; i++) {
                    int v = (int) Math.rint(x[xOff + b * BLOCK + i] * id);
                    q[b * BLOCK + i] = (short) v;
                    sum += v;
                }
                subSums[8 * b + s] = sum;
            }
            dx[b] = d;
        }
    }

    /**
     * The specification, from {@code w}'s own Q4_K blocks (either layout): out[t][r] for the tokens t in [0, nTokens)
     * of x ({@code [nTokens][cols]}) and r in [rowStart, rowEnd), each token as in the class comment on its own.
     */
    public static void matvecScalar(float[] out, Matrix w, float[] x, int nTokens, int rowStart, int rowEnd) {
        int cols = w.cols();
        int blocks = cols / BLOCK;
        short[] q = new short[cols];
        float[] dx = new float[blocks];
        int[] subSums = new int[8 * blocks];
        MemorySegment data = w.data();
        for (int t = 0; t < nTokens; t++) {
            quantizeActivations(x, t * cols, cols, q, dx, subSums);
            for (int r = rowStart; r < rowEnd; r++) {
                float acc = 0f;
                for (int b = 0; b < blocks; b++) {
                    long at = w.blockOffset(r, b);
                    float d = BlockFormat.half(data, at);
                    float dmin = BlockFormat.half(data, at + 2);
                    int dots = 0;
                    int mins = 0;
                    for (int s = 0; s < 8; s++) {
                        // sub-block s: the low nibbles of bytes 32(s/2) .. +31 for even s, the high ones for odd s
                        int dot = 0;
                        for (int i = 0; i < SUB; i++) {
                            int packed = BlockFormat.u8(data, at + 16 + 32 * (s / 2) + i);
                            int qw = s % 2 == 0 ? packed & 0x0F : packed >>> 4;
                            dot += qw * q[b * BLOCK + s * SUB + i];
                        }
                        dots += Q4_K.scale(data, at + 4, s) * dot;
                        mins += Q4_K.min(data, at + 4, s) * subSums[8 * b + s];
                    }
                    acc = Math.fma((float) dots, d * dx[b], acc);
                    acc = Math.fma((float) mins, -(dmin * dx[b]), acc);
                }
                out[t * w.rows() + r] = acc;
            }
        }
    }
}
