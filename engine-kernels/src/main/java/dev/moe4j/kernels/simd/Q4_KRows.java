package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;
import static dev.moe4j.kernels.simd.Storage.half;
import static dev.moe4j.kernels.simd.Storage.u8;

import dev.moe4j.kernels.Matrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Widening of Q4_K blocks ({@code f16 d; f16 dmin; uint8 scales[12]; uint8 qs[128]} for 256 weights, see
 * {@link dev.moe4j.kernels.quant.Q4_K}), bit for bit as the scalar dequantiser: w = (d·scale)·q − dmin·min.
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
        for (int block = 0; block < blocks; block++) {
            long at = base + block * BLOCK_BYTES;
            float d = half(data, at);
            float dmin = half(data, at + 2);
            long scales = at + 4;
            long qs = at + 16;
            // four groups of 64 weights: 32 bytes, sub-block 2g in the low nibbles, 2g + 1 in the high ones
            for (int group = 0; group < 4; group++) {
                float dLo = d * scale(data, scales, 2 * group);
                float mLo = dmin * min(data, scales, 2 * group);
                float dHi = d * scale(data, scales, 2 * group + 1);
                float mHi = dmin * min(data, scales, 2 * group + 1);
                int o = outOff + block * BLOCK + 64 * group;
                for (int j = 0; j < 32; j += bs.length()) {
                    ByteVector q = ByteVector.fromMemorySegment(bs, data, qs + 32L * group + j, LE);
                    ByteVector lo = q.and((byte) 0x0F);
                    ByteVector hi = q.lanewise(VectorOperators.LSHR, 4);
                    Q8_0Rows.widen(lo, fs, 0).mul(dLo).sub(mLo).intoArray(out, o + j);
                    Q8_0Rows.widen(hi, fs, 0).mul(dHi).sub(mHi).intoArray(out, o + j + 32);
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
     * The 6-bit scale of sub-block {@code sub}: for 0–3 the low 6 bits of bytes 0–3; for 4–7 the low nibble of
     * bytes 8–11 with the top 2 bits of bytes 0–3 above it.
     */
    private static int scale(MemorySegment data, long scales, int sub) {
        if (sub < 4) {
            return u8(data, scales + sub) & 63;
        }
        return (u8(data, scales + sub + 4) & 0x0F) | (u8(data, scales + sub - 4) >>> 6) << 4;
    }

    /**
     * The 6-bit min of sub-block {@code sub}: for 0–3 the low 6 bits of bytes 4–7; for 4–7 the high nibble of
     * bytes 8–11 with the top 2 bits of bytes 4–7 above it.
     */
    private static int min(MemorySegment data, long scales, int sub) {
        if (sub < 4) {
            return u8(data, scales + sub + 4) & 63;
        }
        return (u8(data, scales + sub + 4) >>> 4) | (u8(data, scales + sub) >>> 6) << 4;
    }
}
