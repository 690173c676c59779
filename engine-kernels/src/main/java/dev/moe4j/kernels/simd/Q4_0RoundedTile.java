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
    private static final int TOKENS = 6;
    /** Registers of rows in a tile. */
    private static final int VECTORS = 4;
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
                            tile16(panel, panelAt, width, x, k0, t0 * cols, t1 * cols, t2 * cols, t3 * cols,
                                    t4 * cols, t5 * cols, dst, o + t0 * dstRows, o + t1 * dstRows,
                                    o + t2 * dstRows, o + t3 * dstRows, o + t4 * dstRows, o + t5 * dstRows, k0 == 0);
                        } else {
                            tile(lanes, panel, panelAt, width, x, k0, t0 * cols, t1 * cols, t2 * cols, t3 * cols,
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

    private static final VectorSpecies<Float> F16 = FloatVector.SPECIES_512;

    /**
     * The tile at 16 lanes with a constant species: sums of the panel's 64 rows over {@code width} columns with six
     * tokens (x from x0 + k0, …), into dst at o0 + 16v, … (continuing the sums there unless {@code first}).
     */
    private static void tile16(MemorySegment panel, long panelAt, int width, float[] x, int k0, int x0, int x1, int x2,
            int x3, int x4, int x5, float[] dst, int o0, int o1, int o2, int o3, int o4, int o5, boolean first) {
        FloatVector z = FloatVector.zero(F16);
        FloatVector a0 = first ? z : FloatVector.fromArray(F16, dst, o0);
        FloatVector b0 = first ? z : FloatVector.fromArray(F16, dst, o0 + 16);
        FloatVector c0 = first ? z : FloatVector.fromArray(F16, dst, o0 + 32);
        FloatVector d0 = first ? z : FloatVector.fromArray(F16, dst, o0 + 48);
        FloatVector a1 = first ? z : FloatVector.fromArray(F16, dst, o1);
        FloatVector b1 = first ? z : FloatVector.fromArray(F16, dst, o1 + 16);
        FloatVector c1 = first ? z : FloatVector.fromArray(F16, dst, o1 + 32);
        FloatVector d1 = first ? z : FloatVector.fromArray(F16, dst, o1 + 48);
        FloatVector a2 = first ? z : FloatVector.fromArray(F16, dst, o2);
        FloatVector b2 = first ? z : FloatVector.fromArray(F16, dst, o2 + 16);
        FloatVector c2 = first ? z : FloatVector.fromArray(F16, dst, o2 + 32);
        FloatVector d2 = first ? z : FloatVector.fromArray(F16, dst, o2 + 48);
        FloatVector a3 = first ? z : FloatVector.fromArray(F16, dst, o3);
        FloatVector b3 = first ? z : FloatVector.fromArray(F16, dst, o3 + 16);
        FloatVector c3 = first ? z : FloatVector.fromArray(F16, dst, o3 + 32);
        FloatVector d3 = first ? z : FloatVector.fromArray(F16, dst, o3 + 48);
        FloatVector a4 = first ? z : FloatVector.fromArray(F16, dst, o4);
        FloatVector b4 = first ? z : FloatVector.fromArray(F16, dst, o4 + 16);
        FloatVector c4 = first ? z : FloatVector.fromArray(F16, dst, o4 + 32);
        FloatVector d4 = first ? z : FloatVector.fromArray(F16, dst, o4 + 48);
        FloatVector a5 = first ? z : FloatVector.fromArray(F16, dst, o5);
        FloatVector b5 = first ? z : FloatVector.fromArray(F16, dst, o5 + 16);
        FloatVector c5 = first ? z : FloatVector.fromArray(F16, dst, o5 + 32);
        FloatVector d5 = first ? z : FloatVector.fromArray(F16, dst, o5 + 48);
        int y0 = x0 + k0;
        int y1 = x1 + k0;
        int y2 = x2 + k0;
        int y3 = x3 + k0;
        int y4 = x4 + k0;
        int y5 = x5 + k0;
        for (int k = 0; k < width; k++) {
            long wi = panelAt + k * 256L;
            FloatVector w0 = FloatVector.fromMemorySegment(F16, panel, wi, LE);
            FloatVector w1 = FloatVector.fromMemorySegment(F16, panel, wi + 64, LE);
            FloatVector w2 = FloatVector.fromMemorySegment(F16, panel, wi + 128, LE);
            FloatVector w3 = FloatVector.fromMemorySegment(F16, panel, wi + 192, LE);
            FloatVector v = FloatVector.broadcast(F16, x[y0 + k]);
            a0 = w0.fma(v, a0);
            b0 = w1.fma(v, b0);
            c0 = w2.fma(v, c0);
            d0 = w3.fma(v, d0);
            v = FloatVector.broadcast(F16, x[y1 + k]);
            a1 = w0.fma(v, a1);
            b1 = w1.fma(v, b1);
            c1 = w2.fma(v, c1);
            d1 = w3.fma(v, d1);
            v = FloatVector.broadcast(F16, x[y2 + k]);
            a2 = w0.fma(v, a2);
            b2 = w1.fma(v, b2);
            c2 = w2.fma(v, c2);
            d2 = w3.fma(v, d2);
            v = FloatVector.broadcast(F16, x[y3 + k]);
            a3 = w0.fma(v, a3);
            b3 = w1.fma(v, b3);
            c3 = w2.fma(v, c3);
            d3 = w3.fma(v, d3);
            v = FloatVector.broadcast(F16, x[y4 + k]);
            a4 = w0.fma(v, a4);
            b4 = w1.fma(v, b4);
            c4 = w2.fma(v, c4);
            d4 = w3.fma(v, d4);
            v = FloatVector.broadcast(F16, x[y5 + k]);
            a5 = w0.fma(v, a5);
            b5 = w1.fma(v, b5);
            c5 = w2.fma(v, c5);
            d5 = w3.fma(v, d5);
        }
        a0.intoArray(dst, o0);
        b0.intoArray(dst, o0 + 16);
        c0.intoArray(dst, o0 + 32);
        d0.intoArray(dst, o0 + 48);
        a1.intoArray(dst, o1);
        b1.intoArray(dst, o1 + 16);
        c1.intoArray(dst, o1 + 32);
        d1.intoArray(dst, o1 + 48);
        a2.intoArray(dst, o2);
        b2.intoArray(dst, o2 + 16);
        c2.intoArray(dst, o2 + 32);
        d2.intoArray(dst, o2 + 48);
        a3.intoArray(dst, o3);
        b3.intoArray(dst, o3 + 16);
        c3.intoArray(dst, o3 + 32);
        d3.intoArray(dst, o3 + 48);
        a4.intoArray(dst, o4);
        b4.intoArray(dst, o4 + 16);
        c4.intoArray(dst, o4 + 32);
        d4.intoArray(dst, o4 + 48);
        a5.intoArray(dst, o5);
        b5.intoArray(dst, o5 + 16);
        c5.intoArray(dst, o5 + 32);
        d5.intoArray(dst, o5 + 48);
    }

    /**
     * {@link #tile16} for 128 and 256 bits: the same fmas in the same order per sum, so the same bits, with the species
     * taken from {@code lanes} inside the method (a constant for C2) and every sum in its own local, never in an array
     * (which would box the vectors).
     */
    private static void tile(Lanes lanes, MemorySegment panel, long panelAt, int width, float[] x, int k0, int x0,
            int x1, int x2, int x3, int x4, int x5, float[] dst, int o0, int o1, int o2, int o3, int o4, int o5,
            boolean first) {
        VectorSpecies<Float> fs = lanes.floats(); // a constant for C2: a JVM loads one Lanes class
        int n = fs.length();
        long vector = (long) n * Float.BYTES;
        FloatVector z = FloatVector.zero(fs);
        FloatVector a0 = first ? z : FloatVector.fromArray(fs, dst, o0);
        FloatVector b0 = first ? z : FloatVector.fromArray(fs, dst, o0 + n);
        FloatVector c0 = first ? z : FloatVector.fromArray(fs, dst, o0 + 2 * n);
        FloatVector d0 = first ? z : FloatVector.fromArray(fs, dst, o0 + 3 * n);
        FloatVector a1 = first ? z : FloatVector.fromArray(fs, dst, o1);
        FloatVector b1 = first ? z : FloatVector.fromArray(fs, dst, o1 + n);
        FloatVector c1 = first ? z : FloatVector.fromArray(fs, dst, o1 + 2 * n);
        FloatVector d1 = first ? z : FloatVector.fromArray(fs, dst, o1 + 3 * n);
        FloatVector a2 = first ? z : FloatVector.fromArray(fs, dst, o2);
        FloatVector b2 = first ? z : FloatVector.fromArray(fs, dst, o2 + n);
        FloatVector c2 = first ? z : FloatVector.fromArray(fs, dst, o2 + 2 * n);
        FloatVector d2 = first ? z : FloatVector.fromArray(fs, dst, o2 + 3 * n);
        FloatVector a3 = first ? z : FloatVector.fromArray(fs, dst, o3);
        FloatVector b3 = first ? z : FloatVector.fromArray(fs, dst, o3 + n);
        FloatVector c3 = first ? z : FloatVector.fromArray(fs, dst, o3 + 2 * n);
        FloatVector d3 = first ? z : FloatVector.fromArray(fs, dst, o3 + 3 * n);
        FloatVector a4 = first ? z : FloatVector.fromArray(fs, dst, o4);
        FloatVector b4 = first ? z : FloatVector.fromArray(fs, dst, o4 + n);
        FloatVector c4 = first ? z : FloatVector.fromArray(fs, dst, o4 + 2 * n);
        FloatVector d4 = first ? z : FloatVector.fromArray(fs, dst, o4 + 3 * n);
        FloatVector a5 = first ? z : FloatVector.fromArray(fs, dst, o5);
        FloatVector b5 = first ? z : FloatVector.fromArray(fs, dst, o5 + n);
        FloatVector c5 = first ? z : FloatVector.fromArray(fs, dst, o5 + 2 * n);
        FloatVector d5 = first ? z : FloatVector.fromArray(fs, dst, o5 + 3 * n);
        int y0 = x0 + k0;
        int y1 = x1 + k0;
        int y2 = x2 + k0;
        int y3 = x3 + k0;
        int y4 = x4 + k0;
        int y5 = x5 + k0;
        for (int k = 0; k < width; k++) {
            long wi = panelAt + k * 4 * vector;
            FloatVector w0 = FloatVector.fromMemorySegment(fs, panel, wi, LE);
            FloatVector w1 = FloatVector.fromMemorySegment(fs, panel, wi + vector, LE);
            FloatVector w2 = FloatVector.fromMemorySegment(fs, panel, wi + 2 * vector, LE);
            FloatVector w3 = FloatVector.fromMemorySegment(fs, panel, wi + 3 * vector, LE);
            FloatVector v = FloatVector.broadcast(fs, x[y0 + k]);
            a0 = w0.fma(v, a0);
            b0 = w1.fma(v, b0);
            c0 = w2.fma(v, c0);
            d0 = w3.fma(v, d0);
            v = FloatVector.broadcast(fs, x[y1 + k]);
            a1 = w0.fma(v, a1);
            b1 = w1.fma(v, b1);
            c1 = w2.fma(v, c1);
            d1 = w3.fma(v, d1);
            v = FloatVector.broadcast(fs, x[y2 + k]);
            a2 = w0.fma(v, a2);
            b2 = w1.fma(v, b2);
            c2 = w2.fma(v, c2);
            d2 = w3.fma(v, d2);
            v = FloatVector.broadcast(fs, x[y3 + k]);
            a3 = w0.fma(v, a3);
            b3 = w1.fma(v, b3);
            c3 = w2.fma(v, c3);
            d3 = w3.fma(v, d3);
            v = FloatVector.broadcast(fs, x[y4 + k]);
            a4 = w0.fma(v, a4);
            b4 = w1.fma(v, b4);
            c4 = w2.fma(v, c4);
            d4 = w3.fma(v, d4);
            v = FloatVector.broadcast(fs, x[y5 + k]);
            a5 = w0.fma(v, a5);
            b5 = w1.fma(v, b5);
            c5 = w2.fma(v, c5);
            d5 = w3.fma(v, d5);
        }
        a0.intoArray(dst, o0);
        b0.intoArray(dst, o0 + n);
        c0.intoArray(dst, o0 + 2 * n);
        d0.intoArray(dst, o0 + 3 * n);
        a1.intoArray(dst, o1);
        b1.intoArray(dst, o1 + n);
        c1.intoArray(dst, o1 + 2 * n);
        d1.intoArray(dst, o1 + 3 * n);
        a2.intoArray(dst, o2);
        b2.intoArray(dst, o2 + n);
        c2.intoArray(dst, o2 + 2 * n);
        d2.intoArray(dst, o2 + 3 * n);
        a3.intoArray(dst, o3);
        b3.intoArray(dst, o3 + n);
        c3.intoArray(dst, o3 + 2 * n);
        d3.intoArray(dst, o3 + 3 * n);
        a4.intoArray(dst, o4);
        b4.intoArray(dst, o4 + n);
        c4.intoArray(dst, o4 + 2 * n);
        d4.intoArray(dst, o4 + 3 * n);
        a5.intoArray(dst, o5);
        b5.intoArray(dst, o5 + n);
        c5.intoArray(dst, o5 + 2 * n);
        d5.intoArray(dst, o5 + 3 * n);
    }
}
