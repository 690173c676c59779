package dev.moe4j.kernels.quant;

import dev.moe4j.kernels.DType;
import java.lang.foreign.MemorySegment;

/**
 * Layout: {@code f16 d; uint8 qs[16]}; byte j holds weight j in its low nibble and weight j + 16 in its high
 * nibble; w = (q − 8)·d.
 */
public final class Q4_0 implements BlockFormat, BlockQuantizer {
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

    /**
     * d = m / −8 where m is the value of largest magnitude (sign kept, first one on ties), so m maps to quant 0;
     * q = min(15, trunc(x / d + 8.5)).
     */
    @Override
    public void quantize(float[] x, int xOff, MemorySegment out, long offset) {
        float max = BlockQuantizer.largestMagnitude(x, xOff, 32);
        float d = max / -8f;
        float id = d != 0f ? 1f / d : 0f;
        BlockQuantizer.putHalf(out, offset, d);
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) (x[xOff + j] * id + 8.5f));
            int hi = Math.min(15, (int) (x[xOff + j + 16] * id + 8.5f));
            BlockQuantizer.putByte(out, offset + 2 + j, lo | (hi << 4));
        }
    }
}
