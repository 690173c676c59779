package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;
import static dev.moe4j.kernels.simd.Storage.half;

import dev.moe4j.kernels.Matrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mat-vec and widening over Q4_0 blocks ({@code f16 d; uint8 qs[16]}: byte j holds weight j in its low nibble and
 * j + 16 in its high nibble; w = d·(q − 8), see {@link dev.moe4j.kernels.quant.Q4_0}). The mat-vec widens each
 * weight in registers to the float the scalar dequantiser gives and sums in {@link TileMatmul}'s canonical order.
 */
final class Q4_0Rows {

    private static final int BLOCK = 32;
    private static final long BLOCK_BYTES = 18;

    private Q4_0Rows() {}

    /** The low nibbles of {@code qs}, minus 8: weights j. */
    private static ByteVector low(ByteVector qs) {
        return qs.and((byte) 0x0F).sub((byte) 8);
    }

    /** The high nibbles of {@code qs}, minus 8: weights j + 16. */
    private static ByteVector high(ByteVector qs) {
        return Q8_0Rows.highNibbles(qs).sub((byte) 8);
    }

    /** Row {@code row} widened into out[outOff, outOff + cols). */
    static void widen(Lanes lanes, Matrix w, int row, float[] out, int outOff) {
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Byte> bs = lanes.bytes();
        int parts = bs.length() / fs.length();
        MemorySegment data = w.data();
        long base = w.rowOffset(row);
        int blocks = w.cols() / BLOCK;
        for (int block = 0; block < blocks; block++) {
            long at = base + block * BLOCK_BYTES;
            float d = half(data, at);
            int o = outOff + block * BLOCK;
            for (int j = 0; j < BLOCK / 2; j += bs.length()) {
                ByteVector qs = ByteVector.fromMemorySegment(bs, data, at + 2 + j, LE);
                ByteVector lo = low(qs);
                ByteVector hi = high(qs);
                Q8_0Rows.widen(lo, fs, 0).mul(d).intoArray(out, o + j);
                Q8_0Rows.widen(hi, fs, 0).mul(d).intoArray(out, o + j + BLOCK / 2);
                // 128-bit registers: the 8 loaded bytes fill a second vector of 4 floats
                if (parts == 2) {
                    int i = o + j + fs.length();
                    Q8_0Rows.widen(lo, fs, 1).mul(d).intoArray(out, i);
                    Q8_0Rows.widen(hi, fs, 1).mul(d).intoArray(out, i + BLOCK / 2);
                }
            }
        }
    }

    /** out[r] = w[r]·x for r in [rowStart, rowEnd). */
    static void matvec(Lanes lanes, float[] out, Matrix w, float[] x, int rowStart, int rowEnd) {
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Byte> bs = lanes.bytes();
        int parts = bs.length() / fs.length();
        MemorySegment data = w.data();
        int blocks = w.cols() / BLOCK;
        int n = fs.length();
        float[] sums = new float[2 * n]; // [2 rows][n lanes]
        int last = rowEnd - 1;
        // two rows per pass share each load of x (four exceed C2's inlining budget with the nibble unpacking). A pass
        // short of rows repeats the last one, so that every row is summed by this same code.
        for (int r = rowStart; r < rowEnd; r += 2) {
            long base0 = w.rowOffset(r);
            long base1 = w.rowOffset(Math.min(r + 1, last));
            FloatVector acc0 = FloatVector.zero(fs);
            FloatVector acc1 = acc0;
            for (int block = 0; block < blocks; block++) {
                long at0 = base0 + block * BLOCK_BYTES;
                long at1 = base1 + block * BLOCK_BYTES;
                float d0 = half(data, at0);
                float d1 = half(data, at1);
                // the low nibbles (weights 0-15), then the high ones (16-31): each lane sums its columns in order
                for (int j = 0; j < BLOCK; j += bs.length()) {
                    int nibbles = j % (BLOCK / 2);
                    ByteVector qs0 = ByteVector.fromMemorySegment(bs, data, at0 + 2 + nibbles, LE);
                    ByteVector qs1 = ByteVector.fromMemorySegment(bs, data, at1 + 2 + nibbles, LE);
                    ByteVector q0 = j < BLOCK / 2 ? low(qs0) : high(qs0);
                    ByteVector q1 = j < BLOCK / 2 ? low(qs1) : high(qs1);
                    int i = block * BLOCK + j;
                    FloatVector xv = FloatVector.fromArray(fs, x, i);
                    acc0 = Q8_0Rows.widen(q0, fs, 0).mul(d0).fma(xv, acc0);
                    acc1 = Q8_0Rows.widen(q1, fs, 0).mul(d1).fma(xv, acc1);
                    // 128-bit registers: the 8 loaded bytes fill a second vector of 4 floats
                    if (parts == 2) {
                        xv = FloatVector.fromArray(fs, x, i + n);
                        acc0 = Q8_0Rows.widen(q0, fs, 1).mul(d0).fma(xv, acc0);
                        acc1 = Q8_0Rows.widen(q1, fs, 1).mul(d1).fma(xv, acc1);
                    }
                }
            }
            acc0.intoArray(sums, 0);
            acc1.intoArray(sums, n);
            out[r] = lanes.sum(sums, 0);
            out[Math.min(r + 1, last)] = lanes.sum(sums, n);
        }
    }
}
