package dev.moe4j.kernels.quant;

import dev.moe4j.kernels.DType;
import java.lang.foreign.MemorySegment;

/**
 * Layout (144 bytes for 256 weights): {@code f16 d; f16 dmin; uint8 scales[12]; uint8 qs[128]}. Eight
 * sub-blocks of 32 weights, each with a 6-bit scale and a 6-bit min packed into {@code scales}; weights come in
 * 64-weight groups whose 32 bytes hold sub-block 2g in the low nibbles and 2g + 1 in the high nibbles.
 * w = d·scale·q − dmin·min.
 */
public final class Q4_K implements BlockFormat, BlockQuantizer {
    public static final Q4_K INSTANCE = new Q4_K();

    private Q4_K() {}

    @Override
    public DType type() {
        return DType.Q4_K;
    }

    @Override
    public void dequantize(MemorySegment data, long offset, float[] out, int outOff) {
        float d = BlockFormat.half(data, offset);
        float dmin = BlockFormat.half(data, offset + 2);
        long scales = offset + 4;
        long qs = offset + 16;
        for (int group = 0; group < 4; group++) {
            int lowSub = 2 * group;
            float d1 = d * scale(data, scales, lowSub);
            float m1 = dmin * min(data, scales, lowSub);
            float d2 = d * scale(data, scales, lowSub + 1);
            float m2 = dmin * min(data, scales, lowSub + 1);
            int base = outOff + 64 * group;
            for (int l = 0; l < 32; l++) {
                int q = BlockFormat.u8(data, qs + 32L * group + l);
                out[base + l] = d1 * (q & 0x0F) - m1;
                out[base + 32 + l] = d2 * (q >>> 4) - m2;
            }
        }
    }

    /**
     * Affine 4-bit fits per sub-block (21 candidate scales from (nmax − 1) / range in steps of 0.1), packed 6-bit
     * scales.
     */
    @Override
    public void quantize(float[] x, int xOff, MemorySegment out, long offset) {
        int[] levels = new int[256];
        KQuants.affineSuperBlock(x, xOff, 15, -1f, 20, out, offset, levels);
        for (int group = 0; group < 4; group++) {
            for (int l = 0; l < 32; l++) {
                int j = 64 * group;
                BlockQuantizer.putByte(out, offset + 16 + 32L * group + l, levels[j + l] | (levels[j + l + 32] << 4));
            }
        }
    }

    /** 6-bit scale of sub-block j: bytes 0–3 hold scales 0–3 low 6 bits; 8–11 low nibbles + top bits of 0–3 for 4–7. */
    public static int scale(MemorySegment data, long scales, int j) {
        if (j < 4) {
            return BlockFormat.u8(data, scales + j) & 63;
        }
        return (BlockFormat.u8(data, scales + j + 4) & 0x0F) | ((BlockFormat.u8(data, scales + j - 4) >>> 6) << 4);
    }

    /** 6-bit min of sub-block j: bytes 4–7 for mins 0–3; 8–11 high nibbles + top bits of 4–7 for 4–7. */
    public static int min(MemorySegment data, long scales, int j) {
        if (j < 4) {
            return BlockFormat.u8(data, scales + j + 4) & 63;
        }
        return (BlockFormat.u8(data, scales + j + 4) >>> 4) | ((BlockFormat.u8(data, scales + j) >>> 6) << 4);
    }
}
