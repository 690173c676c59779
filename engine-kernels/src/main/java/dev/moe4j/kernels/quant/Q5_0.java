package dev.moe4j.kernels.quant;

import dev.moe4j.kernels.DType;
import java.lang.foreign.MemorySegment;

/**
 * Layout (22 bytes for 32 weights): {@code f16 d; uint8 qh[4]; uint8 qs[16]}. Weight j's low 4 bits are the low
 * nibble of qs[j] for j < 16 and the high nibble of qs[j − 16] otherwise; its fifth bit is bit j of qh read as a
 * little-endian 32-bit word. w = (q − 16)·d.
 */
public final class Q5_0 implements BlockFormat {
    public static final Q5_0 INSTANCE = new Q5_0();

    private Q5_0() {}

    @Override
    public DType type() {
        return DType.Q5_0;
    }

    @Override
    public void dequantize(MemorySegment data, long offset, float[] out, int outOff) {
        float d = BlockFormat.half(data, offset);
        int qh = BlockFormat.u32(data, offset + 2);
        for (int j = 0; j < 16; j++) {
            int q = BlockFormat.u8(data, offset + 6 + j);
            int lo = (q & 0x0F) | ((qh >>> j) & 1) << 4;
            int hi = (q >>> 4) | ((qh >>> (j + 16)) & 1) << 4;
            out[outOff + j] = (lo - 16) * d;
            out[outOff + j + 16] = (hi - 16) * d;
        }
    }
}
