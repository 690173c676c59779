package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;
import static dev.moe4j.kernels.simd.Storage.half;
import static dev.moe4j.kernels.simd.Storage.i8;

import dev.moe4j.kernels.Matrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Widening of Q6_K blocks ({@code uint8 ql[128]; uint8 qh[64]; int8 scales[16]; f16 d} for 256 weights, see
 * {@link dev.moe4j.kernels.quant.Q6_K}), bit for bit as the scalar dequantiser: w = (d·scale)·(q − 32).
 */
final class Q6_KRows {

    private static final int BLOCK = 256;
    private static final long BLOCK_BYTES = 210;

    private Q6_KRows() {}

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
            float d = half(data, at + 208);
            // two halves of 128 weights, each from 64 bytes of ql, 32 of qh and 8 scales
            for (int half = 0; half < 2; half++) {
                long ql = at + 64L * half;
                long qh = at + 128 + 32L * half;
                long sc = at + 192 + 8L * half;
                int o = outOff + block * BLOCK + 128 * half;
                // a load of at most 16 bytes stays inside one 16-weight sub-block: one scale per quarter
                for (int l = 0; l < 32; l += bs.length()) {
                    int sub = l / 16;
                    ByteVector low0 = ByteVector.fromMemorySegment(bs, data, ql + l, LE);
                    ByteVector low32 = ByteVector.fromMemorySegment(bs, data, ql + 32 + l, LE);
                    ByteVector high = ByteVector.fromMemorySegment(bs, data, qh + l, LE);
                    ByteVector q1 = quant(low0.and((byte) 0x0F), high, 0);
                    ByteVector q2 = quant(low32.and((byte) 0x0F), high, 2);
                    ByteVector q3 = quant(low0.lanewise(VectorOperators.LSHR, 4), high, 4);
                    ByteVector q4 = quant(low32.lanewise(VectorOperators.LSHR, 4), high, 6);
                    float s1 = d * i8(data, sc + sub);
                    float s2 = d * i8(data, sc + sub + 2);
                    float s3 = d * i8(data, sc + sub + 4);
                    float s4 = d * i8(data, sc + sub + 6);
                    int i = o + l;
                    Q8_0Rows.widen(q1, fs, 0).mul(s1).intoArray(out, i);
                    Q8_0Rows.widen(q2, fs, 0).mul(s2).intoArray(out, i + 32);
                    Q8_0Rows.widen(q3, fs, 0).mul(s3).intoArray(out, i + 64);
                    Q8_0Rows.widen(q4, fs, 0).mul(s4).intoArray(out, i + 96);
                    if (parts == 2) {
                        i += fs.length();
                        Q8_0Rows.widen(q1, fs, 1).mul(s1).intoArray(out, i);
                        Q8_0Rows.widen(q2, fs, 1).mul(s2).intoArray(out, i + 32);
                        Q8_0Rows.widen(q3, fs, 1).mul(s3).intoArray(out, i + 64);
                        Q8_0Rows.widen(q4, fs, 1).mul(s4).intoArray(out, i + 96);
                    }
                }
            }
        }
    }

    /** Four low bits and the two high bits at {@code shift} of {@code high}, minus 32. */
    private static ByteVector quant(ByteVector low, ByteVector high, int shift) {
        ByteVector top = high.lanewise(VectorOperators.LSHR, shift).and((byte) 3).lanewise(VectorOperators.LSHL, 4);
        return low.or(top).sub((byte) 32);
    }
}
