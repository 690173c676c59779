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

    /** Q4_1: {@code f16 d; f16 m; uint8 qs[16]}; nibbles as in Q4_0, q in [0, 15]. */
    static MemorySegment q4_1(float[] d, float[] m, int[] q) {
        MemorySegment data = allocate(20L * d.length);
        for (int block = 0; block < d.length; block++) {
            putHalf(data, 20L * block, d[block]);
            putHalf(data, 20L * block + 2, m[block]);
            for (int i = 0; i < 16; i++) {
                putByte(data, 20L * block + 4 + i, q[32 * block + i] | q[32 * block + i + 16] << 4);
            }
        }
        return data;
    }

    /**
     * Q5_0 ({@code f16 d; uint8 qh[4]; uint8 qs[16]}, {@code withMin} false) or Q5_1 ({@code f16 d; f16 m; uint8
     * qh[4]; uint8 qs[16]}): q in [0, 31]; the low 4 bits of weights i and i + 16 go to the low and high nibbles of
     * qs[i], the fifth bit of weight i to bit i of the little-endian 32-bit qh.
     */
    static MemorySegment q5(float[] d, float[] m, int[] q, boolean withMin) {
        int blockBytes = withMin ? 24 : 22;
        MemorySegment data = allocate((long) blockBytes * d.length);
        for (int block = 0; block < d.length; block++) {
            long at = (long) blockBytes * block;
            putHalf(data, at, d[block]);
            if (withMin) {
                putHalf(data, at + 2, m[block]);
            }
            long qh = at + (withMin ? 4 : 2);
            int high = 0;
            for (int i = 0; i < 32; i++) {
                high |= (q[32 * block + i] >> 4) << i;
            }
            for (int b = 0; b < 4; b++) {
                putByte(data, qh + b, high >>> 8 * b);
            }
            for (int i = 0; i < 16; i++) {
                putByte(data, qh + 4 + i, (q[32 * block + i] & 0x0F) | (q[32 * block + i + 16] & 0x0F) << 4);
            }
        }
        return data;
    }

    /**
     * One Q2_K block: {@code uint8 scales[16]; uint8 qs[64]; f16 d; f16 dmin}; scales[s] holds the 4-bit scale of
     * sub-block s (16 weights) in its low nibble and its 4-bit min in the high one. q is 2-bit; weight 128h + 32k + l
     * (h < 2, k < 4, l < 32) sits at bits 2k, 2k + 1 of qs[32h + l].
     */
    static MemorySegment q2_K(float d, float dmin, int[] scales, int[] mins, int[] q) {
        MemorySegment data = allocate(84);
        for (int s = 0; s < 16; s++) {
            putByte(data, s, scales[s] | mins[s] << 4);
        }
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                int b = 0;
                for (int k = 0; k < 4; k++) {
                    b |= q[128 * h + 32 * k + l] << 2 * k;
                }
                putByte(data, 16 + 32 * h + l, b);
            }
        }
        putHalf(data, 80, d);
        putHalf(data, 82, dmin);
        return data;
    }

    /**
     * One Q3_K block: {@code uint8 hmask[32]; uint8 qs[64]; uint8 scales[12]; f16 d}; q in [-4, 3] is stored as
     * q + 4: its low 2 bits as Q2_K's (weight 128h + 32k + l at bits 2k of qs[32h + l]), its third bit at bit 4h + k
     * of hmask[l]. Scales are signed 6-bit, stored + 32: the low nibble of scale s in scales[s] (s < 8) or in the
     * high nibble of scales[s − 8], its top 2 bits at bits 2·(s / 4) of scales[8 + s % 4].
     */
    static MemorySegment q3_K(float d, int[] scales, int[] q) {
        MemorySegment data = allocate(110);
        int[] hmask = new int[32];
        int[] qs = new int[64];
        for (int h = 0; h < 2; h++) {
            for (int k = 0; k < 4; k++) {
                for (int l = 0; l < 32; l++) {
                    int stored = q[128 * h + 32 * k + l] + 4;
                    qs[32 * h + l] |= (stored & 3) << 2 * k;
                    hmask[l] |= (stored >> 2) << 4 * h + k;
                }
            }
        }
        int[] packed = new int[12];
        for (int s = 0; s < 16; s++) {
            int stored = scales[s] + 32;
            packed[s % 8] |= (stored & 0x0F) << (s < 8 ? 0 : 4);
            packed[8 + s % 4] |= (stored >> 4) << 2 * (s / 4);
        }
        for (int i = 0; i < 32; i++) {
            putByte(data, i, hmask[i]);
        }
        for (int i = 0; i < 64; i++) {
            putByte(data, 32 + i, qs[i]);
        }
        for (int i = 0; i < 12; i++) {
            putByte(data, 96 + i, packed[i]);
        }
        putHalf(data, 108, d);
        return data;
    }

    /**
     * One Q5_K block: {@code f16 d; f16 dmin; uint8 scales[12]; uint8 qh[32]; uint8 qs[128]}; scales, mins and the
     * low 4 bits of q (in [0, 31]) as in {@link #q4_K}, the fifth bit of weight 32s + l at bit s of qh[l].
     */
    static MemorySegment q5_K(float d, float dmin, int[] scales, int[] mins, int[] q) {
        int[] low = new int[256];
        for (int i = 0; i < 256; i++) {
            low[i] = q[i] & 0x0F;
        }
        MemorySegment q4 = q4_K(d, dmin, scales, mins, low);
        MemorySegment data = allocate(176);
        MemorySegment.copy(q4, 0, data, 0, 16);
        MemorySegment.copy(q4, 16, data, 48, 128);
        for (int l = 0; l < 32; l++) {
            int b = 0;
            for (int s = 0; s < 8; s++) {
                b |= (q[32 * s + l] >> 4) << s;
            }
            putByte(data, 16 + l, b);
        }
        return data;
    }

    /** IQ4_NL: {@code f16 d; uint8 qs[16]}; 4-bit indices laid out as Q4_0's nibbles. */
    static MemorySegment iq4_nl(float[] d, int[] q) {
        return q4_0(d, q);
    }

    /**
     * One IQ4_XS block: {@code f16 d; uint16 scales_h; uint8 scales_l[4]; uint8 qs[128]}; scales signed 6-bit,
     * stored + 32: low nibble of scale s in scales_l[s / 2] (high nibble for odd s), top 2 bits at bits 2s of
     * scales_h; sub-block s's 32 indices in qs[16s, 16s + 16) as Q4_0's nibbles.
     */
    static MemorySegment iq4_xs(float d, int[] scales, int[] q) {
        MemorySegment data = allocate(136);
        putHalf(data, 0, d);
        int high = 0;
        int[] low = new int[4];
        for (int s = 0; s < 8; s++) {
            int stored = scales[s] + 32;
            high |= (stored >> 4) << 2 * s;
            low[s / 2] |= (stored & 0x0F) << 4 * (s % 2);
        }
        putByte(data, 2, high);
        putByte(data, 3, high >>> 8);
        for (int i = 0; i < 4; i++) {
            putByte(data, 4 + i, low[i]);
        }
        for (int s = 0; s < 8; s++) {
            for (int i = 0; i < 16; i++) {
                putByte(data, 8 + 16 * s + i, q[32 * s + i] | q[32 * s + i + 16] << 4);
            }
        }
        return data;
    }
}
