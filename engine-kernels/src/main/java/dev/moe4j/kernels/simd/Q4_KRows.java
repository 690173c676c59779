package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;
import static dev.moe4j.kernels.simd.Storage.LE_INT;
import static dev.moe4j.kernels.simd.Storage.LE_LONG;

import dev.moe4j.kernels.Matrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mat-vec and widening over Q4_K blocks ({@code f16 d; f16 dmin; uint8 scales[12]; uint8 qs[128]} for 256 weights, see
 * {@link dev.moe4j.kernels.quant.Q4_K}), widened bit for bit as the scalar dequantiser: w = (d·scale)·q − dmin·min.
 */
final class Q4_KRows {

    private static final int BLOCK = 256;

    private Q4_KRows() {}

    /** Row {@code row} widened into out[outOff, outOff + cols). */
    static void widen(Lanes lanes, Matrix w, int row, float[] out, int outOff) {
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Byte> bs = lanes.bytes();
        int parts = bs.length() / fs.length();
        MemorySegment data = w.data();
        long base = w.blockOffset(row, 0);
        long stride = w.blockStride(row);
        int blocks = w.cols() / BLOCK;
        float[] scales = new float[8];
        float[] mins = new float[8];
        for (int block = 0; block < blocks; block++) {
            long at = base + block * stride;
            unpackScales(data, at, scales, mins, 0);
            long qs = at + 16;
            // four groups of 64 weights: 32 bytes, sub-block 2g in the low nibbles, 2g + 1 in the high ones
            for (int group = 0; group < 4; group++) {
                float dLo = scales[2 * group];
                float mLo = mins[2 * group];
                float dHi = scales[2 * group + 1];
                float mHi = mins[2 * group + 1];
                int o = outOff + block * BLOCK + 64 * group;
                for (int j = 0; j < 32; j += bs.length()) {
                    ByteVector q = ByteVector.fromMemorySegment(bs, data, qs + 32L * group + j, LE);
                    ByteVector lo = q.and((byte) 0x0F);
                    ByteVector hi = Q8_0Rows.highNibbles(q);
                    Q8_0Rows.widen(lo, fs, 0).mul(dLo).sub(mLo).intoArray(out, o + j);
                    Q8_0Rows.widen(hi, fs, 0).mul(dHi).sub(mHi).intoArray(out, o + j + 32);
                    // 128-bit registers: the 8 loaded bytes fill a second vector of 4 floats
                    if (parts == 2) {
                        int i = o + j + fs.length();
                        Q8_0Rows.widen(lo, fs, 1).mul(dLo).sub(mLo).intoArray(out, i);
                        Q8_0Rows.widen(hi, fs, 1).mul(dHi).sub(mHi).intoArray(out, i + 32);
                    }
                }
            }
        }
    }

    /**
     * out[r] = w[r]·x for r in [rowStart, rowEnd), each weight widened in registers to the float the scalar
     * dequantiser gives, (d·scale)·q − dmin·min, and summed in {@link TileMatmul}'s canonical order.
     */
    static void matvec(Lanes lanes, float[] out, Matrix w, float[] x, int rowStart, int rowEnd) {
        if (lanes.floats().length() == 16) {
            matvec16(out, w, x, rowStart, rowEnd);
            return;
        }
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Byte> bs = lanes.bytes();
        int parts = bs.length() / fs.length();
        MemorySegment data = w.data();
        int blocks = w.cols() / BLOCK;
        int n = fs.length();
        float[] sums = new float[2 * n]; // [2 rows][n lanes]
        float[] scales = new float[16]; // [2 rows][8 sub-blocks]
        float[] mins = new float[16];
        int last = rowEnd - 1;
        // two rows per pass share each load of x (more exceed C2's inlining budget). A pass short of rows repeats
        // the last one, so that every row is summed by this same code.
        for (int r = rowStart; r < rowEnd; r += 2) {
            long base0 = w.blockOffset(r, 0);
            long base1 = w.blockOffset(Math.min(r + 1, last), 0);
            long stride0 = w.blockStride(r);
            long stride1 = w.blockStride(Math.min(r + 1, last));
            FloatVector acc0 = FloatVector.zero(fs);
            FloatVector acc1 = acc0;
            for (int block = 0; block < blocks; block++) {
                long at0 = base0 + block * stride0;
                long at1 = base1 + block * stride1;
                unpackScales(data, at0, scales, mins, 0);
                unpackScales(data, at1, scales, mins, 8);
                // sub-block 2g from the low nibbles of group g's 32 bytes, then 2g + 1 from the high ones: each lane
                // sums its columns in order
                for (int sub = 0; sub < 8; sub++) {
                    float scale0 = scales[sub];
                    float min0 = mins[sub];
                    float scale1 = scales[8 + sub];
                    float min1 = mins[8 + sub];
                    long qs = 16 + 32L * (sub / 2);
                    boolean highNibbles = sub % 2 == 1;
                    for (int j = 0; j < 32; j += bs.length()) {
                        ByteVector q0 = ByteVector.fromMemorySegment(bs, data, at0 + qs + j, LE);
                        ByteVector q1 = ByteVector.fromMemorySegment(bs, data, at1 + qs + j, LE);
                        q0 = highNibbles ? Q8_0Rows.highNibbles(q0) : q0.and((byte) 0x0F);
                        q1 = highNibbles ? Q8_0Rows.highNibbles(q1) : q1.and((byte) 0x0F);
                        int i = block * BLOCK + 32 * sub + j;
                        FloatVector xv = FloatVector.fromArray(fs, x, i);
                        acc0 = Q8_0Rows.widen(q0, fs, 0).mul(scale0).sub(min0).fma(xv, acc0);
                        acc1 = Q8_0Rows.widen(q1, fs, 0).mul(scale1).sub(min1).fma(xv, acc1);
                        // 128-bit registers: the 8 loaded bytes fill a second vector of 4 floats
                        if (parts == 2) {
                            xv = FloatVector.fromArray(fs, x, i + n);
                            acc0 = Q8_0Rows.widen(q0, fs, 1).mul(scale0).sub(min0).fma(xv, acc0);
                            acc1 = Q8_0Rows.widen(q1, fs, 1).mul(scale1).sub(min1).fma(xv, acc1);
                        }
                    }
                }
            }
            acc0.intoArray(sums, 0);
            acc1.intoArray(sums, n);
            out[r] = lanes.sum(sums, 0);
            out[Math.min(r + 1, last)] = lanes.sum(sums, n);
        }
    }

    private static final VectorSpecies<Float> F16 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I16 = IntVector.SPECIES_512;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /** Lane i holds i: a sub-block's 16 weight values are LEVELS·scale − min, as the scalar dequantiser rounds them. */
    private static final FloatVector LEVELS = FloatVector.fromArray(F16,
            new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 0);

    /**
     * {@link #matvec} with 16-lane registers: four rows per pass (one stream on interleaved storage), each weight
     * looked up with one permute in its sub-block's table of 16 values, like the Q4_0 kernel. Written out with
     * constant species and no helper taking a vector. Same values, same order as the other widths.
     */
    private static void matvec16(float[] out, Matrix w, float[] x, int rowStart, int rowEnd) {
        MemorySegment data = w.data();
        int blocks = w.cols() / BLOCK;
        float[] table = new float[64]; // [4 rows][8 scales d·scale, then 8 mins dmin·min]
        int last = rowEnd - 1;
        for (int r = rowStart; r < rowEnd; r += 4) {
            long base0 = w.blockOffset(r, 0);
            long base1 = w.blockOffset(Math.min(r + 1, last), 0);
            long base2 = w.blockOffset(Math.min(r + 2, last), 0);
            long base3 = w.blockOffset(Math.min(r + 3, last), 0);
            long stride0 = w.blockStride(r);
            long stride1 = w.blockStride(Math.min(r + 1, last));
            long stride2 = w.blockStride(Math.min(r + 2, last));
            long stride3 = w.blockStride(Math.min(r + 3, last));
            FloatVector acc0 = FloatVector.zero(F16);
            FloatVector acc1 = acc0;
            FloatVector acc2 = acc0;
            FloatVector acc3 = acc0;
            for (int block = 0; block < blocks; block++) {
                long at0 = base0 + block * stride0;
                long at1 = base1 + block * stride1;
                long at2 = base2 + block * stride2;
                long at3 = base3 + block * stride3;
                unpackScales16(data, at0, table, 0);
                unpackScales16(data, at1, table, 16);
                unpackScales16(data, at2, table, 32);
                unpackScales16(data, at3, table, 48);
                // group g: 32 bytes, sub-block 2g in the low nibbles, 2g + 1 in the high ones; per lane the columns
                // come in increasing order: low nibbles of both 16-byte halves, then the high ones
                for (int group = 0; group < 4; group++) {
                    int c = block * BLOCK + 64 * group;
                    FloatVector x0 = FloatVector.fromArray(F16, x, c);
                    FloatVector x1 = FloatVector.fromArray(F16, x, c + 16);
                    FloatVector x2 = FloatVector.fromArray(F16, x, c + 32);
                    FloatVector x3 = FloatVector.fromArray(F16, x, c + 48);
                    long qs0 = at0 + 16 + 32L * group;
                    IntVector a0 = (IntVector) ByteVector.fromMemorySegment(B16, data, qs0, LE)
                            .convertShape(VectorOperators.B2I, I16, 0);
                    IntVector b0 = (IntVector) ByteVector.fromMemorySegment(B16, data, qs0 + 16, LE)
                            .convertShape(VectorOperators.B2I, I16, 0);
                    IntVector lo0 = LEVELS.mul(table[0 + 2 * group]).sub(table[8 + 2 * group]).reinterpretAsInts();
                    IntVector hi0 = LEVELS.mul(table[0 + 2 * group + 1]).sub(table[8 + 2 * group + 1])
                            .reinterpretAsInts();
                    acc0 = a0.selectFrom(lo0).reinterpretAsFloats().fma(x0, acc0);
                    acc0 = b0.selectFrom(lo0).reinterpretAsFloats().fma(x1, acc0);
                    acc0 = a0.lanewise(VectorOperators.LSHR, 4).selectFrom(hi0).reinterpretAsFloats().fma(x2, acc0);
                    acc0 = b0.lanewise(VectorOperators.LSHR, 4).selectFrom(hi0).reinterpretAsFloats().fma(x3, acc0);
                    long qs1 = at1 + 16 + 32L * group;
                    IntVector a1 = (IntVector) ByteVector.fromMemorySegment(B16, data, qs1, LE)
                            .convertShape(VectorOperators.B2I, I16, 0);
                    IntVector b1 = (IntVector) ByteVector.fromMemorySegment(B16, data, qs1 + 16, LE)
                            .convertShape(VectorOperators.B2I, I16, 0);
                    IntVector lo1 = LEVELS.mul(table[16 + 2 * group]).sub(table[24 + 2 * group]).reinterpretAsInts();
                    IntVector hi1 = LEVELS.mul(table[16 + 2 * group + 1]).sub(table[24 + 2 * group + 1])
                            .reinterpretAsInts();
                    acc1 = a1.selectFrom(lo1).reinterpretAsFloats().fma(x0, acc1);
                    acc1 = b1.selectFrom(lo1).reinterpretAsFloats().fma(x1, acc1);
                    acc1 = a1.lanewise(VectorOperators.LSHR, 4).selectFrom(hi1).reinterpretAsFloats().fma(x2, acc1);
                    acc1 = b1.lanewise(VectorOperators.LSHR, 4).selectFrom(hi1).reinterpretAsFloats().fma(x3, acc1);
                    long qs2 = at2 + 16 + 32L * group;
                    IntVector a2 = (IntVector) ByteVector.fromMemorySegment(B16, data, qs2, LE)
                            .convertShape(VectorOperators.B2I, I16, 0);
                    IntVector b2 = (IntVector) ByteVector.fromMemorySegment(B16, data, qs2 + 16, LE)
                            .convertShape(VectorOperators.B2I, I16, 0);
                    IntVector lo2 = LEVELS.mul(table[32 + 2 * group]).sub(table[40 + 2 * group]).reinterpretAsInts();
                    IntVector hi2 = LEVELS.mul(table[32 + 2 * group + 1]).sub(table[40 + 2 * group + 1])
                            .reinterpretAsInts();
                    acc2 = a2.selectFrom(lo2).reinterpretAsFloats().fma(x0, acc2);
                    acc2 = b2.selectFrom(lo2).reinterpretAsFloats().fma(x1, acc2);
                    acc2 = a2.lanewise(VectorOperators.LSHR, 4).selectFrom(hi2).reinterpretAsFloats().fma(x2, acc2);
                    acc2 = b2.lanewise(VectorOperators.LSHR, 4).selectFrom(hi2).reinterpretAsFloats().fma(x3, acc2);
                    long qs3 = at3 + 16 + 32L * group;
                    IntVector a3 = (IntVector) ByteVector.fromMemorySegment(B16, data, qs3, LE)
                            .convertShape(VectorOperators.B2I, I16, 0);
                    IntVector b3 = (IntVector) ByteVector.fromMemorySegment(B16, data, qs3 + 16, LE)
                            .convertShape(VectorOperators.B2I, I16, 0);
                    IntVector lo3 = LEVELS.mul(table[48 + 2 * group]).sub(table[56 + 2 * group]).reinterpretAsInts();
                    IntVector hi3 = LEVELS.mul(table[48 + 2 * group + 1]).sub(table[56 + 2 * group + 1])
                            .reinterpretAsInts();
                    acc3 = a3.selectFrom(lo3).reinterpretAsFloats().fma(x0, acc3);
                    acc3 = b3.selectFrom(lo3).reinterpretAsFloats().fma(x1, acc3);
                    acc3 = a3.lanewise(VectorOperators.LSHR, 4).selectFrom(hi3).reinterpretAsFloats().fma(x2, acc3);
                    acc3 = b3.lanewise(VectorOperators.LSHR, 4).selectFrom(hi3).reinterpretAsFloats().fma(x3, acc3);
                }
            }
            // Lanes.sum's steps inline; the last row first: a short pass repeats it
            acc3 = acc3.add(acc3.rearrange(Lanes.Bits512.ROTATE_8));
            acc3 = acc3.add(acc3.rearrange(Lanes.Bits512.ROTATE_4));
            acc3 = acc3.add(acc3.rearrange(Lanes.Bits512.ROTATE_2));
            acc3 = acc3.add(acc3.rearrange(Lanes.Bits512.ROTATE_1));
            out[Math.min(r + 3, last)] = acc3.lane(0);
            acc2 = acc2.add(acc2.rearrange(Lanes.Bits512.ROTATE_8));
            acc2 = acc2.add(acc2.rearrange(Lanes.Bits512.ROTATE_4));
            acc2 = acc2.add(acc2.rearrange(Lanes.Bits512.ROTATE_2));
            acc2 = acc2.add(acc2.rearrange(Lanes.Bits512.ROTATE_1));
            out[Math.min(r + 2, last)] = acc2.lane(0);
            acc1 = acc1.add(acc1.rearrange(Lanes.Bits512.ROTATE_8));
            acc1 = acc1.add(acc1.rearrange(Lanes.Bits512.ROTATE_4));
            acc1 = acc1.add(acc1.rearrange(Lanes.Bits512.ROTATE_2));
            acc1 = acc1.add(acc1.rearrange(Lanes.Bits512.ROTATE_1));
            out[Math.min(r + 1, last)] = acc1.lane(0);
            acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_8));
            acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_4));
            acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_2));
            acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_1));
            out[r] = acc0.lane(0);
        }
    }


    /** Per lane (8 scales, then 8 mins) the byte of the 12 packed ones that holds its low bits... */
    private static final IntVector LOW_BYTE = IntVector.fromArray(I16,
            new int[] {0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11}, 0);
    /** ...the shift that brings them down (the high nibble of bytes 8-11 for mins 4-7)... */
    private static final IntVector LOW_SHIFT = IntVector.fromArray(I16,
            new int[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4}, 0);
    /** ...and their width: 6 bits for sub-blocks 0-3, 4 for 4-7... */
    private static final IntVector LOW_MASK = IntVector.fromArray(I16,
            new int[] {63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 15, 15, 15, 15}, 0);
    /** ...the byte whose top 2 bits are bits 4-5 of sub-blocks 4-7 (bytes 0-3 for scales, 4-7 for mins)... */
    private static final IntVector HIGH_BYTE = IntVector.fromArray(I16,
            new int[] {0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 4, 5, 6, 7}, 0);
    /** ...kept only for sub-blocks 4-7. */
    private static final IntVector HIGH_MASK = IntVector.fromArray(I16,
            new int[] {0, 0, 0, 0, 0x30, 0x30, 0x30, 0x30, 0, 0, 0, 0, 0x30, 0x30, 0x30, 0x30}, 0);
    private static final VectorMask<Float> MINS = VectorMask.fromLong(F16, 0xFF00L);

    /**
     * {@link #unpackScales} for the 16-lane kernel in a dozen vector ops instead of 16 scalar unpackings:
     * table[off, off + 8) = d·scale, table[off + 8, off + 16) = dmin·min, the same floats. The 12 packed bytes are
     * loaded as 16 (the 4 after them are quants of the same block) and each lane picks its bytes with a permute.
     * Measured 7.8 → 10.2 Gweights/s on one thread (1024×1024, in cache).
     */
    static void unpackScales16(MemorySegment data, long at, float[] table, int off) {
        int halves = data.get(LE_INT, at);
        IntVector packed = (IntVector) ByteVector.fromMemorySegment(B16, data, at + 4, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
        IntVector low = LOW_BYTE.selectFrom(packed).lanewise(VectorOperators.LSHR, LOW_SHIFT).and(LOW_MASK);
        IntVector high = HIGH_BYTE.selectFrom(packed).lanewise(VectorOperators.LSHR, 2).and(HIGH_MASK);
        FloatVector factor = FloatVector.broadcast(F16, Float.float16ToFloat((short) halves))
                .blend(Float.float16ToFloat((short) (halves >>> 16)), MINS);
        ((FloatVector) low.or(high).convert(VectorOperators.I2F, 0)).mul(factor).intoArray(table, off);
    }

    /**
     * d·scale and dmin·min of the block at {@code at}, per sub-block. The 6-bit values are packed in 12 bytes: for
     * sub-blocks 0–3 the low 6 bits of bytes 0–3 (scales) and 4–7 (mins); for 4–7 the low (scale) and high (min)
     * nibble of bytes 8–11, with their top 2 bits in the top bits of bytes 0–3 (scales) and 4–7 (mins).
     */
    private static void unpackScales(MemorySegment data, long at, float[] scales, float[] mins, int off) {
        int halves = data.get(LE_INT, at);
        float d = Float.float16ToFloat((short) halves);
        float dmin = Float.float16ToFloat((short) (halves >>> 16));
        long low = data.get(LE_LONG, at + 4); // bytes 0-7: scales 0-3, then mins 0-3
        int nibbles = data.get(LE_INT, at + 12); // bytes 8-11
        for (int sub = 0; sub < 4; sub++) {
            int lowScale = (int) (low >>> 8 * sub) & 0xFF;
            int lowMin = (int) (low >>> 8 * (sub + 4)) & 0xFF;
            int nibble = nibbles >>> 8 * sub;
            scales[off + sub] = d * (lowScale & 63);
            mins[off + sub] = dmin * (lowMin & 63);
            scales[off + sub + 4] = d * ((nibble & 0x0F) | (lowScale >>> 6) << 4);
            mins[off + sub + 4] = dmin * ((nibble >>> 4 & 0x0F) | (lowMin >>> 6) << 4);
        }
    }
}
