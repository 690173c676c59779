package dev.moe4j.kernels.quant;

import dev.moe4j.kernels.DType;
import java.lang.foreign.MemorySegment;

/**
 * Layout (84 bytes for 256 weights): {@code uint8 scales[16]; uint8 qs[64]; f16 d; f16 dmin}. Sixteen sub-blocks of
 * 16 weights; byte {@code scales[s]} holds sub-block s's 4-bit scale (low nibble) and 4-bit min (high nibble). Each
 * half of 128 weights takes 32 bytes of qs: weight 32k + l of the half (k &lt; 4, l &lt; 32) is bits 2k, 2k + 1 of
 * byte l, so sub-block 8h + 2k reads bytes 0–15 and 8h + 2k + 1 bytes 16–31 at the same shift.
 * w = (d·scale)·q − dmin·min.
 */
public final class Q2_K implements BlockFormat {
    public static final Q2_K INSTANCE = new Q2_K();

    private Q2_K() {}

    @Override
    public DType type() {
        return DType.Q2_K;
    }

    @Override
    public void dequantize(MemorySegment data, long offset, float[] out, int outOff) {
        float d = BlockFormat.half(data, offset + 80);
        float dmin = BlockFormat.half(data, offset + 82);
        for (int i = 0; i < 256; i++) {
            int half = i / 128;
            int k = i % 128 / 32;
            int l = i % 32;
            int sub = i / 16;
            int sc = BlockFormat.u8(data, offset + sub);
            int q = BlockFormat.u8(data, offset + 16 + 32L * half + l) >>> 2 * k & 3;
            out[outOff + i] = d * (sc & 0x0F) * q - dmin * (sc >>> 4);
        }
    }
}
