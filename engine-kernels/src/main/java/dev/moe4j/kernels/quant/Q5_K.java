package dev.moe4j.kernels.quant;

import dev.moe4j.kernels.DType;
import java.lang.foreign.MemorySegment;

/**
 * Layout (176 bytes for 256 weights): {@code f16 d; f16 dmin; uint8 scales[12]; uint8 qh[32]; uint8 qs[128]}. Scales
 * and mins of the eight sub-blocks of 32 are packed as in {@link Q4_K}, and so are the low 4 bits of the weights
 * (64-weight groups whose 32 bytes hold sub-block 2g in the low nibbles and 2g + 1 in the high nibbles); the fifth
 * bit of weight l of sub-block s is bit s of qh[l]. w = d·scale·q − dmin·min.
 */
public final class Q5_K implements BlockFormat, BlockQuantizer {
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

    /**
     * Affine 5-bit fits per sub-block (16 candidate scales from (nmax − 0.5) / range in steps of 0.1), packed 6-bit
     * scales.
     */
    @Override
    public void quantize(float[] x, int xOff, MemorySegment out, long offset) {
        int[] levels = new int[256];
        KQuants.affineSuperBlock(x, xOff, 31, -0.5f, 15, out, offset, levels);
        int[] qh = new int[32];
        for (int group = 0; group < 4; group++) {
            int n = 64 * group;
            for (int j = 0; j < 32; j++) {
                int l1 = levels[n + j];
                int l2 = levels[n + j + 32];
                qh[j] |= (l1 >> 4) << (2 * group) | (l2 >> 4) << (2 * group + 1);
                BlockQuantizer.putByte(out, offset + 48 + 32L * group + j, (l1 & 0xF) | ((l2 & 0xF) << 4));
            }
        }
        for (int j = 0; j < 32; j++) {
            BlockQuantizer.putByte(out, offset + 16 + j, qh[j]);
        }
    }
}
