package dev.moe4j.kernels.quant;

import dev.moe4j.kernels.DType;
import java.lang.foreign.MemorySegment;

/**
 * Layout (20 bytes for 32 weights): {@code f16 d; f16 m; uint8 qs[16]}; byte j holds weight j in its low nibble and
 * weight j + 16 in its high nibble; w = q·d + m.
 */
public final class Q4_1 implements BlockFormat {
    public static final Q4_1 INSTANCE = new Q4_1();

    private Q4_1() {}

    @Override
    public DType type() {
        return DType.Q4_1;
    }

    @Override
    public void dequantize(MemorySegment data, long offset, float[] out, int outOff) {
        float d = BlockFormat.half(data, offset);
        float m = BlockFormat.half(data, offset + 2);
        for (int j = 0; j < 16; j++) {
            int q = BlockFormat.u8(data, offset + 4 + j);
            out[outOff + j] = (q & 0x0F) * d + m;
            out[outOff + j + 16] = (q >>> 4) * d + m;
        }
    }
}
