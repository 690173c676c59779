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
 * Mat-vec and widening over Q8_0 blocks ({@code f16 d; int8 q[32]}, w = d·q, see
 * {@link dev.moe4j.kernels.quant.Q8_0}). The mat-vec sums q·x over a block and scales the block sum by d once.
 */
final class Q8_0Rows {

    private static final int BLOCK = 32;
    private static final long BLOCK_BYTES = 34;

    private Q8_0Rows() {}

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
            for (int j = 0; j < BLOCK; j += bs.length()) {
                ByteVector q = ByteVector.fromMemorySegment(bs, data, at + 2 + j, LE);
                widen(q, fs, 0).mul(d).intoArray(out, o + j);
                // 128-bit registers: the 8 loaded bytes fill a second vector of 4 floats
                if (parts == 2) {
                    widen(q, fs, 1).mul(d).intoArray(out, o + j + fs.length());
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
        // four rows per pass share each load of x; their sums are four independent FMA chains
        for (; r + 4 <= rowEnd; r += 4) {
            long base0 = w.rowOffset(r);
            long base1 = base0 + rowBytes;
            long base2 = base1 + rowBytes;
            long base3 = base2 + rowBytes;
            FloatVector acc0 = FloatVector.zero(fs);
            FloatVector acc1 = acc0;
            FloatVector acc2 = acc0;
            FloatVector acc3 = acc0;
            for (int block = 0; block < blocks; block++) {
                long at = block * BLOCK_BYTES;
                FloatVector sum0 = FloatVector.zero(fs);
                FloatVector sum1 = sum0;
                FloatVector sum2 = sum0;
                FloatVector sum3 = sum0;
                for (int j = 0; j < BLOCK; j += bs.length()) {
                    ByteVector q0 = ByteVector.fromMemorySegment(bs, data, base0 + at + 2 + j, LE);
                    ByteVector q1 = ByteVector.fromMemorySegment(bs, data, base1 + at + 2 + j, LE);
                    ByteVector q2 = ByteVector.fromMemorySegment(bs, data, base2 + at + 2 + j, LE);
                    ByteVector q3 = ByteVector.fromMemorySegment(bs, data, base3 + at + 2 + j, LE);
                    FloatVector xv = FloatVector.fromArray(fs, x, block * BLOCK + j);
                    sum0 = widen(q0, fs, 0).fma(xv, sum0);
                    sum1 = widen(q1, fs, 0).fma(xv, sum1);
                    sum2 = widen(q2, fs, 0).fma(xv, sum2);
                    sum3 = widen(q3, fs, 0).fma(xv, sum3);
                    // 128-bit registers: the 8 loaded bytes fill a second vector of 4 floats
                    if (parts == 2) {
                        xv = FloatVector.fromArray(fs, x, block * BLOCK + j + fs.length());
                        sum0 = widen(q0, fs, 1).fma(xv, sum0);
                        sum1 = widen(q1, fs, 1).fma(xv, sum1);
                        sum2 = widen(q2, fs, 1).fma(xv, sum2);
                        sum3 = widen(q3, fs, 1).fma(xv, sum3);
                    }
                }
                acc0 = sum0.fma(FloatVector.broadcast(fs, half(data, base0 + at)), acc0);
                acc1 = sum1.fma(FloatVector.broadcast(fs, half(data, base1 + at)), acc1);
                acc2 = sum2.fma(FloatVector.broadcast(fs, half(data, base2 + at)), acc2);
                acc3 = sum3.fma(FloatVector.broadcast(fs, half(data, base3 + at)), acc3);
            }
            out[r] = acc0.reduceLanes(VectorOperators.ADD);
            out[r + 1] = acc1.reduceLanes(VectorOperators.ADD);
            out[r + 2] = acc2.reduceLanes(VectorOperators.ADD);
            out[r + 3] = acc3.reduceLanes(VectorOperators.ADD);
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
            for (int j = 0; j < BLOCK; j += bs.length()) {
                ByteVector q = ByteVector.fromMemorySegment(bs, data, at + 2 + j, LE);
                sum = widen(q, fs, 0).fma(FloatVector.fromArray(fs, x, block * BLOCK + j), sum);
                // 128-bit registers: the 8 loaded bytes fill a second vector of 4 floats
                if (parts == 2) {
                    sum = widen(q, fs, 1).fma(FloatVector.fromArray(fs, x, block * BLOCK + j + fs.length()), sum);
                }
            }
            acc = sum.fma(FloatVector.broadcast(fs, half(data, at)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * The high nibble of each byte of {@code q}, as a byte. x86 has no byte shift (C2 widens, shifts and narrows), so
     * the lanes are shifted as ints and each byte masked: the bits that cross from the next byte are masked off.
     */
    static ByteVector highNibbles(ByteVector q) {
        return q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F);
    }

    /**
     * Part {@code part} of the int8 lanes of {@code q}, as floats. Callers pass constants: the part is 0, or 1
     * with 128-bit registers, whose 8-byte loads fill two float vectors ({@link Lanes#bytes()}); a variable part
     * costs C2 the nodes of every shape-changing path and overflows its inlining budget.
     */
    static FloatVector widen(ByteVector q, VectorSpecies<Float> fs, int part) {
        return (FloatVector) q.convertShape(VectorOperators.B2F, fs, part);
    }
}
