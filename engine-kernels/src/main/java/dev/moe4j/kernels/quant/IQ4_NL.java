package dev.moe4j.kernels.quant;

import dev.moe4j.kernels.DType;
import java.lang.foreign.MemorySegment;

/**
 * Layout (18 bytes for 32 weights): {@code f16 d; uint8 qs[16]}, nibbles as in {@link Q4_0} (weight j in the low
 * nibble of qs[j], weight j + 16 in its high nibble), each an index into 16 non-uniform {@linkplain #level levels};
 * w = d·level(q).
 */
public final class IQ4_NL implements BlockFormat {
    public static final IQ4_NL INSTANCE = new IQ4_NL();

    /** The levels a nibble selects, denser near zero where weights are frequent. */
    private static final byte[] LEVELS = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    private IQ4_NL() {}

    /** The level that nibble {@code q} selects. */
    public static int level(int q) {
        return LEVELS[q];
    }

    @Override
    public DType type() {
        return DType.IQ4_NL;
    }

    @Override
    public void dequantize(MemorySegment data, long offset, float[] out, int outOff) {
        float d = BlockFormat.half(data, offset);
        for (int j = 0; j < 16; j++) {
            int q = BlockFormat.u8(data, offset + 2 + j);
            out[outOff + j] = d * LEVELS[q & 0x0F];
            out[outOff + j + 16] = d * LEVELS[q >>> 4];
        }
    }
}
