package dev.moe4j.kernels.quant;

import dev.moe4j.kernels.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Layout: {@code f16 d; int8 q[32]}; w[i] = q[i]·d. */
public final class Q8_0 implements BlockFormat, BlockQuantizer {
    public static final Q8_0 INSTANCE = new Q8_0();

    private Q8_0() {}

    @Override
    public DType type() {
        return DType.Q8_0;
    }

    @Override
    public void dequantize(MemorySegment data, long offset, float[] out, int outOff) {
        float d = BlockFormat.half(data, offset);
        for (int i = 0; i < 32; i++) {
            out[outOff + i] = data.get(ValueLayout.JAVA_BYTE, offset + 2 + i) * d;
        }
    }

    /** d = max|x| / 127 (stored as f16), q = round(x / d) with the unrounded d. */
    @Override
    public void quantize(float[] x, int xOff, MemorySegment out, long offset) {
        float amax = 0f;
        for (int i = 0; i < 32; i++) {
            amax = Math.max(amax, Math.abs(x[xOff + i]));
        }
        float d = amax / 127f;
        float id = d != 0f ? 1f / d : 0f;
        BlockQuantizer.putHalf(out, offset, d);
        for (int i = 0; i < 32; i++) {
            BlockQuantizer.putByte(out, offset + 2 + i, (int) BlockQuantizer.roundHalfAwayFromZero(x[xOff + i] * id));
        }
    }
}
