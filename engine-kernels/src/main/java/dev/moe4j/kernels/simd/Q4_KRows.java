package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;
import static dev.moe4j.kernels.simd.Storage.LE_INT;
import static dev.moe4j.kernels.simd.Storage.LE_LONG;

import dev.moe4j.kernels.Matrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
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
     * out[r] = w[r]·x for r in [rowStart, rowEnd), each weight widened in registers to the float the scalar
     * dequantiser gives, (d·scale)·q − dmin·min, and summed in {@link TileMatmul}'s canonical order.
     */
    static void matvec(Lanes lanes, float[] out, Matrix w, float[] x, int rowStart, int rowEnd) {
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Byte> bs = lanes.bytes();
        int parts = bs.length() / fs.length();
        MemorySegment data = w.data();
        int blocks = w.cols() / BLOCK;
        int n = fs.length();
        float[] sums = new float[2 * n]; // [2 rows][n lanes]
        float[] scales = new float[16]; // [2 rows][8 sub-blocks]
        float[] mins = new float[16];
        int last = rowEnd - 1;
        // two rows per pass share each load of x (more exceed C2's inlining budget). A pass short of rows repeats
        // the last one, so that every row is summed by this same code.
        for (int r = rowStart; r < rowEnd; r += 2) {
            long base0 = w.rowOffset(r);
            long base1 = w.rowOffset(Math.min(r + 1, last));
            FloatVector acc0 = FloatVector.zero(fs);
            FloatVector acc1 = acc0;
            for (int block = 0; block < blocks; block++) {
                long at0 = base0 + block * BLOCK_BYTES;
                long at1 = base1 + block * BLOCK_BYTES;
                unpackScales(data, at0, scales, mins, 0);
                unpackScales(data, at1, scales, mins, 8);
                // sub-block 2g from the low nibbles of group g's 32 bytes, then 2g + 1 from the high ones: each lane
                // sums its columns in order
                for (int sub = 0; sub < 8; sub++) {
                    float scale0 = scales[sub];
                    float min0 = mins[sub];
                    float scale1 = scales[8 + sub];
                    float min1 = mins[8 + sub];
                    long qs = 16 + 32L * (sub / 2);
                    boolean highNibbles = sub % 2 == 1;
                    for (int j = 0; j < 32; j += bs.length()) {
                        ByteVector q0 = ByteVector.fromMemorySegment(bs, data, at0 + qs + j, LE);
                        ByteVector q1 = ByteVector.fromMemorySegment(bs, data, at1 + qs + j, LE);
                        q0 = highNibbles ? Q8_0Rows.highNibbles(q0) : q0.and((byte) 0x0F);
                        q1 = highNibbles ? Q8_0Rows.highNibbles(q1) : q1.and((byte) 0x0F);
                        int i = block * BLOCK + 32 * sub + j;
                        FloatVector xv = FloatVector.fromArray(fs, x, i);
                        acc0 = Q8_0Rows.widen(q0, fs, 0).mul(scale0).sub(min0).fma(xv, acc0);
                        acc1 = Q8_0Rows.widen(q1, fs, 0).mul(scale1).sub(min1).fma(xv, acc1);
                        // 128-bit registers: the 8 loaded bytes fill a second vector of 4 floats
                        if (parts == 2) {
                            xv = FloatVector.fromArray(fs, x, i + n);
                            acc0 = Q8_0Rows.widen(q0, fs, 1).mul(scale0).sub(min0).fma(xv, acc0);
                            acc1 = Q8_0Rows.widen(q1, fs, 1).mul(scale1).sub(min1).fma(xv, acc1);
                        }
                    }
                }
            }
            acc0.intoArray(sums, 0);
            acc1.intoArray(sums, n);
            out[r] = lanes.sum(sums, 0);
            out[Math.min(r + 1, last)] = lanes.sum(sums, n);
        }
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
