package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;

import dev.moe4j.kernels.Matrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mat-vec over Q5_K blocks ({@code f16 d; f16 dmin; uint8 scales[12]; uint8 qh[32]; uint8 qs[128]} for 256 weights,
 * see {@link dev.moe4j.kernels.quant.Q5_K}) with 16-lane registers, bit for bit as the scalar dequantiser:
 * w = (d·scale)·q − dmin·min. Other widths use {@link CodedFormats#Q5_K}.
 */
final class Q5_KRows {

    private static final int BLOCK = 256;
    private static final VectorSpecies<Float> F16 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I16 = IntVector.SPECIES_512;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /** Lane i holds i, and 16 + i: a sub-block's 32 weight values are these levels·scale − min. */
    private static final FloatVector LEVELS = FloatVector.fromArray(F16,
            new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 0);
    private static final FloatVector TOP_LEVELS = LEVELS.add(16);

    private Q5_KRows() {}

    /**
     * out[r] = w[r]·x for r in [rowStart, rowEnd), in {@link TileMatmul}'s canonical order: four rows per pass sharing
     * each load of x, each weight looked up with one two-register permute in its sub-block's 32 values, as the Q4_K
     * kernel does with 16 (the fifth bit, bit 2g or 2g + 1 of qh for group g's low or high nibbles, picks the
     * register). Written out with constant species and no helper taking a vector: C2 boxes vectors passed to calls it
     * does not inline.
     */
    static void matvec16(float[] out, Matrix w, float[] x, int rowStart, int rowEnd) {
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
                // the scales and mins are packed as Q4_K's, at the same offsets
                Q4_KRows.unpackScales16(data, at0, table, 0);
                Q4_KRows.unpackScales16(data, at1, table, 16);
                Q4_KRows.unpackScales16(data, at2, table, 32);
                Q4_KRows.unpackScales16(data, at3, table, 48);
                // group g: sub-block 2g in the low nibbles of its 32 bytes, 2g + 1 in the high ones; per lane the
                // columns come in increasing order
                for (int group = 0; group < 4; group++) {
                    int shift = 2 * group;
                    int c = block * BLOCK + 64 * group;
                    FloatVector x0 = FloatVector.fromArray(F16, x, c);
                    FloatVector x1 = FloatVector.fromArray(F16, x, c + 16);
                    FloatVector x2 = FloatVector.fromArray(F16, x, c + 32);
                    FloatVector x3 = FloatVector.fromArray(F16, x, c + 48);
                    long qs0 = at0 + 48 + 32L * group;
                    IntVector a0 = (IntVector) ByteVector.fromMemorySegment(B16, data, qs0, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
                    IntVector b0 = (IntVector) ByteVector.fromMemorySegment(B16, data, qs0 + 16, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
                    IntVector ha0 = ((IntVector) ByteVector.fromMemorySegment(B16, data, at0 + 16, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0)).lanewise(VectorOperators.LSHR, shift);
                    IntVector hb0 = ((IntVector) ByteVector.fromMemorySegment(B16, data, at0 + 32, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0)).lanewise(VectorOperators.LSHR, shift);
                    float sLo0 = table[0 + 2 * group];
                    float mLo0 = table[8 + 2 * group];
                    float sHi0 = table[0 + 2 * group + 1];
                    float mHi0 = table[8 + 2 * group + 1];
                    IntVector lo0 = LEVELS.mul(sLo0).sub(mLo0).reinterpretAsInts();
                    IntVector loTop0 = TOP_LEVELS.mul(sLo0).sub(mLo0).reinterpretAsInts();
                    IntVector hi0 = LEVELS.mul(sHi0).sub(mHi0).reinterpretAsInts();
                    IntVector hiTop0 = TOP_LEVELS.mul(sHi0).sub(mHi0).reinterpretAsInts();
                    acc0 = a0.and(0x0F).or(ha0.lanewise(VectorOperators.LSHL, 4).and(0x10)).selectFrom(lo0, loTop0)
                            .reinterpretAsFloats().fma(x0, acc0);
                    acc0 = b0.and(0x0F).or(hb0.lanewise(VectorOperators.LSHL, 4).and(0x10)).selectFrom(lo0, loTop0)
                            .reinterpretAsFloats().fma(x1, acc0);
                    acc0 = a0.lanewise(VectorOperators.LSHR, 4).or(ha0.lanewise(VectorOperators.LSHL, 3).and(0x10))
                            .selectFrom(hi0, hiTop0).reinterpretAsFloats().fma(x2, acc0);
                    acc0 = b0.lanewise(VectorOperators.LSHR, 4).or(hb0.lanewise(VectorOperators.LSHL, 3).and(0x10))
                            .selectFrom(hi0, hiTop0).reinterpretAsFloats().fma(x3, acc0);
                    long qs1 = at1 + 48 + 32L * group;
                    IntVector a1 = (IntVector) ByteVector.fromMemorySegment(B16, data, qs1, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
                    IntVector b1 = (IntVector) ByteVector.fromMemorySegment(B16, data, qs1 + 16, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
                    IntVector ha1 = ((IntVector) ByteVector.fromMemorySegment(B16, data, at1 + 16, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0)).lanewise(VectorOperators.LSHR, shift);
                    IntVector hb1 = ((IntVector) ByteVector.fromMemorySegment(B16, data, at1 + 32, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0)).lanewise(VectorOperators.LSHR, shift);
                    float sLo1 = table[16 + 2 * group];
                    float mLo1 = table[24 + 2 * group];
                    float sHi1 = table[16 + 2 * group + 1];
                    float mHi1 = table[24 + 2 * group + 1];
                    IntVector lo1 = LEVELS.mul(sLo1).sub(mLo1).reinterpretAsInts();
                    IntVector loTop1 = TOP_LEVELS.mul(sLo1).sub(mLo1).reinterpretAsInts();
                    IntVector hi1 = LEVELS.mul(sHi1).sub(mHi1).reinterpretAsInts();
                    IntVector hiTop1 = TOP_LEVELS.mul(sHi1).sub(mHi1).reinterpretAsInts();
                    acc1 = a1.and(0x0F).or(ha1.lanewise(VectorOperators.LSHL, 4).and(0x10)).selectFrom(lo1, loTop1)
                            .reinterpretAsFloats().fma(x0, acc1);
                    acc1 = b1.and(0x0F).or(hb1.lanewise(VectorOperators.LSHL, 4).and(0x10)).selectFrom(lo1, loTop1)
                            .reinterpretAsFloats().fma(x1, acc1);
                    acc1 = a1.lanewise(VectorOperators.LSHR, 4).or(ha1.lanewise(VectorOperators.LSHL, 3).and(0x10))
                            .selectFrom(hi1, hiTop1).reinterpretAsFloats().fma(x2, acc1);
                    acc1 = b1.lanewise(VectorOperators.LSHR, 4).or(hb1.lanewise(VectorOperators.LSHL, 3).and(0x10))
                            .selectFrom(hi1, hiTop1).reinterpretAsFloats().fma(x3, acc1);
                    long qs2 = at2 + 48 + 32L * group;
                    IntVector a2 = (IntVector) ByteVector.fromMemorySegment(B16, data, qs2, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
                    IntVector b2 = (IntVector) ByteVector.fromMemorySegment(B16, data, qs2 + 16, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
                    IntVector ha2 = ((IntVector) ByteVector.fromMemorySegment(B16, data, at2 + 16, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0)).lanewise(VectorOperators.LSHR, shift);
                    IntVector hb2 = ((IntVector) ByteVector.fromMemorySegment(B16, data, at2 + 32, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0)).lanewise(VectorOperators.LSHR, shift);
                    float sLo2 = table[32 + 2 * group];
                    float mLo2 = table[40 + 2 * group];
                    float sHi2 = table[32 + 2 * group + 1];
                    float mHi2 = table[40 + 2 * group + 1];
                    IntVector lo2 = LEVELS.mul(sLo2).sub(mLo2).reinterpretAsInts();
                    IntVector loTop2 = TOP_LEVELS.mul(sLo2).sub(mLo2).reinterpretAsInts();
                    IntVector hi2 = LEVELS.mul(sHi2).sub(mHi2).reinterpretAsInts();
                    IntVector hiTop2 = TOP_LEVELS.mul(sHi2).sub(mHi2).reinterpretAsInts();
                    acc2 = a2.and(0x0F).or(ha2.lanewise(VectorOperators.LSHL, 4).and(0x10)).selectFrom(lo2, loTop2)
                            .reinterpretAsFloats().fma(x0, acc2);
                    acc2 = b2.and(0x0F).or(hb2.lanewise(VectorOperators.LSHL, 4).and(0x10)).selectFrom(lo2, loTop2)
                            .reinterpretAsFloats().fma(x1, acc2);
                    acc2 = a2.lanewise(VectorOperators.LSHR, 4).or(ha2.lanewise(VectorOperators.LSHL, 3).and(0x10))
                            .selectFrom(hi2, hiTop2).reinterpretAsFloats().fma(x2, acc2);
                    acc2 = b2.lanewise(VectorOperators.LSHR, 4).or(hb2.lanewise(VectorOperators.LSHL, 3).and(0x10))
                            .selectFrom(hi2, hiTop2).reinterpretAsFloats().fma(x3, acc2);
                    long qs3 = at3 + 48 + 32L * group;
                    IntVector a3 = (IntVector) ByteVector.fromMemorySegment(B16, data, qs3, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
                    IntVector b3 = (IntVector) ByteVector.fromMemorySegment(B16, data, qs3 + 16, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
                    IntVector ha3 = ((IntVector) ByteVector.fromMemorySegment(B16, data, at3 + 16, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0)).lanewise(VectorOperators.LSHR, shift);
                    IntVector hb3 = ((IntVector) ByteVector.fromMemorySegment(B16, data, at3 + 32, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0)).lanewise(VectorOperators.LSHR, shift);
                    float sLo3 = table[48 + 2 * group];
                    float mLo3 = table[56 + 2 * group];
                    float sHi3 = table[48 + 2 * group + 1];
                    float mHi3 = table[56 + 2 * group + 1];
                    IntVector lo3 = LEVELS.mul(sLo3).sub(mLo3).reinterpretAsInts();
                    IntVector loTop3 = TOP_LEVELS.mul(sLo3).sub(mLo3).reinterpretAsInts();
                    IntVector hi3 = LEVELS.mul(sHi3).sub(mHi3).reinterpretAsInts();
                    IntVector hiTop3 = TOP_LEVELS.mul(sHi3).sub(mHi3).reinterpretAsInts();
                    acc3 = a3.and(0x0F).or(ha3.lanewise(VectorOperators.LSHL, 4).and(0x10)).selectFrom(lo3, loTop3)
                            .reinterpretAsFloats().fma(x0, acc3);
                    acc3 = b3.and(0x0F).or(hb3.lanewise(VectorOperators.LSHL, 4).and(0x10)).selectFrom(lo3, loTop3)
                            .reinterpretAsFloats().fma(x1, acc3);
                    acc3 = a3.lanewise(VectorOperators.LSHR, 4).or(ha3.lanewise(VectorOperators.LSHL, 3).and(0x10))
                            .selectFrom(hi3, hiTop3).reinterpretAsFloats().fma(x2, acc3);
                    acc3 = b3.lanewise(VectorOperators.LSHR, 4).or(hb3.lanewise(VectorOperators.LSHL, 3).and(0x10))
                            .selectFrom(hi3, hiTop3).reinterpretAsFloats().fma(x3, acc3);
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
}
