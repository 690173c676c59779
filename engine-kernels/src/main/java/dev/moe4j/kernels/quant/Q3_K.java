package dev.moe4j.kernels.quant;

import dev.moe4j.kernels.DType;
import java.lang.foreign.MemorySegment;

/**
 * Layout (110 bytes for 256 weights): {@code uint8 hmask[32]; uint8 qs[64]; uint8 scales[12]; f16 d}. Each half of
 * 128 weights takes 32 bytes of qs: weight 32k + l of half h (k &lt; 4, l &lt; 32) has its low 2 bits at bits 2k,
 * 2k + 1 of byte l and its third bit at bit 4h + k of hmask[l]; q = low − 4 when that bit is clear, else low.
 * Sixteen sub-blocks of 16 weights have 6-bit scales stored with an offset of 32: the low nibble of scale s is in
 * scales[s] (s &lt; 8) or the high nibble of scales[s − 8], its top 2 bits at bits 2·(s / 4) of scales[8 + s % 4].
 * w = (d·(scale − 32))·q.
 */
public final class Q3_K implements BlockFormat {
    public static final Q3_K INSTANCE = new Q3_K();

    private Q3_K() {}

    @Override
    public DType type() {
        return DType.Q3_K;
    }

    @Override
    public void dequantize(MemorySegment data, long offset, float[] out, int outOff) {
        float d = BlockFormat.half(data, offset + 108);
        for (int i = 0; i < 256; i++) {
            int half = i / 128;
            int k = i % 128 / 32;
            int l = i % 32;
            int low = BlockFormat.u8(data, offset + 32 + 32L * half + l) >>> 2 * k & 3;
            boolean high = (BlockFormat.u8(data, offset + l) >>> 4 * half + k & 1) != 0;
            int q = high ? low : low - 4;
            out[outOff + i] = d * (scale(data, offset + 96, i / 16) - 32) * q;
        }
    }

    /** The 6-bit scale of sub-block s, before its offset of 32 is taken off. */
    static int scale(MemorySegment data, long scales, int s) {
        int low = s < 8 ? BlockFormat.u8(data, scales + s) & 0x0F : BlockFormat.u8(data, scales + s - 8) >>> 4;
        int high = BlockFormat.u8(data, scales + 8 + s % 4) >>> 2 * (s / 4) & 3;
        return low | high << 4;
    }
}
