package dev.moe4j.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Packs chosen integers and scales into GGML blocks, written from the layout descriptions (ggml-common.h block
 * structs), independently of the dequantisers they test.
 */
final class BlockPacker {

    private BlockPacker() {}

    private static MemorySegment allocate(long bytes) {
        return Arena.ofAuto().allocate(bytes, 2);
    }

    private static void putHalf(MemorySegment data, long offset, float value) {
        data.set(TestMatrices.LE_SHORT, offset, Float.floatToFloat16(value));
    }

    private static void putByte(MemorySegment data, long offset, int value) {
        data.set(ValueLayout.JAVA_BYTE, offset, (byte) value);
    }

    /** Q8_0: {@code f16 d; int8 qs[32]} per block; q in [-128, 127]. */
    static MemorySegment q8_0(float[] d, int[] q) {
        MemorySegment data = allocate(34L * d.length);
        for (int block = 0; block < d.length; block++) {
            putHalf(data, 34L * block, d[block]);
            for (int i = 0; i < 32; i++) {
                putByte(data, 34L * block + 2 + i, q[32 * block + i]);
            }
        }
        return data;
    }

    /** Q4_0: {@code f16 d; uint8 qs[16]}; weight i < 16 in the low nibble of qs[i], weight i + 16 in its high one. */
    static MemorySegment q4_0(float[] d, int[] q) {
        MemorySegment data = allocate(18L * d.length);
        for (int block = 0; block < d.length; block++) {
            putHalf(data, 18L * block, d[block]);
            for (int i = 0; i < 16; i++) {
                putByte(data, 18L * block + 2 + i, q[32 * block + i] | q[32 * block + i + 16] << 4);
            }
        }
        return data;
    }

    /**
     * One Q4_K block: {@code f16 d; f16 dmin; uint8 scales[12]; uint8 qs[128]}. Scales and mins are 6-bit: for
     * sub-block j < 4, scales[j] and scales[j + 4] hold scale j and min j in their low 6 bits; for j ≥ 4, the low
     * nibbles of scale j and min j go to the low and high nibbles of scales[j + 4], and their top 2 bits to the top
     * bits of scales[j − 4] and scales[j]. Weights come in four groups of 64: qs[32g + l] holds weight 64g + l in
     * its low nibble and 64g + 32 + l in its high nibble.
     */
    static MemorySegment q4_K(float d, float dmin, int[] scales, int[] mins, int[] q) {
        MemorySegment data = allocate(144);
        putHalf(data, 0, d);
        putHalf(data, 2, dmin);
        for (int j = 0; j < 4; j++) {
            putByte(data, 4 + j, scales[j] | (scales[j + 4] >> 4) << 6);
            putByte(data, 4 + j + 4, mins[j] | (mins[j + 4] >> 4) << 6);
            putByte(data, 4 + j + 8, (scales[j + 4] & 0x0F) | (mins[j + 4] & 0x0F) << 4);
        }
        for (int group = 0; group < 4; group++) {
            for (int l = 0; l < 32; l++) {
                putByte(data, 16 + 32 * group + l, q[64 * group + l] | q[64 * group + 32 + l] << 4);
            }
        }
        return data;
    }

    /**
     * One Q6_K block: {@code uint8 ql[128]; uint8 qh[64]; int8 scales[16]; f16 d}; q is 6-bit, weight i uses
     * scales[i / 16]. In each half h of 128 weights, for l < 32, the weights l, l + 32, l + 64, l + 96 (q1..q4)
     * keep their low nibbles in ql[64h + l] (q1 low, q3 high) and ql[64h + 32 + l] (q2 low, q4 high), and their top
     * 2 bits in qh[32h + l] at bits 0, 2, 4, 6.
     */
    static MemorySegment q6_K(float d, int[] scales, int[] q) {
        MemorySegment data = allocate(210);
        for (int half = 0; half < 2; half++) {
            for (int l = 0; l < 32; l++) {
                int q1 = q[128 * half + l];
                int q2 = q[128 * half + l + 32];
                int q3 = q[128 * half + l + 64];
                int q4 = q[128 * half + l + 96];
                putByte(data, 64 * half + l, (q1 & 0x0F) | (q3 & 0x0F) << 4);
                putByte(data, 64 * half + 32 + l, (q2 & 0x0F) | (q4 & 0x0F) << 4);
                putByte(data, 128 + 32 * half + l, q1 >> 4 | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6);
            }
        }
        for (int j = 0; j < 16; j++) {
            putByte(data, 192 + j, scales[j]);
        }
        putHalf(data, 208, d);
        return data;
    }
}
