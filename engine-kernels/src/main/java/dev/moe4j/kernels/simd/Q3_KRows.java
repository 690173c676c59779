package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;
import static dev.moe4j.kernels.simd.Storage.half;

import dev.moe4j.kernels.Matrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mat-vec over Q3_K blocks ({@code uint8 hmask[32]; uint8 qs[64]; uint8 scales[12]; f16 d} for 256 weights, see
 * {@link dev.moe4j.kernels.quant.Q3_K}) with 16-lane registers, bit for bit as the scalar dequantiser:
 * w = (d·(scale − 32))·q. Other widths use {@link CodedFormats#Q3_K}.
 */
final class Q3_KRows {

    private static final int BLOCK = 256;
    private static final VectorSpecies<Float> F16 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I16 = IntVector.SPECIES_512;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /**
     * Lane i holds q for the index i = low | third bit · 4: low − 4 when the bit is clear, else low (lanes 8-15,
     * never indexed, repeat them).
     */
    private static final FloatVector LEVELS = FloatVector.fromArray(F16,
            new float[] {-4, -3, -2, -1, 0, 1, 2, 3, -4, -3, -2, -1, 0, 1, 2, 3}, 0);

    private Q3_KRows() {}

    /**
     * out[r] = w[r]·x for r in [rowStart, rowEnd), in {@link TileMatmul}'s canonical order: four rows per pass sharing
     * each load of x; a sub-block's 8 weight values are one vector, and each weight is looked up in it with one
     * permute, its index the 2 low bits from qs and the third bit from hmask. Written out with constant species and
     * no helper taking a vector: C2 boxes vectors passed to calls it does not inline.
     */
    static void matvec16(float[] out, Matrix w, float[] x, int rowStart, int rowEnd) {
        MemorySegment data = w.data();
        int blocks = w.cols() / BLOCK;
        float[] scales = new float[64]; // [4 rows][16 sub-blocks] d·(scale − 32)
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
                scales(data, at0, scales, 0);
                scales(data, at1, scales, 16);
                scales(data, at2, scales, 32);
                scales(data, at3, scales, 48);
                // weight 32k + l of half h: low bits 2k, 2k + 1 of qs[32h + l], third bit 4h + k of hmask[l]
                for (int half = 0; half < 2; half++) {
                    for (int k = 0; k < 4; k++) {
                        int low = 2 * k;
                        int high = 4 * half + k;
                        int s = 8 * half + 2 * k;
                        int c = block * BLOCK + 128 * half + 32 * k;
                        FloatVector x0 = FloatVector.fromArray(F16, x, c);
                        FloatVector x1 = FloatVector.fromArray(F16, x, c + 16);
                        IntVector qa0 = (IntVector) ByteVector.fromMemorySegment(B16, data, at0 + 32 + 32L * half, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0).lanewise(VectorOperators.LSHR, low);
                        IntVector qb0 = (IntVector) ByteVector.fromMemorySegment(B16, data, at0 + 48 + 32L * half, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0).lanewise(VectorOperators.LSHR, low);
                        IntVector ha0 = (IntVector) ByteVector.fromMemorySegment(B16, data, at0, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0).lanewise(VectorOperators.LSHL, 2)
                                .lanewise(VectorOperators.LSHR, high);
                        IntVector hb0 = (IntVector) ByteVector.fromMemorySegment(B16, data, at0 + 16, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0).lanewise(VectorOperators.LSHL, 2)
                                .lanewise(VectorOperators.LSHR, high);
                        acc0 = qa0.and(3).or(ha0.and(4)).selectFrom(LEVELS.mul(scales[0 + s]).reinterpretAsInts())
                                .reinterpretAsFloats().fma(x0, acc0);
                        acc0 = qb0.and(3).or(hb0.and(4)).selectFrom(LEVELS.mul(scales[0 + s + 1]).reinterpretAsInts())
                                .reinterpretAsFloats().fma(x1, acc0);
                        IntVector qa1 = (IntVector) ByteVector.fromMemorySegment(B16, data, at1 + 32 + 32L * half, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0).lanewise(VectorOperators.LSHR, low);
                        IntVector qb1 = (IntVector) ByteVector.fromMemorySegment(B16, data, at1 + 48 + 32L * half, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0).lanewise(VectorOperators.LSHR, low);
                        IntVector ha1 = (IntVector) ByteVector.fromMemorySegment(B16, data, at1, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0).lanewise(VectorOperators.LSHL, 2)
                                .lanewise(VectorOperators.LSHR, high);
                        IntVector hb1 = (IntVector) ByteVector.fromMemorySegment(B16, data, at1 + 16, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0).lanewise(VectorOperators.LSHL, 2)
                                .lanewise(VectorOperators.LSHR, high);
                        acc1 = qa1.and(3).or(ha1.and(4)).selectFrom(LEVELS.mul(scales[16 + s]).reinterpretAsInts())
                                .reinterpretAsFloats().fma(x0, acc1);
                        acc1 = qb1.and(3).or(hb1.and(4)).selectFrom(LEVELS.mul(scales[16 + s + 1]).reinterpretAsInts())
                                .reinterpretAsFloats().fma(x1, acc1);
                        IntVector qa2 = (IntVector) ByteVector.fromMemorySegment(B16, data, at2 + 32 + 32L * half, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0).lanewise(VectorOperators.LSHR, low);
                        IntVector qb2 = (IntVector) ByteVector.fromMemorySegment(B16, data, at2 + 48 + 32L * half, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0).lanewise(VectorOperators.LSHR, low);
                        IntVector ha2 = (IntVector) ByteVector.fromMemorySegment(B16, data, at2, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0).lanewise(VectorOperators.LSHL, 2)
                                .lanewise(VectorOperators.LSHR, high);
                        IntVector hb2 = (IntVector) ByteVector.fromMemorySegment(B16, data, at2 + 16, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0).lanewise(VectorOperators.LSHL, 2)
                                .lanewise(VectorOperators.LSHR, high);
                        acc2 = qa2.and(3).or(ha2.and(4)).selectFrom(LEVELS.mul(scales[32 + s]).reinterpretAsInts())
                                .reinterpretAsFloats().fma(x0, acc2);
                        acc2 = qb2.and(3).or(hb2.and(4)).selectFrom(LEVELS.mul(scales[32 + s + 1]).reinterpretAsInts())
                                .reinterpretAsFloats().fma(x1, acc2);
                        IntVector qa3 = (IntVector) ByteVector.fromMemorySegment(B16, data, at3 + 32 + 32L * half, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0).lanewise(VectorOperators.LSHR, low);
                        IntVector qb3 = (IntVector) ByteVector.fromMemorySegment(B16, data, at3 + 48 + 32L * half, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0).lanewise(VectorOperators.LSHR, low);
                        IntVector ha3 = (IntVector) ByteVector.fromMemorySegment(B16, data, at3, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0).lanewise(VectorOperators.LSHL, 2)
                                .lanewise(VectorOperators.LSHR, high);
                        IntVector hb3 = (IntVector) ByteVector.fromMemorySegment(B16, data, at3 + 16, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0).lanewise(VectorOperators.LSHL, 2)
                                .lanewise(VectorOperators.LSHR, high);
                        acc3 = qa3.and(3).or(ha3.and(4)).selectFrom(LEVELS.mul(scales[48 + s]).reinterpretAsInts())
                                .reinterpretAsFloats().fma(x0, acc3);
                        acc3 = qb3.and(3).or(hb3.and(4)).selectFrom(LEVELS.mul(scales[48 + s + 1]).reinterpretAsInts())
                                .reinterpretAsFloats().fma(x1, acc3);
                    }
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

    /** d·(scale − 32) of the block at {@code at}'s sixteen sub-blocks into scales[off, off + 16). */
    private static void scales(MemorySegment data, long at, float[] scales, int off) {
        float d = half(data, at + 108);
        long nibbles = data.get(Storage.LE_LONG, at + 96);
        int tops = data.get(Storage.LE_INT, at + 104);
        for (int s = 0; s < 16; s++) {
            int low = (int) (nibbles >>> 8 * (s % 8) + 4 * (s / 8)) & 0x0F;
            int high = tops >>> 8 * (s % 4) + 2 * (s / 4) & 3;
            scales[off + s] = d * ((low | high << 4) - 32);
        }
    }
}
