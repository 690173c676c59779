package dev.moe4j.kernels.quant;

import dev.moe4j.kernels.DType;
import java.lang.foreign.MemorySegment;

/**
 * Layout (24 bytes for 32 weights): {@code f16 d; f16 m; uint8 qh[4]; uint8 qs[16]}, quants as in {@link Q5_0}
 * (4 bits from the nibbles of qs, the fifth from bit j of qh) but unsigned; w = q·d + m.
 */
public final class Q5_1 implements BlockFormat, BlockQuantizer {
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

    /** d = (max − min) / 31, m = min; q = trunc((x − min) / d + 0.5). */
    @Override
    public void quantize(float[] x, int xOff, MemorySegment out, long offset) {
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (int i = 0; i < 32; i++) {
            float v = x[xOff + i];
            if (v < min) {
                min = v;
            }
            if (v > max) {
                max = v;
            }
        }
        float d = (max - min) / 31f;
        float id = d != 0f ? 1f / d : 0f;
        BlockQuantizer.putHalf(out, offset, d);
        BlockQuantizer.putHalf(out, offset + 2, min);
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            int lo = (int) ((x[xOff + j] - min) * id + 0.5f);
            int hi = (int) ((x[xOff + j + 16] - min) * id + 0.5f);
            BlockQuantizer.putByte(out, offset + 8 + j, (lo & 0x0F) | ((hi & 0x0F) << 4));
            qh |= ((lo >> 4) & 1) << j | ((hi >> 4) & 1) << (j + 16);
        }
        out.set(BlockFormat.LE_INT, offset + 4, qh);
    }
}
