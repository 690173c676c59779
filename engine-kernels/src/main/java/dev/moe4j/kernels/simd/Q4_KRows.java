package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;
import static dev.moe4j.kernels.simd.Storage.LE_INT;
import static dev.moe4j.kernels.simd.Storage.LE_LONG;

import dev.moe4j.kernels.Matrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mat-vec and widening over Q4_K blocks ({@code f16 d; f16 dmin; uint8 scales[12]; uint8 qs[128]} for 256 weights, see
 * {@link dev.moe4j.kernels.quant.Q4_K}), widened bit for bit as the scalar dequantiser: w = (d·scale)·q − dmin·min.
 */
final class Q4_KRows {

    private static final int BLOCK = 256;
    private static final long BLOCK_BYTES = 144;

    private Q4_KRows() {}

    /** Row {@code row} widened into out[outOff, outOff + cols). */
    static void widen(Lanes lanes, Matrix w, int row, float[] out, int outOff) {
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Byte> bs = lanes.bytes();
        int parts = bs.length() / fs.length();
        MemorySegment data = w.data();
        long base = w.rowOffset(row);
        int blocks = w.cols() / BLOCK;
        float[] scales = new float[8];
        float[] mins = new float[8];
        for (int block = 0; block < blocks; block++) {
            long at = base + block * BLOCK_BYTES;
            unpackScales(data, at, scales, mins, 0);
            long qs = at + 16;
            // four groups of 64 weights: 32 bytes, sub-block 2g in the low nibbles, 2g + 1 in the high ones
            for (int group = 0; group < 4; group++) {
                float dLo = scales[2 * group];
                float mLo = mins[2 * group];
                float dHi = scales[2 * group + 1];
                float mHi = mins[2 * group + 1];
                int o = outOff + block * BLOCK + 64 * group;
                for (int j = 0; j < 32; j += bs.length()) {
                    ByteVector q = ByteVector.fromMemorySegment(bs, data, qs + 32L * group + j, LE);
                    ByteVector lo = q.and((byte) 0x0F);
                    ByteVector hi = Q8_0Rows.highNibbles(q);
                    Q8_0Rows.widen(lo, fs, 0).mul(dLo).sub(mLo).intoArray(out, o + j);
                    Q8_0Rows.widen(hi, fs, 0).mul(dHi).sub(mHi).intoArray(out, o + j + 32);
                    // 128-bit registers: the 8 loaded bytes fill a second vector of 4 floats
                    if (parts == 2) {
                        int i = o + j + fs.length();
                        Q8_0Rows.widen(lo, fs, 1).mul(dLo).sub(mLo).intoArray(out, i);
                        Q8_0Rows.widen(hi, fs, 1).mul(dHi).sub(mHi).intoArray(out, i + 32);
                    }
                }
            }
        }
    }

    /**
     * out[r] = w[r]·x for r in [rowStart, rowEnd), without widening: per sub-block of 32 weights,
     * (d·scale)·Σ q·x − (dmin·min)·Σ x, with the sums of x computed once per call.
     */
    static void matvec(Lanes lanes, float[] out, Matrix w, float[] x, int rowStart, int rowEnd) {
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Byte> bs = lanes.bytes();
        int parts = bs.length() / fs.length();
        MemorySegment data = w.data();
        int blocks = w.cols() / BLOCK;
        float[] xSums = subBlockSums(x, w.cols());
        float[] scales = new float[16]; // [2 rows][8 sub-blocks]
        float[] mins = new float[16];
        // two rows per pass share each load of x (more exceed C2's inlining budget); an odd last row pairs with itself
        for (int r = rowStart; r < rowEnd; r += 2) {
            int r1 = Math.min(r + 1, rowEnd - 1);
            long base0 = w.rowOffset(r);
            long base1 = w.rowOffset(r1);
            FloatVector acc0 = FloatVector.zero(fs);
            FloatVector acc1 = acc0;
            float minSum0 = 0;
            float minSum1 = 0;
            for (int block = 0; block < blocks; block++) {
                long at0 = base0 + block * BLOCK_BYTES;
                long at1 = base1 + block * BLOCK_BYTES;
                unpackScales(data, at0, scales, mins, 0);
                unpackScales(data, at1, scales, mins, 8);
                for (int sub = 0; sub < 8; sub++) {
                    minSum0 += mins[sub] * xSums[8 * block + sub];
                    minSum1 += mins[8 + sub] * xSums[8 * block + sub];
                }
                for (int group = 0; group < 4; group++) {
                    FloatVector lo0 = FloatVector.zero(fs);
                    FloatVector hi0 = lo0;
                    FloatVector lo1 = lo0;
                    FloatVector hi1 = lo0;
                    for (int j = 0; j < 32; j += bs.length()) {
                        ByteVector q0 = ByteVector.fromMemorySegment(bs, data, at0 + 16 + 32L * group + j, LE);
                        ByteVector q1 = ByteVector.fromMemorySegment(bs, data, at1 + 16 + 32L * group + j, LE);
                        ByteVector q0Lo = q0.and((byte) 0x0F);
                        ByteVector q0Hi = Q8_0Rows.highNibbles(q0);
                        ByteVector q1Lo = q1.and((byte) 0x0F);
                        ByteVector q1Hi = Q8_0Rows.highNibbles(q1);
                        int i = block * BLOCK + 64 * group + j;
                        FloatVector xLo = FloatVector.fromArray(fs, x, i);
                        FloatVector xHi = FloatVector.fromArray(fs, x, i + 32);
                        lo0 = Q8_0Rows.widen(q0Lo, fs, 0).fma(xLo, lo0);
                        hi0 = Q8_0Rows.widen(q0Hi, fs, 0).fma(xHi, hi0);
                        lo1 = Q8_0Rows.widen(q1Lo, fs, 0).fma(xLo, lo1);
                        hi1 = Q8_0Rows.widen(q1Hi, fs, 0).fma(xHi, hi1);
                        // 128-bit registers: the 8 loaded bytes fill a second vector of 4 floats
                        if (parts == 2) {
                            xLo = FloatVector.fromArray(fs, x, i + fs.length());
                            xHi = FloatVector.fromArray(fs, x, i + fs.length() + 32);
                            lo0 = Q8_0Rows.widen(q0Lo, fs, 1).fma(xLo, lo0);
                            hi0 = Q8_0Rows.widen(q0Hi, fs, 1).fma(xHi, hi0);
                            lo1 = Q8_0Rows.widen(q1Lo, fs, 1).fma(xLo, lo1);
                            hi1 = Q8_0Rows.widen(q1Hi, fs, 1).fma(xHi, hi1);
                        }
                    }
                    acc0 = lo0.fma(FloatVector.broadcast(fs, scales[2 * group]), acc0);
                    acc0 = hi0.fma(FloatVector.broadcast(fs, scales[2 * group + 1]), acc0);
                    acc1 = lo1.fma(FloatVector.broadcast(fs, scales[8 + 2 * group]), acc1);
                    acc1 = hi1.fma(FloatVector.broadcast(fs, scales[8 + 2 * group + 1]), acc1);
                }
            }
            out[r] = acc0.reduceLanes(VectorOperators.ADD) - minSum0;
            out[r1] = acc1.reduceLanes(VectorOperators.ADD) - minSum1;
        }
    }

    /** Σ x over each run of 32 values: the weight of each sub-block's min. */
    private static float[] subBlockSums(float[] x, int cols) {
        float[] sums = new float[cols / 32];
        for (int sub = 0; sub < sums.length; sub++) {
            float sum = 0;
            for (int i = 32 * sub; i < 32 * sub + 32; i++) {
                sum += x[i];
            }
            sums[sub] = sum;
        }
        return sums;
    }

    /**
     * d·scale and dmin·min of the block at {@code at}, per sub-block. The 6-bit values are packed in 12 bytes: for
     * sub-blocks 0–3 the low 6 bits of bytes 0–3 (scales) and 4–7 (mins); for 4–7 the low (scale) and high (min)
     * nibble of bytes 8–11, with their top 2 bits in the top bits of bytes 0–3 (scales) and 4–7 (mins).
     */
    private static void unpackScales(MemorySegment data, long at, float[] scales, float[] mins, int off) {
        int halves = data.get(LE_INT, at);
        float d = Float.float16ToFloat((short) halves);
        float dmin = Float.float16ToFloat((short) (halves >>> 16));
        long low = data.get(LE_LONG, at + 4); // bytes 0-7: scales 0-3, then mins 0-3
        int nibbles = data.get(LE_INT, at + 12); // bytes 8-11
        for (int sub = 0; sub < 4; sub++) {
            int lowScale = (int) (low >>> 8 * sub) & 0xFF;
            int lowMin = (int) (low >>> 8 * (sub + 4)) & 0xFF;
            int nibble = nibbles >>> 8 * sub;
            scales[off + sub] = d * (lowScale & 63);
            mins[off + sub] = dmin * (lowMin & 63);
            scales[off + sub + 4] = d * ((nibble & 0x0F) | (lowScale >>> 6) << 4);
            mins[off + sub + 4] = dmin * ((nibble >>> 4 & 0x0F) | (lowMin >>> 6) << 4);
        }
    }
}
