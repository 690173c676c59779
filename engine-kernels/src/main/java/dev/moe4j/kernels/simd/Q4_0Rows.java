package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;
import static dev.moe4j.kernels.simd.Storage.half;

import dev.moe4j.kernels.Matrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mat-vec and widening over Q4_0 blocks ({@code f16 d; uint8 qs[16]}: byte j holds weight j in its low nibble and
 * j + 16 in its high nibble; w = d·(q − 8), see {@link dev.moe4j.kernels.quant.Q4_0}). The mat-vec sums
 * (q − 8)·x over a block and scales the block sum by d once.
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
        long rowBytes = w.rowBytes();
        int blocks = w.cols() / BLOCK;
        int r = rowStart;
        // two rows per pass share each load of x (four exceed C2's inlining budget with the nibble unpacking)
        for (; r + 2 <= rowEnd; r += 2) {
            long base0 = w.rowOffset(r);
            long base1 = base0 + rowBytes;
            FloatVector acc0 = FloatVector.zero(fs);
            FloatVector acc1 = acc0;
            for (int block = 0; block < blocks; block++) {
                long at = block * BLOCK_BYTES;
                FloatVector sum0 = FloatVector.zero(fs);
                FloatVector sum1 = sum0;
                for (int j = 0; j < BLOCK / 2; j += bs.length()) {
                    ByteVector qs0 = ByteVector.fromMemorySegment(bs, data, base0 + at + 2 + j, LE);
                    ByteVector qs1 = ByteVector.fromMemorySegment(bs, data, base1 + at + 2 + j, LE);
                    ByteVector lo0 = low(qs0);
                    ByteVector lo1 = low(qs1);
                    ByteVector hi0 = high(qs0);
                    ByteVector hi1 = high(qs1);
                    int i = block * BLOCK + j;
                    FloatVector xLo = FloatVector.fromArray(fs, x, i);
                    FloatVector xHi = FloatVector.fromArray(fs, x, i + BLOCK / 2);
                    sum0 = Q8_0Rows.widen(lo0, fs, 0).fma(xLo, sum0);
                    sum1 = Q8_0Rows.widen(lo1, fs, 0).fma(xLo, sum1);
                    sum0 = Q8_0Rows.widen(hi0, fs, 0).fma(xHi, sum0);
                    sum1 = Q8_0Rows.widen(hi1, fs, 0).fma(xHi, sum1);
                    // 128-bit registers: the 8 loaded bytes fill a second vector of 4 floats
                    if (parts == 2) {
                        xLo = FloatVector.fromArray(fs, x, i + fs.length());
                        xHi = FloatVector.fromArray(fs, x, i + fs.length() + BLOCK / 2);
                        sum0 = Q8_0Rows.widen(lo0, fs, 1).fma(xLo, sum0);
                        sum1 = Q8_0Rows.widen(lo1, fs, 1).fma(xLo, sum1);
                        sum0 = Q8_0Rows.widen(hi0, fs, 1).fma(xHi, sum0);
                        sum1 = Q8_0Rows.widen(hi1, fs, 1).fma(xHi, sum1);
                    }
                }
                acc0 = sum0.fma(FloatVector.broadcast(fs, half(data, base0 + at)), acc0);
                acc1 = sum1.fma(FloatVector.broadcast(fs, half(data, base1 + at)), acc1);
            }
            out[r] = acc0.reduceLanes(VectorOperators.ADD);
            out[r + 1] = acc1.reduceLanes(VectorOperators.ADD);
        }
        for (; r < rowEnd; r++) {
            out[r] = dotRow(lanes, data, w.rowOffset(r), x, blocks);
        }
    }

    private static float dotRow(Lanes lanes, MemorySegment data, long base, float[] x, int blocks) {
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Byte> bs = lanes.bytes();
        int parts = bs.length() / fs.length();
        FloatVector acc = FloatVector.zero(fs);
        for (int block = 0; block < blocks; block++) {
            long at = base + block * BLOCK_BYTES;
            FloatVector sum = FloatVector.zero(fs);
            for (int j = 0; j < BLOCK / 2; j += bs.length()) {
                ByteVector qs = ByteVector.fromMemorySegment(bs, data, at + 2 + j, LE);
                ByteVector lo = low(qs);
                ByteVector hi = high(qs);
                int i = block * BLOCK + j;
                sum = Q8_0Rows.widen(lo, fs, 0).fma(FloatVector.fromArray(fs, x, i), sum);
                sum = Q8_0Rows.widen(hi, fs, 0).fma(FloatVector.fromArray(fs, x, i + BLOCK / 2), sum);
                // 128-bit registers: the 8 loaded bytes fill a second vector of 4 floats
                if (parts == 2) {
                    i += fs.length();
                    sum = Q8_0Rows.widen(lo, fs, 1).fma(FloatVector.fromArray(fs, x, i), sum);
                    sum = Q8_0Rows.widen(hi, fs, 1).fma(FloatVector.fromArray(fs, x, i + BLOCK / 2), sum);
                }
            }
            acc = sum.fma(FloatVector.broadcast(fs, half(data, at)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
