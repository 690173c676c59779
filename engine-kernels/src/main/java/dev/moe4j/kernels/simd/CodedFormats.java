package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE_INT;
import static dev.moe4j.kernels.simd.Storage.LE_SHORT;
import static dev.moe4j.kernels.simd.Storage.half;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The unpackers of the {@link CodedBlocks} formats, written from the block layouts (see each format's scalar
 * dequantiser in {@code dev.moe4j.kernels.quant} for the layout), not from the dequantisers' loops.
 */
final class CodedFormats {

    private CodedFormats() {}

    /** {@code f16 d; f16 m; uint8 qs[16]}: w = q·d + m. */
    static final CodedBlocks Q4_1 = new CodedBlocks(32, CodedBlocks.Affine.SCALE_PLUS) {
        @Override
        void unpack(MemorySegment data, long at, byte[] codes, float[] scales, float[] offsets) {
            float d = half(data, at);
            float m = half(data, at + 2);
            ByteVector q = load(data, at + 4);
            lowNibbles(q).intoArray(codes, 0);
            highNibbles(q).intoArray(codes, 16);
            scales[0] = d;
            scales[1] = d;
            offsets[0] = m;
            offsets[1] = m;
        }
    };

    /** {@code f16 d; uint8 qh[4]; uint8 qs[16]}: w = (q − 16)·d, q's fifth bit from qh. */
    static final CodedBlocks Q5_0 = new CodedBlocks(32, CodedBlocks.Affine.SCALE) {
        @Override
        void unpack(MemorySegment data, long at, byte[] codes, float[] scales, float[] offsets) {
            float d = half(data, at);
            int qh = data.get(LE_INT, at + 2);
            ByteVector q = load(data, at + 6);
            fifthBit(lowNibbles(q), bitSet(qh)).sub((byte) 16).intoArray(codes, 0);
            fifthBit(highNibbles(q), bitSet(qh >>> 16)).sub((byte) 16).intoArray(codes, 16);
            scales[0] = d;
            scales[1] = d;
        }
    };

    /** {@code f16 d; f16 m; uint8 qh[4]; uint8 qs[16]}: w = q·d + m, q's fifth bit from qh. */
    static final CodedBlocks Q5_1 = new CodedBlocks(32, CodedBlocks.Affine.SCALE_PLUS) {
        @Override
        void unpack(MemorySegment data, long at, byte[] codes, float[] scales, float[] offsets) {
            float d = half(data, at);
            float m = half(data, at + 2);
            int qh = data.get(LE_INT, at + 4);
            ByteVector q = load(data, at + 8);
            fifthBit(lowNibbles(q), bitSet(qh)).intoArray(codes, 0);
            fifthBit(highNibbles(q), bitSet(qh >>> 16)).intoArray(codes, 16);
            scales[0] = d;
            scales[1] = d;
            offsets[0] = m;
            offsets[1] = m;
        }
    };

    /**
     * {@code uint8 scales[16]; uint8 qs[64]; f16 d; f16 dmin}: run s has scale d·(scales[s] low nibble) and offset
     * dmin·(high nibble); in half h, runs 8h + 2k and 8h + 2k + 1 are bits 2k, 2k + 1 of qs bytes 32h + [0, 16) and
     * 32h + [16, 32).
     */
    static final CodedBlocks Q2_K = new CodedBlocks(256, CodedBlocks.Affine.SCALE_MINUS) {
        @Override
        void unpack(MemorySegment data, long at, byte[] codes, float[] scales, float[] offsets) {
            float d = half(data, at + 80);
            float dmin = half(data, at + 82);
            for (int s = 0; s < 16; s++) {
                int sc = Storage.i8(data, at + s) & 0xFF;
                scales[s] = d * (sc & 0x0F);
                offsets[s] = dmin * (sc >>> 4);
            }
            for (int h = 0; h < 2; h++) {
                ByteVector first = load(data, at + 16 + 32 * h);
                ByteVector second = load(data, at + 32 + 32 * h);
                for (int k = 0; k < 4; k++) {
                    bits(first, 2 * k, 3).intoArray(codes, 128 * h + 32 * k);
                    bits(second, 2 * k, 3).intoArray(codes, 128 * h + 32 * k + 16);
                }
            }
        }
    };

    /**
     * {@code uint8 hmask[32]; uint8 qs[64]; uint8 scales[12]; f16 d}: codes as Q2_K's 2-bit ones, less 4 where bit
     * 4h + k of the hmask byte is clear; run s has scale d·(6-bit scale − 32).
     */
    static final CodedBlocks Q3_K = new CodedBlocks(256, CodedBlocks.Affine.SCALE) {
        @Override
        void unpack(MemorySegment data, long at, byte[] codes, float[] scales, float[] offsets) {
            float d = half(data, at + 108);
            // the 12 scale bytes: low nibbles of scales 0-7, high nibbles of 8-15, then 2-bit tops
            long low = data.get(Storage.LE_LONG, at + 96);
            int tops = data.get(LE_INT, at + 104);
            for (int s = 0; s < 16; s++) {
                int nibble = (int) (low >>> 8 * (s % 8) + (s < 8 ? 0 : 4)) & 0x0F;
                int top = tops >>> 8 * (s % 4) + 2 * (s / 4) & 3;
                scales[s] = d * ((nibble | top << 4) - 32);
            }
            ByteVector highFirst = load(data, at);
            ByteVector highSecond = load(data, at + 16);
            for (int h = 0; h < 2; h++) {
                ByteVector first = load(data, at + 32 + 32 * h);
                ByteVector second = load(data, at + 48 + 32 * h);
                for (int k = 0; k < 4; k++) {
                    int bit = 4 * h + k;
                    bits(first, 2 * k, 3).lanewise(VectorOperators.SUB, (byte) 4, bitSet(highFirst, bit).not())
                            .intoArray(codes, 128 * h + 32 * k);
                    bits(second, 2 * k, 3).lanewise(VectorOperators.SUB, (byte) 4, bitSet(highSecond, bit).not())
                            .intoArray(codes, 128 * h + 32 * k + 16);
                }
            }
        }
    };

    /**
     * {@code f16 d; f16 dmin; uint8 scales[12]; uint8 qh[32]; uint8 qs[128]}: Q4_K's scales, mins and nibbles, with
     * the fifth bit of weight l of sub-block s at bit s of qh[l].
     */
    static final CodedBlocks Q5_K = new CodedBlocks(256, CodedBlocks.Affine.SCALE_MINUS) {
        @Override
        void unpack(MemorySegment data, long at, byte[] codes, float[] scales, float[] offsets) {
            float d = half(data, at);
            float dmin = half(data, at + 2);
            long low = data.get(Storage.LE_LONG, at + 4); // scales 0-3, mins 0-3, with the tops of 4-7
            int nibbles = data.get(LE_INT, at + 12); // scales 4-7 low nibbles, mins 4-7 high nibbles
            for (int s = 0; s < 4; s++) {
                int scaleByte = (int) (low >>> 8 * s) & 0xFF;
                int minByte = (int) (low >>> 8 * (s + 4)) & 0xFF;
                int nibble = nibbles >>> 8 * s & 0xFF;
                setRuns(scales, offsets, s, d * (scaleByte & 63), dmin * (minByte & 63));
                setRuns(scales, offsets, s + 4, d * ((nibble & 0x0F) | (scaleByte >>> 6) << 4),
                        dmin * ((nibble >>> 4) | (minByte >>> 6) << 4));
            }
            ByteVector highFirst = load(data, at + 16);
            ByteVector highSecond = load(data, at + 32);
            for (int g = 0; g < 4; g++) {
                ByteVector first = load(data, at + 48 + 32 * g);
                ByteVector second = load(data, at + 64 + 32 * g);
                fifthBit(lowNibbles(first), bitSet(highFirst, 2 * g)).intoArray(codes, 64 * g);
                fifthBit(lowNibbles(second), bitSet(highSecond, 2 * g)).intoArray(codes, 64 * g + 16);
                fifthBit(highNibbles(first), bitSet(highFirst, 2 * g + 1)).intoArray(codes, 64 * g + 32);
                fifthBit(highNibbles(second), bitSet(highSecond, 2 * g + 1)).intoArray(codes, 64 * g + 48);
            }
        }
    };

    /** The IQ4_NL levels, one per lane: a nibble's code is a lookup in them. */
    private static final ByteVector LEVELS;

    static {
        byte[] levels = new byte[16];
        for (int q = 0; q < 16; q++) {
            levels[q] = (byte) dev.moe4j.kernels.quant.IQ4_NL.level(q);
        }
        LEVELS = ByteVector.fromArray(CodedBlocks.B16, levels, 0);
    }

    /** {@code f16 d; uint8 qs[16]}: w = d·level(q). */
    static final CodedBlocks IQ4_NL = new CodedBlocks(32, CodedBlocks.Affine.SCALE) {
        @Override
        void unpack(MemorySegment data, long at, byte[] codes, float[] scales, float[] offsets) {
            float d = half(data, at);
            ByteVector q = load(data, at + 2);
            lowNibbles(q).selectFrom(LEVELS).intoArray(codes, 0);
            highNibbles(q).selectFrom(LEVELS).intoArray(codes, 16);
            scales[0] = d;
            scales[1] = d;
        }
    };

    /**
     * {@code f16 d; uint16 scales_h; uint8 scales_l[4]; uint8 qs[128]}: sub-block s is an IQ4_NL block's nibbles in
     * qs[16s, 16s + 16) with scale d·(6-bit scale − 32).
     */
    static final CodedBlocks IQ4_XS = new CodedBlocks(256, CodedBlocks.Affine.SCALE) {
        @Override
        void unpack(MemorySegment data, long at, byte[] codes, float[] scales, float[] offsets) {
            float d = half(data, at);
            int high = data.get(LE_SHORT, at + 2);
            int low = data.get(LE_INT, at + 4);
            for (int s = 0; s < 8; s++) {
                int scale = (low >>> 4 * s & 0x0F) | (high >>> 2 * s & 3) << 4;
                setRuns(scales, offsets, s, d * (scale - 32), 0f);
                ByteVector q = load(data, at + 8 + 16 * s);
                lowNibbles(q).selectFrom(LEVELS).intoArray(codes, 32 * s);
                highNibbles(q).selectFrom(LEVELS).intoArray(codes, 32 * s + 16);
            }
        }
    };

    /** A sub-block of 32 weights is two runs with the same scale and offset. */
    private static void setRuns(float[] scales, float[] offsets, int sub, float scale, float offset) {
        scales[2 * sub] = scale;
        scales[2 * sub + 1] = scale;
        offsets[2 * sub] = offset;
        offsets[2 * sub + 1] = offset;
    }

    /** 4-bit codes with 16 added where {@code set}. */
    private static ByteVector fifthBit(ByteVector nibbles, VectorMask<Byte> set) {
        return nibbles.lanewise(VectorOperators.OR, (byte) 0x10, set);
    }
}
