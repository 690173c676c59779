package dev.moe4j.kernels.quant;

import dev.moe4j.kernels.DType;
import java.lang.foreign.MemorySegment;

/**
 * Layout (22 bytes for 32 weights): {@code f16 d; uint8 qh[4]; uint8 qs[16]}. Weight j's low 4 bits are the low
 * nibble of qs[j] for j {@literal <} 16 and the high nibble of qs[j − 16] otherwise; its fifth bit is bit j of qh read as a
 * little-endian 32-bit word. w = (q − 16)·d.
 */
public final class Q5_0 implements BlockFormat, BlockQuantizer {
    public static final Q5_0 INSTANCE = new Q5_0();

    private Q5_0() {}

    @Override
    public DType type() {
        return DType.Q5_0;
    }

    @Override
    public void dequantize(MemorySegment data, long offset, float[] out, int outOff) {
        float d = BlockFormat.half(data, offset);
        int qh = BlockFormat.u32(data, offset + 2);
        for (int j = 0; j < 16; j++) {
            int q = BlockFormat.u8(data, offset + 6 + j);
            int lo = (q & 0x0F) | ((qh >>> j) & 1) << 4;
            int hi = (q >>> 4) | ((qh >>> (j + 16)) & 1) << 4;
            out[outOff + j] = (lo - 16) * d;
            out[outOff + j + 16] = (hi - 16) * d;
        }
    }

    /** d = m / −16 with m the value of largest magnitude (first on ties); q = min(31, trunc(x / d + 16.5)). */
    @Override
    public void quantize(float[] x, int xOff, MemorySegment out, long offset) {
        float max = BlockQuantizer.largestMagnitude(x, xOff, 32);
        float d = max / -16f;
        float id = d != 0f ? 1f / d : 0f;
        BlockQuantizer.putHalf(out, offset, d);
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(31, (int) (x[xOff + j] * id + 16.5f));
            int hi = Math.min(31, (int) (x[xOff + j + 16] * id + 16.5f));
            BlockQuantizer.putByte(out, offset + 6 + j, (lo & 0x0F) | ((hi & 0x0F) << 4));
            qh |= ((lo >> 4) & 1) << j | ((hi >> 4) & 1) << (j + 16);
        }
        out.set(BlockFormat.LE_INT, offset + 2, qh);
    }
}
