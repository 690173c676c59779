package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;

import dev.moe4j.kernels.Matrix;
import dev.moe4j.kernels.Q4_0Rounded;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Products of more than {@link Q4_0Rounded#MAX_TOKENS} tokens with a Q4_0 matrix in the rounded-activation mode: F32
 * activations, each out[t][r] one fma chain over the columns in order ({@link Q4_0Rounded#matmulScalar}, whose bits
 * this gives at every register width). Rows go in the lanes: a tile of four registers of rows (64 at 512 bits) is
 * widened once from the rounded form (its bytes already hold 32 rows side by side) into a panel, column after column;
 * then for every six tokens the tile's 24 sums stay in registers while each column loads four registers of weights
 * and broadcasts six activations straight from x: 24 FMAs for 4 loads and 6 broadcasts, and no sums across lanes at
 * the end. One core, 64 rows × 1024 columns × 512 tokens, the loop alone: 190–213 GFLOP/s against an FMA peak of
 * 220, where the canonical-order tile ({@link TileMatmul}: dot products along the columns, reduced across lanes)
 * reaches about 150 in the same test. Columns go in blocks of at most {@link #blockColumns} (the panel stays in
 * L2), the sums carried from block to block through {@code out}: the same chain of fmas.
 */
final class Q4_0RoundedTile {

    private static final int BLOCK = 32;
    private static final int HALF = 16;
    private static final int GROUP_BYTES = Q4_0Rounded.GROUP_BLOCK_BYTES;
    private static final int TOKENS = ColumnTile.TOKENS;
    private static final int VECTORS = ColumnTile.VECTORS;
    /** 2^112: a half's bits moved to a float's places (exponent rebased by 112) times this is the half's value. */
    private static final float REBIAS = 0x1p112f;

    /** Per-thread scratch: a panel if no shared slot is free, and the sums of a tile cut short by the range. */
    private static final class Scratch {
        MemorySegment panel = MemorySegment.NULL;
        float[] partial = new float[0];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Q4_0RoundedTile() {}

    /** Columns widened at a time for {@code n}-lane registers: as many whole blocks as fill a panel slot. */
    static int blockColumns(int n) {
        return (int) Math.max(BLOCK, PanelSlots.BYTES / ((long) VECTORS * n * Float.BYTES) / BLOCK * BLOCK);
    }

    /**
     * out[t][r] = w[r]·x[t] in column order, for t in [0, nTokens) and r in [rowStart, rowEnd); w has the rounded
     * form. Tiles start at multiples of n rows, so none crosses one of the form's groups of 32.
     */
    static void matmul(Lanes lanes, float[] out, Matrix w, float[] x, int nTokens, int rowStart, int rowEnd) {
        VectorSpecies<Float> fs = lanes.floats();
        int n = fs.length();
        int tileRows = VECTORS * n;
        int cols = w.cols();
        int rows = w.rows();
        int kc = Math.min(cols, blockColumns(n));
        long panelBytes = (long) tileRows * kc * Float.BYTES;
        Scratch scratch = SCRATCH.get();
        int slot = panelBytes <= PanelSlots.BYTES ? PanelSlots.claim() : -1;
        try {
            MemorySegment panel;
            long panelAt;
            if (slot >= 0) {
                panel = PanelSlots.ALL;
                panelAt = PanelSlots.offset(slot);
            } else {
                panel = scratch.panel = TileMatmul.Workspace.atLeast(scratch.panel, panelBytes);
                panelAt = 0;
            }
            for (int r0 = rowStart / n * n; r0 < rowEnd; r0 += tileRows) {
                // a tile cut short by the range sums into scratch, so that rows outside it (another thread's) are
                // never written; its rows in the range are copied out at the end
                boolean whole = r0 >= rowStart && r0 + tileRows <= rowEnd;
                float[] dst = out;
                int dstRows = rows;
                int dstRow = r0;
                if (!whole) {
                    if (scratch.partial.length < nTokens * tileRows) {
                        scratch.partial = new float[nTokens * tileRows];
                    }
                    dst = scratch.partial;
                    dstRows = tileRows;
                    dstRow = 0;
                }
                for (int k0 = 0; k0 < cols; k0 += kc) {
                    int width = Math.min(kc, cols - k0);
                    widen(lanes, w, r0, k0, width, panel, panelAt);
                    for (int t0 = 0; t0 < nTokens; t0 += TOKENS) {
                        // a last group of fewer tokens repeats its last one: the same sums, stored twice
                        int last = nTokens - 1;
                        int t1 = Math.min(t0 + 1, last);
                        int t2 = Math.min(t0 + 2, last);
                        int t3 = Math.min(t0 + 3, last);
                        int t4 = Math.min(t0 + 4, last);
                        int t5 = Math.min(t0 + 5, last);
                        int o = dstRow;
                        if (n == 16) {
                            ColumnTile.tile16(panel, panelAt, width, x, k0, t0 * cols, t1 * cols, t2 * cols, t3 * cols,
                                    t4 * cols, t5 * cols, dst, o + t0 * dstRows, o + t1 * dstRows,
                                    o + t2 * dstRows, o + t3 * dstRows, o + t4 * dstRows, o + t5 * dstRows, k0 == 0);
                        } else {
                            ColumnTile.tile(lanes, panel, panelAt, width, x, k0, t0 * cols, t1 * cols, t2 * cols, t3 * cols,
                                    t4 * cols, t5 * cols, dst, o + t0 * dstRows, o + t1 * dstRows,
                                    o + t2 * dstRows, o + t3 * dstRows, o + t4 * dstRows, o + t5 * dstRows, k0 == 0);
                        }
                    }
                }
                if (!whole) {
                    int from = Math.max(r0, rowStart);
                    int to = Math.min(r0 + tileRows, rowEnd);
                    for (int t = 0; t < nTokens; t++) {
                        System.arraycopy(dst, t * tileRows + from - r0, out, t * rows + from, to - from);
                    }
                }
            }
        } finally {
            if (slot >= 0) {
                PanelSlots.release(slot);
            }
        }
    }

    /**
     * Rows [r0, r0 + 4n) and columns [k0, k0 + width) of w, widened exactly to d·(q − 8), into the panel as
     * [column][row]: for each byte j of a block, n rows' bytes give column j (low nibble, less 8) and column j + 16
     * (the high nibble, stored xor 8, shifted with its sign). Groups past the matrix's last are left as they were:
     * their rows are never stored.
     */
    private static void widen(Lanes lanes, Matrix w, int r0, int k0, int width, MemorySegment panel, long panelAt) {
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Byte> bs = lanes.bytes();
        VectorSpecies<Short> ss = lanes.shorts();
        VectorSpecies<Integer> is = lanes.ints();
        int n = fs.length();
        int tileRows = VECTORS * n;
        long columnBytes = (long) tileRows * Float.BYTES;
        MemorySegment form = w.rounded().data();
        int blocks = w.cols() / BLOCK;
        int groups = (w.rows() + Q4_0Rounded.ROWS - 1) / Q4_0Rounded.ROWS;
        for (int r = r0; r < r0 + tileRows; r += n) {
            int g = r / Q4_0Rounded.ROWS;
            if (g >= groups) {
                break;
            }
            int lane = r % Q4_0Rounded.ROWS;
            long rowAt = panelAt + (long) (r - r0) * Float.BYTES;
            for (int b = k0 / BLOCK; b < (k0 + width) / BLOCK; b++) {
                long at = ((long) g * blocks + b) * GROUP_BYTES;
                FloatVector d = ((IntVector) ShortVector.fromMemorySegment(ss, form,
                                at + Q4_0Rounded.SCALES_AT + 2L * lane, LE).convertShape(VectorOperators.S2I, is, 0))
                        .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000).reinterpretAsFloats().mul(REBIAS);
                long low = rowAt + (long) (b * BLOCK - k0) * columnBytes;
                long high = low + HALF * columnBytes;
                for (int j = 0; j < HALF; j++) {
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(bs, form,
                            at + (long) j * Q4_0Rounded.ROWS + lane, LE).convertShape(VectorOperators.B2I, is, 0);
                    ((FloatVector) v.and(15).sub(8).convert(VectorOperators.I2F, 0)).mul(d)
                            .intoMemorySegment(panel, low + j * columnBytes, LE);
                    ((FloatVector) v.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0)).mul(d)
                            .intoMemorySegment(panel, high + j * columnBytes, LE);
                }
            }
        }
    }
}
