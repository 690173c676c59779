package dev.moe4j.kernels.quant;

import dev.moe4j.kernels.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Layout (210 bytes for 256 weights): {@code uint8 ql[128]; uint8 qh[64]; int8 scales[16]; f16 d}. Each
 * 6-bit quant is 4 low bits from {@code ql} and 2 high bits from {@code qh}, offset by 32; sixteen sub-blocks of
 * 16 weights each have an int8 scale. w = d·scale·(q − 32). Two halves of 128 weights, each from 64 bytes of
 * ql and 32 of qh.
 */
public final class Q6_K implements BlockFormat, BlockQuantizer {
    public static final Q6_K INSTANCE = new Q6_K();

    private Q6_K() {}

    @Override
    public DType type() {
        return DType.Q6_K;
    }

    @Override
    public void dequantize(MemorySegment data, long offset, float[] out, int outOff) {
        float d = BlockFormat.half(data, offset + 208);
        for (int half = 0; half < 2; half++) {
            long ql = offset + 64L * half;
            long qh = offset + 128 + 32L * half;
            long sc = offset + 192 + 8L * half;
            int base = outOff + 128 * half;
            for (int l = 0; l < 32; l++) {
                int sub = l / 16;
                int low0 = BlockFormat.u8(data, ql + l);
                int low32 = BlockFormat.u8(data, ql + l + 32);
                int high = BlockFormat.u8(data, qh + l);
                int q1 = ((low0 & 0x0F) | ((high & 3) << 4)) - 32;
                int q2 = ((low32 & 0x0F) | (((high >>> 2) & 3) << 4)) - 32;
                int q3 = ((low0 >>> 4) | (((high >>> 4) & 3) << 4)) - 32;
                int q4 = ((low32 >>> 4) | (((high >>> 6) & 3) << 4)) - 32;
                out[base + l] = d * scale(data, sc, sub) * q1;
                out[base + l + 32] = d * scale(data, sc, sub + 2) * q2;
                out[base + l + 64] = d * scale(data, sc, sub + 4) * q3;
                out[base + l + 96] = d * scale(data, sc, sub + 6) * q4;
            }
        }
    }

    /**
     * Per 16-weight sub-block a symmetric 6-bit fit; the sub-block scales become int8 relative to the one of
     * largest magnitude (−128 maps to it), then every weight is requantised against the stored scales.
     */
    @Override
    public void quantize(float[] x, int xOff, MemorySegment out, long offset) {
        int[] levels = new int[256];
        float[] scales = new float[16];
        float maxScale = 0f;
        float maxAbsScale = 0f;
        for (int ib = 0; ib < 16; ib++) {
            float scale = KQuants.symmetric(16, 32, x, xOff + 16 * ib, levels, 16 * ib);
            scales[ib] = scale;
            if (Math.abs(scale) > maxAbsScale) {
                maxAbsScale = Math.abs(scale);
                maxScale = scale;
            }
        }
        if (maxAbsScale < KQuants.GROUP_MAX_EPS) {
            out.asSlice(offset, 210).fill((byte) 0);
            return;
        }
        float iscale = -128f / maxScale;
        BlockQuantizer.putHalf(out, offset + 208, 1f / iscale);
        float d = KQuants.roundTripHalf(1f / iscale);
        int[] sc = new int[16];
        for (int ib = 0; ib < 16; ib++) {
            sc[ib] = Math.min(127, KQuants.nearestInt(iscale * scales[ib]));
            BlockQuantizer.putByte(out, offset + 192 + ib, sc[ib]);
        }
        for (int j = 0; j < 16; j++) {
            float dj = d * sc[j];
            if (dj == 0f) {
                continue;
            }
            for (int i = 0; i < 16; i++) {
                int l = KQuants.nearestInt(x[xOff + 16 * j + i] / dj);
                levels[16 * j + i] = Math.max(-32, Math.min(31, l)) + 32;
            }
        }
        for (int half = 0; half < 2; half++) {
            int j = 128 * half;
            long ql = offset + 64L * half;
            long qh = offset + 128 + 32L * half;
            for (int l = 0; l < 32; l++) {
                int q1 = levels[j + l];
                int q2 = levels[j + l + 32];
                int q3 = levels[j + l + 64];
                int q4 = levels[j + l + 96];
                BlockQuantizer.putByte(out, ql + l, (q1 & 0xF) | ((q3 & 0xF) << 4));
                BlockQuantizer.putByte(out, ql + l + 32, (q2 & 0xF) | ((q4 & 0xF) << 4));
                BlockQuantizer.putByte(out, qh + l, (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
        }
    }

    private static int scale(MemorySegment data, long sc, int j) {
        return data.get(ValueLayout.JAVA_BYTE, sc + j);
    }
}
