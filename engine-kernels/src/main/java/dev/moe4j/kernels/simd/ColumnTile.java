package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The column-order tile: sums of a panel's 4n rows (n lanes a register) over {@code width} columns with six tokens,
 * each sum one fma chain over the columns in order, all 24 sums in registers. The panel holds the tile's rows side
 * by side for each column ([column][4n rows], 4n floats a column); each column costs four loads, six broadcasts
 * straight from the tokens' rows and 24 FMAs, and there are no sums across lanes. Used by {@link Q4_0RoundedTile}
 * (weights widened into the panel) and by {@link AttentionKernels#attendInColumnOrder} (keys transposed into the
 * panel for the scores, values for the weighted sums).
 */
final class ColumnTile {

    /** Tokens a tile: the sums of 4 × 6 registers, with four of weights and one broadcast, fill 29 of 32. */
    static final int TOKENS = 6;
    /** Registers of rows in a tile. */
    static final int VECTORS = 4;

    private ColumnTile() {}

    private static final VectorSpecies<Float> F16 = FloatVector.SPECIES_512;

    /**
     * The tile at 16 lanes with a constant species: sums of the panel's 64 rows over {@code width} columns with six
     * tokens (x from x0 + k0, …), into dst at o0 + 16v, … (continuing the sums there unless {@code first}).
     */
    static void tile16(MemorySegment panel, long panelAt, int width, float[] x, int k0, int x0, int x1, int x2,
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
    static void tile(Lanes lanes, MemorySegment panel, long panelAt, int width, float[] x, int k0, int x0,
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
