package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;
import static dev.moe4j.kernels.simd.Storage.half;
import static dev.moe4j.kernels.simd.Storage.i8;

import dev.moe4j.kernels.Matrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mat-vec and widening over Q6_K blocks ({@code uint8 ql[128]; uint8 qh[64]; int8 scales[16]; f16 d} for 256 weights, see
 * {@link dev.moe4j.kernels.quant.Q6_K}), bit for bit as the scalar dequantiser: w = (d·scale)·(q − 32). Each half
 * of 128 weights takes its quants' low 4 bits from 64 bytes of ql (quarters 0 and 1 from the low nibbles of
 * ql[0, 32) and ql[32, 64), quarters 2 and 3 from their high nibbles) and their top 2 bits from the 32 bytes of
 * qh (bits 2k and 2k + 1 for quarter k).
 */
final class Q6_KRows {

    private static final int BLOCK = 256;
    private static final long BLOCK_BYTES = 210;

    private Q6_KRows() {}

    /** Row {@code row} widened into out[outOff, outOff + cols). */
    static void widen(Lanes lanes, Matrix w, int row, float[] out, int outOff) {
        MemorySegment data = w.data();
        long base = w.rowOffset(row);
        int blocks = w.cols() / BLOCK;
        for (int block = 0; block < blocks; block++) {
            long at = base + block * BLOCK_BYTES;
            float d = half(data, at + 208);
            for (int half = 0; half < 2; half++) {
                long ql = at + 64L * half;
                long qh = at + 128 + 32L * half;
                long sc = at + 192 + 8L * half;
                int o = outOff + block * BLOCK + 128 * half;
                // quarters in two calls: all four in one method exceed C2's inlining budget
                widenQuarters(lanes, data, ql, qh, sc, d, false, out, o);
                widenQuarters(lanes, data, ql, qh, sc, d, true, out, o + 64);
            }
        }
    }

    /**
     * out[r] = w[r]·x for r in [rowStart, rowEnd), each weight widened in registers to the float the scalar
     * dequantiser gives and summed in {@link TileMatmul}'s canonical order: quarter by quarter (32 weights), so that
     * each lane sums its columns in order. A quarter's quants take their low 4 bits from the low (quarters 0, 1) or
     * high (2, 3) nibbles of ql[0, 32) (quarters 0, 2) or ql[32, 64) (1, 3) of its half, their top 2 bits from bits
     * 2·quarter and 2·quarter + 1 of qh[0, 32).
     */
    static void matvec(Lanes lanes, float[] out, Matrix w, float[] x, int rowStart, int rowEnd) {
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Byte> bs = lanes.bytes();
        int parts = bs.length() / fs.length();
        MemorySegment data = w.data();
        int blocks = w.cols() / BLOCK;
        float[] sums = new float[fs.length()];
        for (int r = rowStart; r < rowEnd; r++) {
            long base = w.rowOffset(r);
            FloatVector acc = FloatVector.zero(fs);
            for (int block = 0; block < blocks; block++) {
                long at = base + block * BLOCK_BYTES;
                float d = half(data, at + 208);
                for (int part = 0; part < 8; part++) { // quarter part % 4 of half part / 4
                    int quarter = part & 3;
                    long ql = at + 64L * (part >> 2) + 32L * (quarter & 1);
                    long qh = at + 128 + 32L * (part >> 2);
                    long sc = at + 192 + 8L * (part >> 2) + 2 * quarter;
                    int nibbleShift = 4 * (quarter >> 1);
                    int topShift = 2 * quarter;
                    int xOff = block * BLOCK + 32 * part;
                    for (int l = 0; l < 32; l += bs.length()) {
                        ByteVector low = nibbles(ByteVector.fromMemorySegment(bs, data, ql + l, LE), nibbleShift);
                        ByteVector top = ByteVector.fromMemorySegment(bs, data, qh + l, LE).reinterpretAsInts()
                                .lanewise(VectorOperators.LSHR, topShift).lanewise(VectorOperators.LSHL, 4)
                                .reinterpretAsBytes().and((byte) 0x30);
                        ByteVector q = low.or(top).sub((byte) 32);
                        float scale = d * i8(data, sc + l / 16);
                        acc = Q8_0Rows.widen(q, fs, 0).mul(scale).fma(FloatVector.fromArray(fs, x, xOff + l), acc);
                        // 128-bit registers: the 8 loaded bytes fill a second vector of 4 floats
                        if (parts == 2) {
                            FloatVector xv = FloatVector.fromArray(fs, x, xOff + l + fs.length());
                            acc = Q8_0Rows.widen(q, fs, 1).mul(scale).fma(xv, acc);
                        }
                    }
                }
            }
            acc.intoArray(sums, 0);
            out[r] = lanes.sum(sums, 0);
        }
    }

    /**
     * Quarters 0 and 1 (low nibbles of ql) or 2 and 3 ({@code highNibbles}) of one half, into out[o, o + 64).
     * A load of at most 16 bytes stays inside one 16-weight sub-block, so it has one scale.
     */
    private static void widenQuarters(Lanes lanes, MemorySegment data, long ql, long qh, long sc, float d,
            boolean highNibbles, float[] out, int o) {
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Byte> bs = lanes.bytes();
        int parts = bs.length() / fs.length();
        int shift = highNibbles ? 4 : 0;
        int firstScale = highNibbles ? 4 : 0;
        for (int l = 0; l < 32; l += bs.length()) {
            int sub = l / 16;
            ByteVector lowA = ByteVector.fromMemorySegment(bs, data, ql + l, LE);
            ByteVector lowB = ByteVector.fromMemorySegment(bs, data, ql + 32 + l, LE);
            ByteVector high = ByteVector.fromMemorySegment(bs, data, qh + l, LE);
            IntVector highBits = high.reinterpretAsInts().lanewise(VectorOperators.LSHR, shift);
            ByteVector topA = highBits.lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes().and((byte) 0x30);
            ByteVector topB = highBits.lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes().and((byte) 0x30);
            ByteVector qa = nibbles(lowA, shift).or(topA).sub((byte) 32);
            ByteVector qb = nibbles(lowB, shift).or(topB).sub((byte) 32);
            float sa = d * i8(data, sc + sub + firstScale);
            float sb = d * i8(data, sc + sub + firstScale + 2);
            Q8_0Rows.widen(qa, fs, 0).mul(sa).intoArray(out, o + l);
            Q8_0Rows.widen(qb, fs, 0).mul(sb).intoArray(out, o + l + 32);
            // 128-bit registers: the 8 loaded bytes fill a second vector of 4 floats
            if (parts == 2) {
                int i = o + l + fs.length();
                Q8_0Rows.widen(qa, fs, 1).mul(sa).intoArray(out, i);
                Q8_0Rows.widen(qb, fs, 1).mul(sb).intoArray(out, i + 32);
            }
        }
    }

    /**
     * The nibble at bit {@code shift} (0 or 4) of each byte. Here and for the high bits, lanes are shifted as ints
     * and masked per byte: x86 has no byte shift, and the bits that cross bytes are masked off.
     */
    private static ByteVector nibbles(ByteVector q, int shift) {
        return q.reinterpretAsInts().lanewise(VectorOperators.LSHR, shift).reinterpretAsBytes().and((byte) 0x0F);
    }
}
