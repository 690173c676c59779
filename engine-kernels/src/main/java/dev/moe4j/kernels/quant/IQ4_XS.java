package dev.moe4j.kernels.quant;

import dev.moe4j.kernels.DType;
import java.lang.foreign.MemorySegment;

/**
 * Layout (136 bytes for 256 weights): {@code f16 d; uint16 scales_h; uint8 scales_l[4]; uint8 qs[128]}. Eight
 * sub-blocks of 32 weights, each laid out as an {@link IQ4_NL} block's nibbles in its 16 bytes of qs, with a 6-bit
 * scale stored with an offset of 32: low nibble in scales_l[s / 2] (the high nibble for odd s), top 2 bits at
 * bits 2s of the little-endian scales_h. w = (d·(scale − 32))·level(q).
 */
public final class IQ4_XS implements BlockFormat {
    public static final IQ4_XS INSTANCE = new IQ4_XS();

    private IQ4_XS() {}

    @Override
    public DType type() {
        return DType.IQ4_XS;
    }

    @Override
    public void dequantize(MemorySegment data, long offset, float[] out, int outOff) {
        float d = BlockFormat.half(data, offset);
        int scalesHigh = data.get(LE_SHORT, offset + 2) & 0xFFFF;
        for (int sub = 0; sub < 8; sub++) {
            int low = BlockFormat.u8(data, offset + 4 + sub / 2) >>> 4 * (sub % 2) & 0x0F;
            int high = scalesHigh >>> 2 * sub & 3;
            float scale = d * ((low | high << 4) - 32);
            for (int j = 0; j < 16; j++) {
                int q = BlockFormat.u8(data, offset + 8 + 16L * sub + j);
                out[outOff + 32 * sub + j] = scale * IQ4_NL.level(q & 0x0F);
                out[outOff + 32 * sub + j + 16] = scale * IQ4_NL.level(q >>> 4);
            }
        }
    }
}
