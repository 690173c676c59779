package dev.moe4j.kernels.quant;

import dev.moe4j.kernels.DType;
import java.lang.foreign.MemorySegment;

/**
 * Layout: {@code f16 d; uint8 qs[16]}; byte j holds weight j in its low nibble and weight j + 16 in its high
 * nibble; w = (q − 8)·d.
 */
public final class Q4_0 implements BlockFormat {
    public static final Q4_0 INSTANCE = new Q4_0();

    private Q4_0() {}

    @Override
    public DType type() {
        return DType.Q4_0;
    }

    @Override
    public void dequantize(MemorySegment data, long offset, float[] out, int outOff) {
        float d = BlockFormat.half(data, offset);
        for (int j = 0; j < 16; j++) {
            int q = BlockFormat.u8(data, offset + 2 + j);
            out[outOff + j] = ((q & 0x0F) - 8) * d;
            out[outOff + j + 16] = ((q >>> 4) - 8) * d;
        }
    }
}
