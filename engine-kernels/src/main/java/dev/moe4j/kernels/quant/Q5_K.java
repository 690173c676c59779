package dev.moe4j.kernels.quant;

import dev.moe4j.kernels.DType;
import java.lang.foreign.MemorySegment;

/**
 * Layout (176 bytes for 256 weights): {@code f16 d; f16 dmin; uint8 scales[12]; uint8 qh[32]; uint8 qs[128]}. Scales
 * and mins of the eight sub-blocks of 32 are packed as in {@link Q4_K}, and so are the low 4 bits of the weights
 * (64-weight groups whose 32 bytes hold sub-block 2g in the low nibbles and 2g + 1 in the high nibbles); the fifth
 * bit of weight l of sub-block s is bit s of qh[l]. w = d·scale·q − dmin·min.
 */
public final class Q5_K implements BlockFormat {
    public static final Q5_K INSTANCE = new Q5_K();

    private Q5_K() {}

    @Override
    public DType type() {
        return DType.Q5_K;
    }

    @Override
    public void dequantize(MemorySegment data, long offset, float[] out, int outOff) {
        float d = BlockFormat.half(data, offset);
        float dmin = BlockFormat.half(data, offset + 2);
        long scales = offset + 4;
        long qh = offset + 16;
        long qs = offset + 48;
        for (int sub = 0; sub < 8; sub++) {
            float scale = d * Q4_K.scale(data, scales, sub);
            float min = dmin * Q4_K.min(data, scales, sub);
            int shift = sub % 2 == 0 ? 0 : 4;
            for (int l = 0; l < 32; l++) {
                int low = BlockFormat.u8(data, qs + 32L * (sub / 2) + l) >>> shift & 0x0F;
                int high = BlockFormat.u8(data, qh + l) >>> sub & 1;
                out[outOff + 32 * sub + l] = scale * (low | high << 4) - min;
            }
        }
    }
}
