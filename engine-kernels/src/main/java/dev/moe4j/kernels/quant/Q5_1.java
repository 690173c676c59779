package dev.moe4j.kernels.quant;

import dev.moe4j.kernels.DType;
import java.lang.foreign.MemorySegment;

/**
 * Layout (24 bytes for 32 weights): {@code f16 d; f16 m; uint8 qh[4]; uint8 qs[16]}, quants as in {@link Q5_0}
 * (4 bits from the nibbles of qs, the fifth from bit j of qh) but unsigned; w = q·d + m.
 */
public final class Q5_1 implements BlockFormat {
    public static final Q5_1 INSTANCE = new Q5_1();

    private Q5_1() {}

    @Override
    public DType type() {
        return DType.Q5_1;
    }

    @Override
    public void dequantize(MemorySegment data, long offset, float[] out, int outOff) {
        float d = BlockFormat.half(data, offset);
        float m = BlockFormat.half(data, offset + 2);
        int qh = BlockFormat.u32(data, offset + 4);
        for (int j = 0; j < 16; j++) {
            int q = BlockFormat.u8(data, offset + 8 + j);
            int lo = (q & 0x0F) | ((qh >>> j) & 1) << 4;
            int hi = (q >>> 4) | ((qh >>> (j + 16)) & 1) << 4;
            out[outOff + j] = lo * d + m;
            out[outOff + j + 16] = hi * d + m;
        }
    }
}
