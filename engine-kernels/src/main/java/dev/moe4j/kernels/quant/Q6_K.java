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
public final class Q6_K implements BlockFormat {
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

    private static int scale(MemorySegment data, long sc, int j) {
        return data.get(ValueLayout.JAVA_BYTE, sc + j);
    }
}
